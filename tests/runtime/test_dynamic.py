"""DynamicSupervisor, registry and hibernation (issue items 10, 11)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from kernel_helpers import wait_until
from qgactor.runtime import (
    Actor,
    ActorDead,
    ChildSpec,
    DuplicateName,
    DynamicSupervisor,
    DynamicSupervisorRef,
    ExitReason,
    TooManyChildren,
    open_actor_nursery,
)


class Conv(Actor):
    def __init__(self, key: str, log: list[Any]) -> None:
        self.key = key
        self.log = log
        self.turns = 0

    async def on_start(self) -> None:
        self.log.append(("start", self.key))

    async def receive(self, msg: Any) -> Any:
        self.turns += 1
        return (self.key, self.turns)

    async def on_stop(self, reason: ExitReason) -> None:
        self.log.append(("stop", self.key, reason.kind.value))


async def test_start_and_terminate_children_with_cap() -> None:
    log: list[Any] = []
    async with open_actor_nursery() as an:
        dyn = await an.spawn(ChildSpec(DynamicSupervisor, kwargs={"max_children": 2}, name="convs"))
        assert isinstance(dyn, DynamicSupervisorRef)
        a = await dyn.start_child(ChildSpec(Conv, args=("a", log), name="conv-a"))
        b = await dyn.start_child(Conv, "b", log, name="conv-b")
        with pytest.raises(TooManyChildren):
            await dyn.start_child(Conv, "c", log)
        assert dyn.children() == [a, b] and len(dyn) == 2
        await dyn.terminate_child("conv-a")
        assert not a.alive and ("stop", "a", "shutdown") in log
        await dyn.terminate_child(b)
        assert len(dyn) == 0 and an.lookup("conv-b") is None
        await dyn.terminate_child(b)  # already dead: no-op
        with pytest.raises(LookupError):
            await dyn.terminate_child("nobody")
        c = await dyn.start_child(Conv, "c", log)
        assert c.alive
        snap = an.snapshot().find("convs")
        assert snap is not None and snap.kind == "dynamic_supervisor" and len(snap.children) == 1


async def test_get_or_start_and_idle_timeout(autojump_clock: trio.testing.MockClock) -> None:
    log: list[Any] = []
    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        r1 = await dyn.get_or_start("u1", Conv, "u1", log, idle_timeout=10.0)
        r1b = await dyn.get_or_start("u1", Conv, "u1", log, idle_timeout=10.0)
        assert r1 is r1b
        assert await r1.ask("hi") == ("u1", 1)
        await trio.sleep(9)
        assert await r1.ask("hi") == ("u1", 2)  # activity resets the idle timer
        await trio.sleep(9)
        assert r1.alive and r1._hib  # idle for a while: hibernating, idle timer still running
        await trio.sleep(2)
        assert not r1.alive and r1.exit_reason is not None and r1.exit_reason.is_normal
        assert log == [("start", "u1"), ("stop", "u1", "normal")]
        r2 = await dyn.get_or_start("u1", Conv, "u1", log, idle_timeout=10.0)
        assert r2 is not r1 and await r2.ask("hi") == ("u1", 1)  # fresh state


async def test_get_or_start_concurrent_same_key() -> None:
    log: list[Any] = []
    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        refs: list[Any] = []

        async def get() -> None:
            refs.append(await dyn.get_or_start("k", Conv, "k", log))

        async with trio.open_nursery() as n:
            for _ in range(5):
                n.start_soon(get)
        assert len({id(r) for r in refs}) == 1 and log.count(("start", "k")) == 1


async def test_idle_stop_race_keeps_late_messages(autojump_clock: trio.testing.MockClock) -> None:
    stopped = trio.Event()
    release = trio.Event()
    handled: list[Any] = []

    class SlowStop(Actor):
        async def receive(self, msg: Any) -> Any:
            handled.append(msg)
            return msg

        async def on_stop(self, reason: ExitReason) -> None:
            if reason.is_normal and not stopped.is_set():
                stopped.set()
                await release.wait()

    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        ref = await dyn.get_or_start("k", SlowStop, idle_timeout=1.0)
        await stopped.wait()  # idle stop in progress (on_stop blocked)
        await ref.tell("late")  # arrives while it is stopping: not lost
        release.set()
        assert await ref.ask("later", timeout=5) == "later"
        assert handled == ["late", "later"]


async def test_dynamic_supervisor_gone_raises_actor_dead() -> None:
    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        await an.stop(dyn)
        with pytest.raises(ActorDead):
            await dyn.get_or_start("k", Conv, "k", [])


async def test_registry_unique_lookup_release() -> None:
    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        ref = await dyn.start_child(Conv, "x", [], name="shared")
        with pytest.raises(DuplicateName):
            await an.spawn(Conv, "y", [], name="shared")  # unique across the whole system
        assert an.lookup("shared") is ref
        await dyn.terminate_child(ref)
        assert an.lookup("shared") is None
        again = await an.spawn(Conv, "y", [], name="shared")  # the name is free again
        assert an.lookup("shared") is again


async def test_many_named_actors_tear_down_correctly() -> None:
    n = 10_000

    class Idle(Actor):
        pass

    async with open_actor_nursery() as an:
        refs = [await an.spawn(Idle, name=f"idle-{i}") for i in range(n)]
        assert len(an._registry) == n
        assert await refs[7].ask("x") is None  # one of them woken up
        assert an.lookup(f"idle-{n - 1}") is refs[-1]
    assert not any(r.alive for r in refs)
    assert len(an._registry) == 0
    assert all(r.exit_reason is not None and r.exit_reason.is_shutdown for r in refs)


async def test_idle_actor_hibernates_and_wakes(autojump_clock: trio.testing.MockClock) -> None:
    class Counter(Actor):
        def __init__(self) -> None:
            self.n = 0

        async def receive(self, msg: Any) -> Any:
            self.n += 1
            return self.n

    async with open_actor_nursery(hibernate_after=2.0) as an:
        ref = await an.spawn(Counter, name="c")
        assert ref._hib  # no on_start: no task until the first message
        assert await ref.ask("x") == 1
        assert not ref._hib
        await trio.sleep(5)
        assert ref._hib  # long idle: its task was retired, state kept
        assert await ref.ask("x") == 2
        assert ref.tell_nowait("y") and await ref.ask("x") == 4
        assert ref.snapshot().state == "running" and ref.processed == 4
        await trio.sleep(5)
        assert ref.snapshot().hibernating


async def test_message_racing_the_sweeper_is_not_lost() -> None:
    from qgactor.runtime.incarnation import retire

    class Echo(Actor):
        async def receive(self, msg: Any) -> Any:
            return msg

    async with open_actor_nursery() as an:
        ref = await an.spawn(Echo, name="e")
        assert await ref.ask(1) == 1
        assert retire(ref)  # the sweeper retires the parked task...
        assert ref.tell_nowait("raced")  # ...and a message arrives before that task ran
        assert await ref.ask(2) == 2
        assert ref.processed == 3
        assert retire(ref)
        await an.stop(ref)  # a stop racing the retirement
        assert not ref.alive


async def test_dynamic_children_stop_concurrently(autojump_clock: trio.testing.MockClock) -> None:
    stopped: list[float] = []

    class Slow(Actor):
        async def receive(self, msg: Any) -> Any:
            return msg

        async def on_stop(self, reason: ExitReason) -> None:
            await trio.sleep(1.0)
            stopped.append(trio.current_time())

    class Stuck(Actor):
        async def receive(self, msg: Any) -> Any:
            await trio.sleep_forever()

    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        for i in range(50):
            await dyn.get_or_start(i, Slow)
        stuck = await dyn.start_child(Stuck, shutdown=3.0)
        await stuck.tell("hang")
        await trio.sleep(0.1)
        t0 = trio.current_time()
        await an.stop(dyn)
        elapsed = trio.current_time() - t0
    assert len(stopped) == 50
    assert elapsed == pytest.approx(3.0, abs=0.01)  # the stuck one's timeout, not 50 x 1 s


async def test_idle_timeouts_of_hibernating_actors(autojump_clock: trio.testing.MockClock) -> None:
    class Echo(Actor):
        async def receive(self, msg: Any) -> Any:
            return msg

    async with open_actor_nursery(hibernate_after=2.0) as an:
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        refs = [await dyn.get_or_start(i, Echo, idle_timeout=10.0) for i in range(100)]
        assert all(r._hib for r in refs)  # no task at all until their first message
        await trio.sleep(5)
        assert await refs[0].ask("x") == "x"  # activity: its idle deadline moves to t=15
        await trio.sleep(3)
        assert refs[0]._hib  # hibernating again, with the new deadline
        await trio.sleep(2.5)  # t=10.5: the untouched ones stopped at t=10
        assert refs[0].alive and not any(r.alive for r in refs[1:])
        assert all(r.exit_reason is not None and r.exit_reason.is_normal for r in refs[1:])
        await trio.sleep(5)  # t=15.5
        assert not refs[0].alive and len(dyn) == 0


async def test_get_or_start_with_one_spec_for_every_key(autojump_clock) -> None:
    """A ChildSpec given alone is used as it is (no copy per child); the child reads its key."""
    from qgactor.runtime import Actor, ChildSpec, DynamicSupervisor, Restart, open_actor_nursery

    class Keyed(Actor):
        __slots__ = ()

        async def receive(self, msg):
            return (self.ctx.key, msg)

    spec = ChildSpec(Keyed, restart=Restart.TEMPORARY, idle_timeout=10.0)
    async with open_actor_nursery() as an:
        dyn = await an.spawn(DynamicSupervisor, name="dyn")
        a = await dyn.get_or_start(("c2c", "U1"), spec)
        b = await dyn.get_or_start(("c2c", "U2"), spec)
        assert await dyn.get_or_start(("c2c", "U1"), spec) is a
        assert a._spec is spec and b._spec is spec
        assert await a.ask("hi") == (("c2c", "U1"), "hi")
        assert await b.ask("yo") == (("c2c", "U2"), "yo")
        await trio.sleep(11)  # the spec's own idle_timeout applies
        assert not a.alive and not b.alive
