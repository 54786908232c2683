"""An actor whose tasks or children overrun its shutdown timeout (they shield themselves from
cancellation) is still stopped on time: a WARNING says what was abandoned, no ERROR traceback
is logged, every name is released, and the late end of the abandoned tasks changes nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

from qgactor.runtime import Actor, ExitReason, Restart, open_actor_nursery


class Shielded(Actor):
    """Runs a task that, once cancelled, keeps going (shielded) for ``linger`` seconds."""

    def __init__(self, linger: float, ended: list[str]) -> None:
        self.linger = linger
        self.ended = ended

    async def on_start(self) -> None:
        self.ctx.start_soon(self.stubborn)

    async def stubborn(self) -> None:
        try:
            await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                await trio.sleep(self.linger)
            self.ended.append(self.ctx.name)


class Parent(Actor):
    """Has a linked child (no shutdown timeout of its own) that lingers 10 s when stopped."""

    def __init__(self, ended: list[str], stops: list[ExitReason]) -> None:
        self.ended = ended
        self.stops = stops

    async def on_start(self) -> None:
        await self.ctx.spawn(Shielded, 10.0, self.ended, name="kid", shutdown=None)

    async def receive(self, msg: Any) -> Any:
        return msg

    async def on_stop(self, reason: ExitReason) -> None:
        self.stops.append(reason)


def problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_overrunning_task_is_abandoned_with_a_warning_not_an_error(
        autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture) -> None:
    ended: list[str] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Shielded, 10.0, ended, name="s", shutdown=1.0, restart=Restart.TEMPORARY)
        t0 = trio.current_time()
        await an.stop(ref)
        assert trio.current_time() - t0 <= 3.0  # its timeout (+ the kernel's grace), not 10 s
        assert not ref.alive and an.lookup("s") is None and ended == []
        await trio.sleep(20)  # the abandoned task ends late ...
        assert ended == ["s"] and not ref.alive and ref.state == "dead"  # ... and changes nothing
    assert problems(caplog) == []
    assert any("abandoning" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


async def test_overrunning_linked_child_is_released_when_its_parent_gives_up(
        autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture) -> None:
    ended: list[str] = []
    stops: list[ExitReason] = []
    async with open_actor_nursery() as an:
        parent = await an.spawn(Parent, ended, stops, name="p", shutdown=1.0, restart=Restart.TEMPORARY)
        kid = an.lookup("kid")
        assert kid is not None and kid.alive
        await an.stop(parent)
        assert not parent.alive and not kid.alive
        assert an.lookup("kid") is None  # the name is free again
        assert [r.kind.value for r in stops] == ["shutdown"]  # on_stop still ran
        again = await an.spawn(Parent, ended, stops, name="p", shutdown=1.0, restart=Restart.TEMPORARY)
        assert an.lookup("kid") is not None and an.lookup("kid") is not kid
        await trio.sleep(20)  # the first kid's task ends late without touching the new one
        assert ended == ["kid"] and not kid.alive and an.lookup("kid").alive  # type: ignore[union-attr]
        assert await again.ask("ping") == "ping"
    assert problems(caplog) == []
