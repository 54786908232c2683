"""The gateway actors against the emulator over loopback: connect, heartbeat, recover, stop."""

from __future__ import annotations

import attrs
import pytest
import trio

from qgactor.bot.gateway import GatewayFatalError
from qgactor.runtime import RestartIntensityExceeded

from gw_helpers import FAST, gateway_env


async def test_identifies_and_dispatches_with_shard_and_event_id() -> None:
    async with gateway_env() as env:
        await env.start_gateway()
        st = await env.wait_status(lambda s: s["connected"] == 1)
        assert st["shard_count"] == 1 and st["session_ids"][0]
        sent = await env.emu.control.send_message("guild", "hello")
        await env.box.wait_for(lambda evs: any(e.name == "AT_MESSAGE_CREATE" for e in evs))
        ev = env.box.named("AT_MESSAGE_CREATE")[0]
        assert ev.event_id == sent["event_id"] and ev.data["id"] == sent["message_id"]
        assert ev.shard == (0, 1) and ev.transport == "websocket" and ev.seq and ev.seq > 1
        assert [e.name for e in env.box.events][0] == "READY"


async def test_heartbeats_follow_the_hello_interval_and_are_acked() -> None:
    async with gateway_env(heartbeat_interval_ms=50, heartbeat_timeout=1.0) as env:
        await env.start_gateway()
        st = await env.wait_status(lambda s: s["shards"][0]["heartbeat_acks"] >= 4, timeout=5.0)
        shard = st["shards"][0]
        assert shard["heartbeat_interval"] == pytest.approx(0.05)
        assert shard["zombies"] == 0 and shard["reconnects"] == 0, shard
        sessions = await env.emu.control.wait_for_sessions(1)
        assert len(sessions) == 1 and sessions[0]["session_id"] == st["session_ids"][0]


async def test_missing_acks_make_a_zombie_that_resumes_without_losing_events() -> None:
    async with gateway_env(heartbeat_interval_ms=50) as env:
        await env.start_gateway()
        st = await env.wait_status(lambda s: s["connected"] == 1)
        sid = st["session_ids"][0]
        await env.emu.control.stop_acks()
        sent = [await env.emu.control.send_message("guild", f"m{i}") for i in range(5)]
        await env.wait_status(lambda s: s["zombies"] >= 1, timeout=5.0)
        await env.emu.control.resume_acks()
        st = await env.wait_status(lambda s: s["connected"] == 1 and s["shards"][0]["resumes"] >= 1)
        assert st["session_ids"][0] == sid
        ids = [s["message_id"] for s in sent]
        await env.box.wait_for(lambda evs: {e.data.get("id") for e in evs if e.name == "AT_MESSAGE_CREATE"} >= set(ids))
        got = [e.data["id"] for e in env.box.named("AT_MESSAGE_CREATE")]
        assert got == ids


async def test_slow_dispatcher_never_delays_heartbeats() -> None:
    # a sink that takes 50 ms per event with a mailbox of 1: reading is held by backpressure
    # for ~2 s while heartbeats (every 100 ms) must keep the session alive without zombie closes
    async with gateway_env(heartbeat_interval_ms=100, heartbeat_timeout=1.5, sink_delay=0.05, sink_capacity=1) as env:
        await env.start_gateway()
        await env.wait_status(lambda s: s["connected"] == 1)
        before = (await env.status())["heartbeats"]
        for i in range(40):
            await env.emu.control.send_message("guild", f"slow{i}")
        await env.box.wait_for(lambda evs: len([e for e in evs if e.name == "AT_MESSAGE_CREATE"]) == 40, timeout=15)
        st = await env.status()
        assert (st["zombies"], st["reconnects"]) == (0, 0), st
        assert st["heartbeats"] - before >= 10, st


@pytest.mark.parametrize("kind", ["drop", "reconnect", "close4009", "close4008"])
async def test_resumable_faults_resume_the_same_session(kind: str) -> None:
    async with gateway_env() as env:
        await env.start_gateway()
        st = await env.wait_status(lambda s: s["connected"] == 1)
        sid = st["session_ids"][0]
        c = env.emu.control
        if kind == "drop":
            await c.drop()
        elif kind == "reconnect":
            await c.reconnect()
        else:
            await c.close(int(kind[5:]))
        sent = await c.send_message("guild", "after fault")
        st = await env.wait_status(lambda s: s["connected"] == 1 and s["shards"][0]["resumes"] == 1)
        assert st["session_ids"][0] == sid and st["shards"][0]["identifies"] == 1
        await env.box.wait_for(lambda evs: any(e.event_id == sent["event_id"] for e in evs))
        assert len([e for e in env.box.events if e.event_id == sent["event_id"]]) == 1


IDENTIFY_CLASS = [4000, 4003, 4005, 4006, 4007, 4900, 4905, 4913]


@pytest.mark.parametrize("code", ["op9", *IDENTIFY_CLASS])
async def test_identify_class_faults_come_back_with_a_new_session(code) -> None:
    async with gateway_env() as env:
        await env.start_gateway()
        st = await env.wait_status(lambda s: s["connected"] == 1)
        old = st["session_ids"][0]
        t0 = trio.current_time()
        if code == "op9":
            await env.emu.control.invalid_session()
        else:
            await env.emu.control.close(code)
        st = await env.wait_status(lambda s: s["connected"] == 1 and s["session_ids"][0] not in (None, old))
        assert trio.current_time() - t0 < 2.0  # within the (test) backoff
        assert st["shards"][0]["identifies"] == 2 and st["shards"][0]["resumes"] == 0
        sent = await env.emu.control.send_message("guild", "back online")
        await env.box.wait_for(lambda evs: any(e.event_id == sent["event_id"] for e in evs))


async def test_4004_refreshes_the_token_then_identifies() -> None:
    async with gateway_env() as env:
        await env.start_gateway()
        await env.wait_status(lambda s: s["connected"] == 1)
        fetched = env.tokens.fetch_count
        await env.emu.control.close(4004)
        st = await env.wait_status(lambda s: s["connected"] == 1 and s["shards"][0]["identifies"] == 2)
        assert env.tokens.fetch_count == fetched + 1
        assert st["shards"][0]["last_close_code"] == 4004


FATAL = [4001, 4002, 4010, 4011, 4012, 4013, 4014, 4914, 4915]


@pytest.mark.parametrize("code", FATAL)
async def test_fatal_close_codes_stop_the_bot_with_a_clear_error(code: int) -> None:
    with pytest.raises(BaseException) as info:
        async with gateway_env(root_restarts=1) as env:
            await env.start_gateway()
            await env.wait_status(lambda s: s["connected"] == 1)
            await env.emu.control.close(code)
            await trio.sleep(10)  # the failure cancels this
    failure = info.value
    while isinstance(failure, BaseExceptionGroup) and len(failure.exceptions) == 1:
        failure = failure.exceptions[0]  # the emulator's nursery wraps what leaves the block
    assert isinstance(failure, RestartIntensityExceeded), repr(failure)
    cause = failure.__cause__
    while cause is not None and not isinstance(cause, GatewayFatalError):
        cause = cause.__cause__
    assert isinstance(cause, GatewayFatalError) and cause.code == code
    assert str(code) in str(cause)


async def test_bad_frames_from_the_wire_are_logged_counted_and_the_connection_stays_up(caplog) -> None:
    async with gateway_env() as env:
        await env.start_gateway(options=attrs.evolve(FAST, max_frame_size=4000))
        st = await env.wait_status(lambda s: s["connected"] == 1)
        sid = st["session_ids"][0]
        c = env.emu.control
        await c.inject_event("NO_SUCH_EVENT", {"x": 1}, raw=True)  # unknown event name
        await c.inject_event("AT_MESSAGE_CREATE", [1, 2], raw=True)  # d is not an object
        await c.send_message("guild", "x" * 5000)  # oversized for this gateway
        good = await c.send_message("guild", "still here")
        await env.box.wait_for(lambda evs: any(e.event_id == good["event_id"] for e in evs))
        st = await env.status()
        assert st["bad_frames"] == 3 and st["session_ids"][0] == sid and st["reconnects"] == 0
        assert [e.name for e in env.box.events] == ["READY", "AT_MESSAGE_CREATE"]
        bad_logs = [r.getMessage() for r in caplog.records if "bad frame" in r.getMessage()]
        assert len(bad_logs) == 3
        assert "unknown event name 'NO_SUCH_EVENT'" in bad_logs[0] and '"NO_SUCH_EVENT"' in bad_logs[0]
        assert "not an object" in bad_logs[1] and "oversized" in bad_logs[2]


async def test_unreachable_token_endpoint_backs_off_and_recovers() -> None:
    from qgactor.bot.gateway import gateway_spec
    from qgactor.qq import TokenSource

    async with gateway_env() as env:
        bad = TokenSource(env.emu.appid, env.emu.secret, token_url="http://127.0.0.1:9/app/getAppAccessToken",
                          attempts=1, timeout=0.5)
        await env.system.spawn(gateway_spec(api=env.api, token_source=bad, intents=1 << 30, shards=1,
                                            sink=env.sink, options=FAST))
        st = await env.wait_status(lambda s: s["reconnects"] >= 3, timeout=10.0)
        assert st["connected"] == 0 and st["shards"][0]["identifies"] == 0  # never sent Identify without a token
        bad.token_url = env.emu.token_url  # the token endpoint comes back
        await env.wait_status(lambda s: s["connected"] == 1, timeout=10.0)


async def test_rejected_credentials_stop_the_bot_with_the_auth_error() -> None:
    from qgactor.bot.gateway import gateway_spec
    from qgactor.qq import TokenSource

    with pytest.raises(BaseException) as info:
        async with gateway_env(root_restarts=0) as env:
            wrong = TokenSource(env.emu.appid, "not-the-secret", token_url=env.emu.token_url)
            await env.system.spawn(gateway_spec(api=env.api, token_source=wrong, intents=1 << 30, shards=1,
                                                sink=env.sink, options=FAST))
            await trio.sleep(30)  # the failure cancels this
    chain, exc = [], info.value
    while exc is not None:
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        chain.append(exc)
        exc = exc.__cause__
    fatal = [e for e in chain if isinstance(e, GatewayFatalError)]
    assert fatal and "rejected the bot's credentials" in str(fatal[0]) and "appid or secret" in str(fatal[0])
    assert "not-the-secret" not in str(fatal[0])


RAW_BAD = [
    ("not json at all", "invalid JSON"),
    ('{"op": 42, "d": null}', "unknown opcode 42"),
    ("[1, 2, 3]", "not an object"),
    ('{"op": 0, "t": "AT_MESSAGE_CREATE", "d": {"id": "x"}, "s": "7"}', "non-integer 's'"),
    ('{"op": "10"}', "non-integer 'op'"),
    ('{"op": 11}', None),  # an ACK nobody asked for is harmless, not a bad frame
]


async def test_raw_garbage_frames_are_logged_with_the_frame_counted_and_harmless(caplog) -> None:
    async with gateway_env() as env:
        await env.start_gateway()
        st = await env.wait_status(lambda s: s["connected"] == 1)
        sid = st["session_ids"][0]
        for text, _ in RAW_BAD:
            hit = await env.emu.control.send_raw_frame(text)
            assert hit["connections"] == 1
        good = await env.emu.control.send_message("guild", "still here")
        await env.box.wait_for(lambda evs: any(e.event_id == good["event_id"] for e in evs))
        st = await env.status()
        expected = [why for _, why in RAW_BAD if why]
        assert st["bad_frames"] == len(expected) and st["reconnects"] == 0 and st["session_ids"][0] == sid
        logs = [r.getMessage() for r in caplog.records if "bad frame" in r.getMessage()]
        assert len(logs) == len(expected)
        for (text, why), line in zip([b for b in RAW_BAD if b[1]], logs):
            assert why in line and text in line  # the reason and the raw frame
        assert [e.name for e in env.box.events] == ["READY", "AT_MESSAGE_CREATE"]
