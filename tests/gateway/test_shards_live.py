"""Sharding against the emulator: routing with 2 and 4 shards in one process, auto, session budget."""

from __future__ import annotations

import attrs
import pytest
import trio

from gw_helpers import FAST, gateway_env
from qgactor.bot.gateway import SessionStartLimitError
from qgactor.runtime import RestartIntensityExceeded


@pytest.mark.parametrize("count", [2, 4])
async def test_events_are_routed_to_their_guilds_shard_exactly_once(count: int) -> None:
    async with gateway_env(max_concurrency=count) as env:
        await env.start_gateway(shards=count)
        st = await env.wait_status(lambda s: s["connected"] == count)
        assert len(set(st["session_ids"])) == count
        sessions = (await env.emu.control.sessions())["sessions"]
        assert sorted(tuple(s["shard"]) for s in sessions) == [(i, count) for i in range(count)]
        keys = [str((k << 22) + 12345) for k in range(3 * count)]
        sent = []
        for key in keys:
            r = await env.emu.control.inject_event("AT_MESSAGE_CREATE", {"guild_id": key, "content": key},
                                                   shard_key=key)
            sent.append((key, r["id"]))
        await env.box.wait_for(lambda evs: len([e for e in evs if e.name == "AT_MESSAGE_CREATE"]) == len(keys))
        await trio.sleep(0.05)  # nothing more arrives (no duplicates across shards)
        got = env.box.named("AT_MESSAGE_CREATE")
        assert len(got) == len(keys)
        by_id = {e.event_id: e for e in got}
        for key, eid in sent:
            assert by_id[eid].shard == ((int(key) >> 22) % count, count)
        assert {e.shard[0] for e in got} == set(range(count))


async def test_auto_shards_use_the_platforms_recommendation() -> None:
    async with gateway_env(recommended_shards=3, max_concurrency=3) as env:
        await env.start_gateway(shards="auto")
        st = await env.wait_status(lambda s: s["connected"] == 3)
        assert st["shard_count"] == 3
        assert [s["shard"] for s in st["shards"]] == [[0, 3], [1, 3], [2, 3]]


async def test_refuses_to_start_when_the_session_budget_is_too_low() -> None:
    with pytest.raises(BaseException) as info:
        async with gateway_env(session_start_total=1, root_restarts=0) as env:
            await env.start_gateway(shards=2)
            await trio.sleep(10)  # the failure cancels this
    failure = info.value
    while isinstance(failure, BaseExceptionGroup) and len(failure.exceptions) == 1:
        failure = failure.exceptions[0]
    if isinstance(failure, RestartIntensityExceeded):
        failure = failure.__cause__
    assert isinstance(failure, SessionStartLimitError), repr(failure)
    assert "2 shard(s)" in str(failure) and "only 1 more" in str(failure)


async def test_identifies_are_staggered_by_max_concurrency() -> None:
    # 4 shards, max_concurrency 2 per 0.3 s window: identifies at ~0, 0, 0.3, 0.3 s
    async with gateway_env(max_concurrency=2) as env:
        t0 = trio.current_time()
        await env.start_gateway(shards=4, options=attrs.evolve(FAST, identify_period=0.3))
        await env.wait_status(lambda s: s["connected"] >= 2, timeout=5.0)
        early = trio.current_time() - t0
        st = await env.status()
        assert st["connected"] == 2 or early >= 0.3
        await env.wait_status(lambda s: s["connected"] == 4, timeout=5.0)
        assert trio.current_time() - t0 >= 0.3


async def test_sockets_open_only_when_their_identify_may_be_sent() -> None:
    # 3 shards, one Identify per 0.3 s: a shard waiting for its turn holds no idle socket
    # (which would send neither Identify nor heartbeats and may be closed by the platform)
    async with gateway_env(max_concurrency=1) as env:
        await env.start_gateway(shards=3, options=attrs.evolve(FAST, identify_period=0.3))
        idle_sockets = []
        with trio.fail_after(5):
            while True:
                st = await env.emu.control.sessions()
                identified = sum(1 for s in st["sessions"] if s["connected"])
                idle_sockets.append(st["connections"] - identified)
                if identified == 3:
                    break
                await trio.sleep(0.01)
        assert max(idle_sockets) <= 1, idle_sockets
