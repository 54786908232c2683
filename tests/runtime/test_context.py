"""ActorContext: start_soon tasks, linked children, monitors, snapshot (issue items 12, 13)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from kernel_helpers import wait_until
from qgactor.runtime import (
    Actor,
    ActorDead,
    ActorSnapshot,
    ChildSpec,
    Down,
    DynamicSupervisor,
    ExitReason,
    Restart,
    RestartIntensityExceeded,
    Supervisor,
    open_actor_nursery,
    snapshot,
)


async def test_start_soon_loop_lives_with_incarnation_and_crashes_it() -> None:
    ticks: list[int] = []
    stops: list[ExitReason] = []
    incarnations: list[int] = []

    class Reader(Actor):
        async def on_start(self) -> None:
            incarnations.append(1)
            self.ctx.start_soon(self.read_forever)

        async def read_forever(self) -> None:
            while True:
                ticks.append(len(incarnations))
                if len(ticks) == 3 and len(incarnations) == 1:
                    raise ConnectionError("socket closed")
                await trio.sleep(0.001)

        async def on_stop(self, reason: ExitReason) -> None:
            stops.append(reason)

    async with open_actor_nursery(backoff=None) as an:
        ref = await an.spawn(Reader, name="reader")
        await wait_until(lambda: len(incarnations) == 2)  # the task's crash restarted the actor
        assert stops[0].is_crash and isinstance(stops[0].error, ConnectionError)
        await wait_until(lambda: ticks.count(2) >= 2)
        n = len(ticks)
        assert ref.snapshot().last_error == "ConnectionError: socket closed"
    await trio.sleep(0.01)
    assert len(ticks) <= n + 1  # the loop was cancelled with its actor
    assert stops[-1].is_shutdown


async def test_start_soon_after_incarnation_ended_raises() -> None:
    saved: list[Any] = []

    class Saver(Actor):
        async def on_start(self) -> None:
            saved.append(self.ctx)

    async with open_actor_nursery() as an:
        ref = await an.spawn(Saver, name="s", restart=Restart.TEMPORARY)
        await an.stop(ref)
        with pytest.raises(ActorDead):
            saved[0].start_soon(trio.sleep, 1)


async def test_ctx_spawn_links_children_to_the_actor() -> None:
    log: list[str] = []

    class Child(Actor):
        def __init__(self, tag: str) -> None:
            self.tag = tag

        async def receive(self, msg: Any) -> Any:
            if msg == "crash":
                raise RuntimeError("child failed")
            return self.tag

        async def on_stop(self, reason: ExitReason) -> None:
            log.append(f"stop {self.tag}")

    class Parent(Actor):
        async def on_start(self) -> None:
            self.kids = [await self.ctx.spawn(Child, t, name=f"kid-{t}") for t in "ab"]

        async def receive(self, msg: Any) -> Any:
            return self.kids

        async def on_stop(self, reason: ExitReason) -> None:
            log.append("stop parent")

    async with open_actor_nursery(backoff=None) as an:
        parent = await an.spawn(Parent, name="parent")
        kids = await parent.ask("kids")
        assert await kids[1].ask("?") == "b"
        await kids[0].tell("crash")  # a linked child is restarted by its parent
        await wait_until(lambda: kids[0].restarts == 1)
        assert await kids[0].ask("?") == "a" and parent.restarts == 0
        snap = parent.snapshot()
        assert [c.name for c in snap.children] == ["kid-a", "kid-b"]
        log.clear()
        await an.stop(parent)
        assert log == ["stop b", "stop a", "stop parent"]  # children first, reverse order
        assert not kids[0].alive and an.lookup("kid-a") is None


async def test_linked_children_intensity_crashes_parent() -> None:
    class Bad(Actor):
        async def receive(self, msg: Any) -> Any:
            raise RuntimeError("always")

    reasons: list[ExitReason] = []

    class Parent(Actor):
        async def on_start(self) -> None:
            self.kid = await self.ctx.spawn(Bad, name="bad-kid")

        async def receive(self, msg: Any) -> Any:
            return self.kid

        async def on_stop(self, reason: ExitReason) -> None:
            reasons.append(reason)

    async with open_actor_nursery(backoff=None) as an:
        parent = await an.spawn(Parent, name="p", restart=Restart.TEMPORARY)
        kid = await parent.ask("kid")
        for _ in range(4):
            await wait_until(lambda: an.lookup("bad-kid") is not None)
            try:
                await kid.tell("x")
            except ActorDead:
                break
            await trio.sleep(0.005)
        await wait_until(lambda: not parent.alive)
        assert isinstance(reasons[0].error, RestartIntensityExceeded)


async def test_watch_delivers_down_once_on_final_stop() -> None:
    downs: list[Down] = []

    class Watcher(Actor):
        async def receive(self, msg: Any) -> Any:
            if isinstance(msg, Down):
                downs.append(msg)
            elif msg[0] == "watch":
                self.ctx.watch(msg[1])
            elif msg[0] == "unwatch":
                self.ctx.unwatch(msg[1])

    class Target(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "crash":
                raise ValueError("target crashed")
            if msg == "stop":
                self.ctx.stop()

    async with open_actor_nursery(backoff=None) as an:
        w = await an.spawn(Watcher, name="w")
        t = await an.spawn(Target, name="t", restart=Restart.TRANSIENT)
        u = await an.spawn(Target, name="u", restart=Restart.TEMPORARY)
        await w.tell(("watch", t))
        await w.tell(("watch", u))
        await w.tell(("unwatch", u))
        await t.tell("crash")  # restart: invisible to watchers
        await wait_until(lambda: t.restarts == 1)
        await t.tell("stop")  # transient + normal stop: gone for good
        await wait_until(lambda: len(downs) == 1)
        assert downs[0].ref is t and downs[0].reason.is_normal
        await an.stop(u)
        await w.tell(("watch", u))  # watching a dead ref: Down at once
        await wait_until(lambda: len(downs) == 2)
        assert downs[1].ref is u and downs[1].reason.is_shutdown


async def test_snapshot_tree() -> None:
    class Named(Actor):
        async def receive(self, msg: Any) -> Any:
            if msg == "crash":
                raise KeyError("secret-free message")

    async with open_actor_nursery(backoff=None) as an:
        await an.spawn(Supervisor.spec("gateway", [ChildSpec(Named, name="shard-0"),
                                                   ChildSpec(Named, name="shard-1")]))
        dyn = await an.spawn(DynamicSupervisor, name="convs")
        await dyn.get_or_start(("group", 1), Named)
        s0 = an.lookup("shard-0")
        assert s0 is not None
        gw_ref = an.lookup("gateway")
        assert gw_ref is not None
        assert await gw_ref.ask("children") == [s0, an.lookup("shard-1")]
        assert (await gw_ref.ask("snapshot")).name == "gateway"
        await s0.tell("crash")
        await wait_until(lambda: s0.restarts == 1)
        await s0.ask("ping")
        snap = an.snapshot()
        assert snapshot(an) == snap or isinstance(snapshot(an), ActorSnapshot)
        assert snap.kind == "system" and [c.name for c in snap.children] == ["gateway", "convs"]
        gw = snap.find("gateway")
        assert gw is not None and gw.kind == "supervisor"
        shard0 = snap.find("shard-0")
        assert shard0 is not None
        assert shard0.restarts == 1 and shard0.processed == 1 and shard0.state == "running"
        assert shard0.last_error == "KeyError: 'secret-free message'"
        assert shard0.mailbox_depth == 0 and shard0.mailbox_capacity == 1000
        conv = snap.find("('group', 1)")
        assert conv is not None and conv.kind == "actor"
        assert len(snap.walk()) == 6


async def test_actor_tasks_run_in_the_system_context_not_the_senders() -> None:
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("system")

    class Reader(Actor):
        async def receive(self, msg: Any) -> Any:
            return var.get()

    async with open_actor_nursery() as an:
        ref = await an.spawn(Reader, name="r")  # hibernated: its first message starts its task

        async def sender() -> None:
            var.set("sender")
            assert await ref.ask("?") == "system"

        async with trio.open_nursery() as n:
            n.start_soon(sender)
