"""Bad use gets a clear error (what is wrong and what to do), and properties of mailboxes."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from qgactor.runtime import (
    Actor,
    ChildSpec,
    DynamicSupervisor,
    Mailbox,
    MailboxFull,
    Overflow,
    Restart,
    RestartIntensityExceeded,
    open_actor_nursery,
)


class Plain(Actor):
    async def receive(self, msg: Any) -> Any:
        return msg


async def test_spawn_rejects_non_actor_class_and_bad_options() -> None:
    class NotAnActor:
        pass

    async with open_actor_nursery() as an:
        with pytest.raises(TypeError, match="Actor subclass"):
            await an.spawn(NotAnActor)
        with pytest.raises(TypeError, match="valid options"):
            await an.spawn(Plain, nmae="typo")
        with pytest.raises(TypeError, match="positionally"):
            await an.spawn(Plain, args=(1,))
        with pytest.raises(TypeError):
            await an.spawn(ChildSpec(Plain), 1)
        with pytest.raises(ValueError):
            await an.spawn(Plain, shutdown=-1)
        dyn = await an.spawn(DynamicSupervisor, name="d", kwargs={"max_children": 3})
        assert dyn.alive


async def test_sync_receive_is_a_clear_error_counted_as_crash() -> None:
    class SyncReceive(Actor):
        def receive(self, msg: Any) -> Any:  # type: ignore[override]
            return msg

    with pytest.raises(RestartIntensityExceeded) as ei:
        async with open_actor_nursery(max_restarts=0) as an:
            await an.spawn(SyncReceive, name="sync")
            await trio.sleep_forever()
    assert isinstance(ei.value.__cause__, TypeError)
    assert "async def" in str(ei.value.__cause__)


async def test_actor_asking_itself_fails_fast() -> None:
    class Narcissus(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "self":
                try:
                    await self.ref.ask("x")
                except RuntimeError as exc:
                    return str(exc)
            return msg

    async with open_actor_nursery() as an:
        ref = await an.spawn(Narcissus, name="n")
        with trio.fail_after(1):
            assert "asked itself" in await ref.ask("self")


async def test_temporary_factory_crash_is_not_a_hang() -> None:
    class Broken(Actor):
        async def on_start(self) -> None:
            raise RuntimeError("no config")

    async with open_actor_nursery() as an:
        with trio.fail_after(1):
            ref = await an.spawn(Broken, name="b", restart=Restart.TEMPORARY)
        while ref.alive:
            await trio.sleep(0.001)
        assert ref.exit_reason is not None and isinstance(ref.exit_reason.error, RuntimeError)
        assert an.lookup("b") is None


@settings(max_examples=30, deadline=None)
@given(
    overflow=st.sampled_from([Overflow.DROP_NEWEST, Overflow.DROP_OLDEST, Overflow.FAIL,
                              Overflow.BACKPRESSURE]),
    capacity=st.integers(min_value=1, max_value=5),
    n=st.integers(min_value=0, max_value=20),
)
def test_mailbox_accounting_property(overflow: Overflow, capacity: int, n: int) -> None:
    """Every message sent with tell_nowait is either handled (in order) or counted as dropped."""

    async def main() -> None:
        gate = trio.Event()
        seen: list[int] = []

        class Slow(Actor):
            async def receive(self, msg: Any) -> Any:
                await gate.wait()
                seen.append(msg)

        async with open_actor_nursery() as an:
            ref = await an.spawn(Slow, name="s", mailbox=Mailbox(capacity, overflow))
            accepted: list[int] = []
            for i in range(n):
                try:
                    if ref.tell_nowait(i):
                        accepted.append(i)
                except MailboxFull:
                    pass
                assert ref.mailbox_depth <= capacity
            gate.set()
            with trio.fail_after(2):  # every message is handled or counted as dropped
                while len(seen) + ref.dropped < n:
                    await trio.sleep(0.001)
            await trio.sleep(0.01)
            assert len(seen) + ref.dropped == n and ref.mailbox_depth == 0
            assert set(seen) <= set(accepted)
            assert seen == sorted(seen)
            if overflow is Overflow.DROP_OLDEST:
                assert seen == list(range(n))[-len(seen):] if seen else n == 0
            else:
                assert seen == list(range(min(n, capacity)))

    trio.run(main)


def test_classify_unwraps_groups() -> None:
    from qgactor.runtime.messages import classify

    cancelled = trio.Cancelled._create()  # type: ignore[attr-defined]
    assert classify(BaseExceptionGroup("g", [cancelled])) == ("cancelled", None)
    err = KeyError("k")
    assert classify(ExceptionGroup("g", [ExceptionGroup("h", [err])])) == ("crash", err)
    kind, e = classify(BaseExceptionGroup("g", [cancelled, err]))
    assert kind == "crash" and e is err
    kind, e = classify(ExceptionGroup("g", [err, ValueError("v")]))
    assert kind == "crash" and isinstance(e, ExceptionGroup) and len(e.exceptions) == 2
    kind, e = classify(BaseExceptionGroup("g", [KeyboardInterrupt()]))
    assert kind == "fatal" and isinstance(e, KeyboardInterrupt)


async def test_dead_letter_and_snapshot_reprs_hide_payloads() -> None:
    class Crash(Actor):
        async def receive(self, msg: Any) -> Any:
            raise RuntimeError("handler failed")

    async with open_actor_nursery(backoff=None) as an:
        ref = await an.spawn(Crash, name="c")
        await ref.tell({"token": "s3cr3t-token"})
        while not an.dead_letters:
            await trio.sleep(0.001)
        letter = an.dead_letters[0]
        assert letter.message == {"token": "s3cr3t-token"}  # kept for inspection...
        assert "s3cr3t" not in repr(letter)  # ...but never printed
        assert "s3cr3t" not in repr(an.snapshot())
        assert "message_type=dict" in repr(letter)


async def test_system_exit_in_an_actor_stops_the_system_gracefully() -> None:
    stopped: list[str] = []

    class Other(Actor):
        async def on_stop(self, reason: Any) -> None:
            stopped.append(reason.kind.value)

    class Exiter(Actor):
        async def on_start(self) -> None:
            self.ctx.start_soon(self.exit_later)

        async def exit_later(self) -> None:
            await trio.sleep(0.001)
            raise SystemExit(3)

    with trio.fail_after(5):
        with pytest.raises(SystemExit):
            async with open_actor_nursery() as an:
                await an.spawn(Other, name="other")
                await an.spawn(Exiter, name="exiter")
                await trio.sleep_forever()
    assert stopped == ["shutdown"]
