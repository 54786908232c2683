"""Basic usage of the kernel: the issue's Counter example, lifecycle hooks, ask/tell."""

from __future__ import annotations

from typing import Any

import pytest
import trio

import qgactor
from qgactor.runtime import (
    Actor,
    ActorDead,
    ActorError,
    AskTimeout,
    DuplicateName,
    ExitKind,
    ExitReason,
    open_actor_nursery,
)


class Counter(qgactor.Actor):
    def __init__(self) -> None:
        self.n = 0

    async def receive(self, msg: Any) -> Any:
        if msg == "inc":
            self.n += 1
        elif msg == "get":
            return self.n


async def test_counter_example_from_issue() -> None:
    async with qgactor.open_actor_nursery() as an:
        ref = await an.spawn(Counter, name="counter")
        await ref.tell("inc")
        assert await ref.ask("get", timeout=1) == 1
    assert not ref.alive


async def test_hooks_run_in_order_and_on_stop_gets_reason() -> None:
    log: list[Any] = []

    class Hooked(Actor):
        async def on_start(self) -> None:
            log.append("start")

        async def receive(self, msg: Any) -> Any:
            log.append(("msg", msg))
            return msg * 2

        async def on_stop(self, reason: ExitReason) -> None:
            await trio.sleep(0)  # shielded: may await even while being shut down
            log.append(("stop", reason.kind))

    async with open_actor_nursery() as an:
        ref = await an.spawn(Hooked, name="h")
        assert await ref.ask(21) == 42
    assert log == ["start", ("msg", 21), ("stop", ExitKind.SHUTDOWN)]


async def test_duplicate_name_is_a_clear_error() -> None:
    async with open_actor_nursery() as an:
        await an.spawn(Counter, name="dup")
        with pytest.raises(DuplicateName, match="dup"):
            await an.spawn(Counter, name="dup")
        assert an.lookup("dup") is not None
        assert an.lookup("nope") is None


async def test_ask_stopped_actor_raises_actor_dead() -> None:
    async with open_actor_nursery() as an:
        ref = await an.spawn(Counter, name="c")
        await an.stop(ref)
        assert not ref.alive
        assert an.lookup("c") is None
        with pytest.raises(ActorDead):
            await ref.ask("get")
        with pytest.raises(ActorDead):
            await ref.tell("inc")
        with pytest.raises(ActorDead):
            ref.tell_nowait("inc")


async def test_send_after_shutdown_raises_actor_dead() -> None:
    async with open_actor_nursery() as an:
        ref = await an.spawn(Counter)
    with pytest.raises(ActorDead):
        await ref.tell("inc")
    with pytest.raises(ActorDead):
        await an.spawn(Counter)


async def test_ask_error_wraps_exception_and_actor_restarts() -> None:
    class Fragile(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "boom":
                raise ValueError("bad input")
            return "ok"

    async with open_actor_nursery(backoff=None) as an:
        ref = await an.spawn(Fragile, name="f")
        with pytest.raises(ActorError) as ei:
            await ref.ask("boom")
        assert isinstance(ei.value.error, ValueError)
        assert ei.value.__cause__ is ei.value.error
        assert await ref.ask("hi") == "ok"   # same ref, new incarnation
        assert ref.restarts == 1


async def test_ask_timeout(autojump_clock: trio.testing.MockClock) -> None:
    class Slow(Actor):
        async def receive(self, msg: Any) -> Any:
            await trio.sleep(10)
            return "late"

    async with open_actor_nursery() as an:
        ref = await an.spawn(Slow, name="slow")
        t0 = trio.current_time()
        with pytest.raises(AskTimeout):
            await ref.ask("x")
        assert trio.current_time() - t0 == pytest.approx(5.0)   # default timeout
        with pytest.raises(AskTimeout):
            await ref.ask("x", timeout=0.5)
        # the late replies are dropped without harming the replier
        await trio.sleep(30)
        assert ref.alive and ref.processed == 2


async def test_actor_stops_itself_for_good_without_deadlock() -> None:
    stops: list[ExitReason] = []

    class Quitter(Actor):
        async def receive(self, msg: Any) -> Any:
            await self.ctx.system.stop(self.ref)  # returns at once; ends after this message
            return "bye"

        async def on_stop(self, reason: ExitReason) -> None:
            stops.append(reason)

    async with open_actor_nursery() as an:
        ref = await an.spawn(Quitter, name="q")  # PERMANENT, yet not restarted
        with trio.fail_after(1):
            assert await ref.ask("quit") == "bye"
            while ref.alive:
                await trio.sleep(0.001)
        assert an.lookup("q") is None and ref.restarts == 0 and len(stops) == 1


async def test_actor_stopped_for_good_from_its_own_task_is_not_restarted() -> None:
    starts: list[int] = []
    stops: list[ExitReason] = []

    class Quitter(Actor):
        async def on_start(self) -> None:
            starts.append(1)
            self.ctx.start_soon(self.quit)

        async def quit(self) -> None:
            await self.ref.tell("ping")
            # the stop cancels this very task while it waits: the actor must still end for good
            await self.ctx.system.stop(self.ref)

        async def on_stop(self, reason: ExitReason) -> None:
            stops.append(reason)

    async with open_actor_nursery() as an:
        ref = await an.spawn(Quitter, name="q")  # PERMANENT, yet not restarted
        with trio.fail_after(1):
            while ref.alive:
                await trio.sleep(0.001)
        assert starts == [1] and ref.restarts == 0 and an.lookup("q") is None
        assert len(stops) == 1 and stops[0].is_shutdown
        await an.stop(ref)  # stopping a dead actor does nothing
