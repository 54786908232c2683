"""What waits in and around a mailbox: ``ask`` requests and senders blocked by backpressure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import outcome
from trio.lowlevel import Abort, Task, reschedule

if TYPE_CHECKING:
    from qgactor.runtime.ref import ActorRef

__all__ = ["_Ask", "_Putter"]


class _Ask:
    """One ``ask`` request: the message plus the asker's reply slot."""

    __slots__ = ("msg", "task", "waiting", "result")

    def __init__(self, msg: Any, task: Task) -> None:
        self.msg = msg
        self.task: Task | None = task  # None once answered or abandoned
        self.waiting = False
        self.result: outcome.Outcome[Any] | None = None

    def reply(self, result: outcome.Outcome[Any]) -> None:
        """Answer the asker; a late reply (asker gone) is dropped."""
        t = self.task
        if t is None:
            return
        self.task = None
        if self.waiting:
            self.waiting = False
            reschedule(t, result)
        else:
            self.result = result

    def abort(self, _raise_cancel: object) -> Abort:
        self.task = None
        self.waiting = False
        return Abort.SUCCEEDED


class _Putter:
    """A task blocked by a full BACKPRESSURE mailbox, with the item it wants to put."""

    __slots__ = ("task", "item", "owner")

    def __init__(self, task: Task, item: Any, owner: ActorRef) -> None:
        self.task = task
        self.item = item
        self.owner = owner

    def abort(self, _raise_cancel: object) -> Abort:
        putters = self.owner._putters
        if putters is not None:
            try:
                putters.remove(self)
            except ValueError:  # pragma: no cover - already handed off
                pass
        return Abort.SUCCEEDED
