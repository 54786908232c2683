"""Shard planning from GET /gateway/bot and Identify pacing (MockClock)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from qgactor.bot.gateway.shards import IdentifyGate, SessionStartLimitError, plan_shards


def info(shards=3, remaining=10, mc=2):
    return {"url": "ws://x/websocket", "shards": shards,
            "session_start_limit": {"total": 1000, "remaining": remaining, "reset_after": 7_200_000,
                                    "max_concurrency": mc}}


def test_auto_uses_the_recommendation_and_fixed_counts_are_kept() -> None:
    plan = plan_shards(info(), "auto")
    assert (plan.url, plan.count, plan.max_concurrency, plan.remaining) == ("ws://x/websocket", 3, 2, 10)
    assert plan_shards(info(), 2).count == 2
    assert plan_shards(info(), 1, url_override="ws://other").url == "ws://other"


def test_refuses_to_start_when_remaining_is_too_low() -> None:
    with pytest.raises(SessionStartLimitError, match=r"4 shard\(s\).*only 3 more.*2.0 h"):
        plan_shards(info(remaining=3), 4)
    with pytest.raises(SessionStartLimitError):
        plan_shards(info(shards=2, remaining=0), "auto")


@pytest.mark.parametrize("bad", [0, -1, "three", True, 1.5])
def test_bad_shard_values(bad) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        plan_shards(info(), bad)


def test_missing_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no websocket url"):
        plan_shards({"shards": 1}, "auto")


async def test_identify_gate_paces_by_max_concurrency(autojump_clock) -> None:
    gate = IdentifyGate(max_concurrency=2, period=5.0)
    times = []

    async def identify():
        await gate.wait()
        times.append(trio.current_time())

    async with trio.open_nursery() as n:
        for _ in range(5):
            n.start_soon(identify)
    assert sorted(times) == [0.0, 0.0, 5.0, 5.0, 10.0]
