"""Memory: the mailbox deque of an actor exists only while it is used (see
``qgactor.runtime.delivery.NO_MAILBOX``). MockClock."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from qgactor.runtime import Actor, ActorDead, open_actor_nursery


class Slow(Actor):
    def __init__(self, cost: float, log: list[Any]) -> None:
        self.cost = cost
        self.log = log

    async def receive(self, msg: Any) -> Any:
        await trio.sleep(self.cost)
        self.log.append(msg)
        return f"done {msg}"


async def test_mailbox_deque_is_allocated_on_first_use_and_given_back_when_hibernating(
        autojump_clock: trio.testing.MockClock) -> None:
    """Memory: an idle actor holds no mailbox deque (one costs ~760 B); the first sender
    allocates it, hibernation gives it back, and nothing is lost on the way - also for an
    actor with on_start whose loop started before any mailbox existed."""
    from qgactor.runtime.delivery import NO_MAILBOX

    handled: list[Any] = []

    class Started(Slow):
        async def on_start(self) -> None:
            pass

    async with open_actor_nursery(hibernate_after=1.0) as an:
        plain = await an.spawn(Slow, 0.0, handled, name="plain")
        started = await an.spawn(Started, 0.0, handled, name="started")
        assert plain._q is NO_MAILBOX and started._q is NO_MAILBOX  # nothing allocated yet
        await plain.tell("a")
        assert started.tell_nowait("b")
        assert await started.ask("c") == "done c"
        assert handled == ["a", "b", "c"]
        assert type(plain._q) is not tuple
        await trio.sleep(5)  # both hibernate: the empty deques are given back
        assert plain._q is NO_MAILBOX and started._q is NO_MAILBOX
        assert plain.mailbox_depth == 0
        await plain.tell("d")
        assert await plain.ask("e") == "done e"
        assert handled[-2:] == ["d", "e"]
    assert not plain.alive
    with pytest.raises(ActorDead):
        await plain.tell("after")
