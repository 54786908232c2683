"""``drain_on_stop``: a graceful stop first handles the messages already queued, bounded by the
drain period and the shutdown timeout; what is left is logged with a count and recorded as dead
letters (queued asks fail with ActorDead). MockClock throughout."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

from qgactor.runtime import Actor, ActorDead, Mailbox, Restart, open_actor_nursery


class Slow(Actor):
    """Takes ``cost`` seconds per message; records what it handled and whether it was stopping."""

    def __init__(self, cost: float, log: list[Any], stopping: list[bool] | None = None) -> None:
        self.cost = cost
        self.log = log
        self.stopping = stopping

    async def receive(self, msg: Any) -> Any:
        if self.stopping is not None:
            self.stopping.append(self.ctx.stopping)
        await trio.sleep(self.cost)
        if msg == "boom":
            raise ValueError("boom while draining")
        self.log.append(msg)
        return f"done {msg}"


async def _queue(ref: Any, msgs: list[Any]) -> None:
    for m in msgs:
        assert ref.tell_nowait(m)


async def test_without_drain_queued_messages_become_dead_letters(autojump_clock: trio.testing.MockClock) -> None:
    handled: list[Any] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, 1.0, handled, name="slow", restart=Restart.TEMPORARY)
        await _queue(ref, [1, 2, 3, 4])
        await trio.sleep(0.5)  # 1 is being handled
        await an.stop(ref)
        assert handled == [1]
        assert [d.message for d in an.dead_letters] == [2, 3, 4]


async def test_graceful_stop_drains_the_mailbox_in_order(autojump_clock: trio.testing.MockClock,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    handled: list[Any] = []
    stopping: list[bool] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, 1.0, handled, stopping, name="slow", restart=Restart.TEMPORARY,
                             drain_on_stop=10.0, shutdown=20.0)
        await _queue(ref, [1, 2, 3, 4])
        await trio.sleep(0.5)
        t0 = trio.current_time()
        await an.stop(ref)
        assert trio.current_time() - t0 == pytest.approx(3.5)  # 1 finishes, then 2, 3, 4
        assert handled == [1, 2, 3, 4] and not ref.alive
        assert stopping == [False, True, True, True]  # ctx.stopping while draining
        assert list(an.dead_letters) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_drain_period_bounds_it_and_the_rest_is_counted_and_dead_lettered(
        autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture) -> None:
    handled: list[Any] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, 1.0, handled, name="slow", restart=Restart.TEMPORARY,
                             drain_on_stop=2.5, shutdown=20.0)
        await _queue(ref, [1, 2, 3, 4, 5, 6])
        await trio.sleep(0.5)
        t0 = trio.current_time()
        async with trio.open_nursery() as nursery:
            asked: list[BaseException] = []

            async def late_ask() -> None:
                try:
                    await ref.ask(7, timeout=None)
                except ActorDead as exc:
                    asked.append(exc)

            nursery.start_soon(late_ask)
            await trio.sleep(0)
            await an.stop(ref)
        # 1 finishes at +0.5; the drain period (2.5 s) then covers 2 and 3 and cuts 4 at +3.0
        assert trio.current_time() - t0 == pytest.approx(3.0)
        assert handled == [1, 2, 3]
        assert [d.message for d in an.dead_letters] == [4, 5, 6]  # 4 was cut mid-way; 7 is an ask
        assert len(asked) == 1  # the queued ask failed at once, not at its timeout
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("drain period of 2.5s ran out after 2 message(s) with 4 unhandled" in w for w in warnings)
    assert any("stopped for good with 3 message(s) unhandled" in w for w in warnings)


async def test_shutdown_timeout_bounds_drain_true(autojump_clock: trio.testing.MockClock,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    handled: list[Any] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, 1.0, handled, name="slow", restart=Restart.TEMPORARY,
                             drain_on_stop=True, shutdown=2.7)
        await _queue(ref, [1, 2, 3, 4, 5])
        await trio.sleep(0.5)
        t0 = trio.current_time()
        await an.stop(ref)
        assert trio.current_time() - t0 == pytest.approx(2.7)  # cancelled at its shutdown timeout
        assert handled == [1, 2, 3]
        assert [d.message for d in an.dead_letters] == [4, 5]
    assert any("stopped for good with 1 message(s) unhandled" in r.getMessage() for r in caplog.records)


async def test_messages_of_blocked_senders_and_asks_are_handled_while_draining(
        autojump_clock: trio.testing.MockClock) -> None:
    handled: list[Any] = []
    replies: list[Any] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, 1.0, handled, name="slow", restart=Restart.TEMPORARY,
                             drain_on_stop=30.0, shutdown=60.0, mailbox=Mailbox(capacity=2))
        async with trio.open_nursery() as nursery:
            async def sender() -> None:
                for m in range(1, 6):
                    await ref.tell(m)  # blocks on the full mailbox (BACKPRESSURE)

            async def asker() -> None:
                replies.append(await ref.ask("q", timeout=None))

            nursery.start_soon(sender)
            await trio.sleep(0.5)
            nursery.start_soon(asker)
            await trio.sleep(0.1)
            await an.stop(ref)
        assert sorted(map(str, handled)) == ["1", "2", "3", "4", "5", "q"]  # none lost
        assert replies == ["done q"]
        assert list(an.dead_letters) == []


async def test_leaving_the_nursery_drains_a_consumer_after_its_producer_stopped(
        autojump_clock: trio.testing.MockClock) -> None:
    """The bot's case: the producer started after the consumer stops first (reverse order)."""
    handled: list[Any] = []

    class Producer(Actor):
        def __init__(self, sink: Any) -> None:
            self.sink = sink

        async def receive(self, msg: Any) -> Any:
            for i in range(msg):
                await self.sink.tell(i)

    async with open_actor_nursery() as an:
        consumer = await an.spawn(Slow, 0.1, handled, name="consumer", drain_on_stop=5.0)
        producer = await an.spawn(Producer, consumer, name="producer")
        await producer.ask(20)
        assert len(handled) < 20
    assert handled == list(range(20))
    assert list(an.dead_letters) == []


async def test_a_crash_while_draining_is_a_crash(autojump_clock: trio.testing.MockClock) -> None:
    handled: list[Any] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, 1.0, handled, name="slow", restart=Restart.TEMPORARY,
                             drain_on_stop=10.0, shutdown=20.0)
        await _queue(ref, [1, "boom", 3])
        await trio.sleep(0.5)
        await an.stop(ref)
        assert handled == [1]
        letters = list(an.dead_letters)
        assert [(d.message, d.reason) for d in letters] == [("boom", "crash"), (3, "stopped")]
        assert isinstance(letters[0].error, ValueError)
        assert ref.exit_reason is not None and ref.exit_reason.is_crash


def test_drain_on_stop_values() -> None:
    from qgactor.runtime import ChildSpec

    assert ChildSpec(Slow).drain_on_stop is None
    assert ChildSpec(Slow, drain_on_stop=True).drain_on_stop == float("inf")
    assert ChildSpec(Slow, drain_on_stop=False).drain_on_stop is None
    assert ChildSpec(Slow, drain_on_stop=3).drain_on_stop == 3.0
    with pytest.raises(ValueError, match="drain_on_stop must be >= 0"):
        ChildSpec(Slow, drain_on_stop=-1)

