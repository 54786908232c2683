"""Mailboxes, refs across restarts, dead letters and ask failure modes (issue items 5-7)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from kernel_helpers import wait_until
from qgactor.runtime import (
    Actor,
    ActorDead,
    ActorError,
    Backoff,
    ChildSpec,
    Mailbox,
    MailboxFull,
    Overflow,
    Restart,
    open_actor_nursery,
)


class Gate(Actor):
    """Blocks in ``receive`` until the shared event is set; records what it handled."""

    def __init__(self, gate: trio.Event, seen: list[Any]) -> None:
        self.gate = gate
        self.seen = seen

    async def receive(self, msg: Any) -> Any:
        await self.gate.wait()
        self.seen.append(msg)
        return msg


async def _blocked(an: Any, overflow: Overflow, seen: list[Any], gate: trio.Event) -> Any:
    ref = await an.spawn(Gate, gate, seen, name=f"gate-{overflow.value}",
                         mailbox=Mailbox(capacity=2, overflow=overflow))
    await ref.tell(0)  # taken by receive, which blocks on the gate
    await wait_until(lambda: ref.mailbox_depth == 0)
    await ref.tell(1)
    await ref.tell(2)
    assert ref.mailbox_depth == 2
    return ref


async def test_overflow_drop_newest() -> None:
    gate, seen = trio.Event(), []
    async with open_actor_nursery() as an:
        ref = await _blocked(an, Overflow.DROP_NEWEST, seen, gate)
        await ref.tell(3)
        assert ref.tell_nowait(4) is False
        with pytest.raises(MailboxFull):  # an ask is never dropped silently
            await ref.ask(5)
        assert ref.dropped == 3 and ref.mailbox_depth == 2
        gate.set()
        await wait_until(lambda: len(seen) == 3)
        assert seen == [0, 1, 2]
        # silently dropped tells become dead letters; the refused ask raised to its sender instead
        assert [d.message for d in an.dead_letters] == [3, 4]
        assert {d.reason for d in an.dead_letters} == {"dropped"}


async def test_overflow_drop_oldest_fails_evicted_ask() -> None:
    gate, seen = trio.Event(), []
    async with open_actor_nursery() as an:
        ref = await _blocked(an, Overflow.DROP_OLDEST, seen, gate)
        result: list[Any] = []

        async def asker() -> None:
            try:
                await ref.ask("q")
            except MailboxFull as exc:
                result.append(exc)

        async with trio.open_nursery() as n:
            await ref.tell(3)  # evicts 1 -> [2, 3]
            n.start_soon(asker)  # evicts 2 -> [3, q]
            await wait_until(lambda: ref.mailbox_depth == 2 and ref.dropped == 2)
            assert ref.tell_nowait(4) is True  # evicts 3 -> [q, 4]
            await ref.tell(5)  # evicts q -> [4, 5]: the asker gets MailboxFull
        assert len(result) == 1
        gate.set()
        await wait_until(lambda: len(seen) == 3)
        assert seen == [0, 4, 5]
        assert ref.dropped == 4
        assert [d.message for d in an.dead_letters] == [1, 2, 3, "q"]


async def test_overflow_fail() -> None:
    gate, seen = trio.Event(), []
    async with open_actor_nursery() as an:
        ref = await _blocked(an, Overflow.FAIL, seen, gate)
        with pytest.raises(MailboxFull, match="full"):
            await ref.tell(3)
        with pytest.raises(MailboxFull):
            ref.tell_nowait(3)
        with pytest.raises(MailboxFull):
            await ref.ask(3)
        assert ref.dropped == 3
        gate.set()


async def test_overflow_backpressure_waits_in_order() -> None:
    gate, seen = trio.Event(), []
    async with open_actor_nursery() as an:
        ref = await _blocked(an, Overflow.BACKPRESSURE, seen, gate)
        assert ref.tell_nowait(99) is False
        sent: list[int] = []

        async def sender(i: int) -> None:
            await ref.tell(i)
            sent.append(i)

        async with trio.open_nursery() as n:
            for i in (3, 4, 5):
                n.start_soon(sender, i)
                await wait_until(lambda: ref._putters is not None and len(ref._putters) == i - 2)
            assert sent == []  # all blocked
            with trio.move_on_after(0.01):  # a cancelled blocked tell sends nothing
                await ref.tell(100)
            gate.set()
        await wait_until(lambda: len(seen) == 6)
        assert seen == [0, 1, 2, 3, 4, 5]
        assert ref.snapshot().dropped == 1


async def test_ref_survives_restart_and_messages_wait(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[Any] = []
    starts: list[float] = []

    class Worker(Actor):
        async def on_start(self) -> None:
            starts.append(trio.current_time())

        async def receive(self, msg: Any) -> Any:
            if msg == "crash":
                raise RuntimeError("worker failed")
            seen.append(msg)
            return msg

    backoff = Backoff(initial=3.0, jitter=0.0)
    async with open_actor_nursery(backoff=backoff) as an:
        ref = await an.spawn(Worker, name="w", mailbox=Mailbox(capacity=10))
        await ref.tell("crash")
        await ref.tell("a")  # may still be queued behind the crash: not lost
        await wait_until(lambda: ref.state == "restarting", timeout=10)
        for m in "bcd":
            await ref.tell(m)  # tell never raises while the target restarts
        assert ref.tell_nowait("e") is True
        assert ref.mailbox_depth >= 4 and ref.alive
        assert await ref.ask("f", timeout=10) == "f"  # answered by the new incarnation
        assert seen == list("abcdef")
        assert starts[1] - starts[0] == pytest.approx(3.0, abs=0.01)
        assert an.lookup("w") is ref and ref.restarts == 1
        letters = list(an.dead_letters)
        assert len(letters) == 1 and letters[0].message == "crash" and letters[0].reason == "crash"
        assert isinstance(letters[0].error, RuntimeError)
        assert "crash" not in repr(letters[0]) or "message_type=str" in repr(letters[0])


async def test_ask_fails_at_once_when_target_dies() -> None:
    gate = trio.Event()

    class Slow(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "block":
                await gate.wait()
            return msg

    async with open_actor_nursery() as an:
        ref = await an.spawn(ChildSpec(Slow, name="slow", restart=Restart.TEMPORARY, shutdown=0.01))
        await ref.tell("block")
        errors: list[BaseException] = []

        async def asker() -> None:
            try:
                await ref.ask("queued", timeout=60)
            except ActorDead as exc:
                errors.append(exc)

        with trio.fail_after(5):  # "at once": not after the 60 s ask timeout
            async with trio.open_nursery() as n:
                n.start_soon(asker)
                await wait_until(lambda: ref.mailbox_depth == 1)
                await an.stop(ref)  # stuck actor: cancelled after 0.01 s
        assert len(errors) == 1 and "slow" in str(errors[0])


async def test_ask_handled_at_crash_gets_actor_error_others_survive() -> None:
    gate = trio.Event()

    class Boom(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "hold":
                await gate.wait()
            if msg == "boom":
                raise LookupError("no such thing")
            return msg

    async with open_actor_nursery(backoff=None) as an:
        ref = await an.spawn(Boom, name="boom")
        await ref.tell("hold")
        await wait_until(lambda: ref.mailbox_depth == 0)
        results: dict[str, Any] = {}

        async def ask(m: str) -> None:
            try:
                results[m] = await ref.ask(m)
            except ActorError as exc:
                results[m] = exc

        async with trio.open_nursery() as n:
            n.start_soon(ask, "boom")
            await wait_until(lambda: ref.mailbox_depth == 1)
            n.start_soon(ask, "after")
            await wait_until(lambda: ref.mailbox_depth == 2)
            gate.set()
        assert isinstance(results["boom"], ActorError)
        assert isinstance(results["boom"].error, LookupError)
        assert results["after"] == "after"  # queued behind the crash, answered after restart


async def test_late_reply_is_dropped_without_harming_replier() -> None:
    release = trio.Event()

    class Late(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "late":
                await release.wait()
            return msg

    async with open_actor_nursery() as an:
        ref = await an.spawn(Late, name="late")
        with trio.move_on_after(0.01):
            await ref.ask("late")
        release.set()
        assert await ref.ask("next") == "next"
        assert ref.processed == 2 and ref.restarts == 0


def test_mailbox_validation() -> None:
    with pytest.raises(ValueError):
        Mailbox(capacity=0)


@pytest.mark.parametrize("overflow", [Overflow.DROP_NEWEST, Overflow.DROP_OLDEST, Overflow.FAIL])
async def test_sender_looping_on_full_mailbox_does_not_starve_the_actor(overflow: Overflow) -> None:
    class Counter(Actor):
        async def receive(self, msg: Any) -> Any:
            return msg

    async with open_actor_nursery() as an:
        ref = await an.spawn(Counter, name="c", mailbox=Mailbox(capacity=1, overflow=overflow))
        for i in range(2000):
            try:
                await ref.tell(i)
            except MailboxFull:
                pass
        # every tell is a checkpoint, so the actor ran in between instead of only at the end
        assert ref.processed > 100
        assert ref.processed + ref.dropped + ref.mailbox_depth == 2000
