"""Handler slots: the dispatcher's bound on handlers running at once.

The dispatcher takes a :class:`HandlerSlot` for each event it processes and releases it when
the event is done. A handler that waits for a user (``conv.ask``/``wait_for``) steps out of
its slot while it waits (:func:`step_out`) and takes one again when the answer
came: otherwise ``max_concurrent_handlers`` users in conversations would hold every slot, and
the answers they wait for could never be dispatched.
"""

from __future__ import annotations

import contextvars

import trio

__all__ = ["HandlerSlot", "current_slot", "step_out"]


class HandlerSlot:
    """One unit of a ``trio.Semaphore``, held or not; releasing twice is harmless."""

    __slots__ = ("_semaphore", "held")

    def __init__(self, semaphore: trio.Semaphore) -> None:
        self._semaphore = semaphore
        self.held = False

    async def acquire(self) -> None:
        """Wait for a unit of the semaphore (raises ``trio.Cancelled`` without holding one)."""
        await self._semaphore.acquire()
        self.held = True

    def release(self) -> None:
        """Give the unit back if held."""
        if self.held:
            self.held = False
            self._semaphore.release()


#: The slot of the event the current task is processing (set by the dispatcher per task).
current_slot: contextvars.ContextVar[HandlerSlot | None] = contextvars.ContextVar(
    "qgactor_handler_slot", default=None)


def step_out() -> HandlerSlot | None:
    """Release the current task's handler slot and return it (``None`` outside a dispatcher
    task). The caller takes it again with ``await slot.acquire()`` when it runs on; if that is
    cancelled, no slot is held and the dispatcher has nothing to release."""
    slot = current_slot.get()
    if slot is None or not slot.held:
        return None
    slot.release()
    return slot
