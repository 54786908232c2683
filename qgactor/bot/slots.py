"""Handler slots: the dispatcher's bound on handlers running at once.

The dispatcher takes a :class:`HandlerSlot` for each event it processes and releases it when
the event is done. A handler that waits for a user (``conv.ask``/``wait_for``) steps out of
its slot while it waits (:func:`step_out`) and takes one again when the answer
came: otherwise ``max_concurrent_handlers`` users in conversations would hold every slot, and
the answers they wait for could never be dispatched. For the same reason a plain ``def``
handler waits for a worker thread outside its slot (:class:`ThreadsOutsideSlot`): threads held
by ``def`` handlers waiting in conversations must not leave every slot to handlers queuing for
a thread.
"""

from __future__ import annotations

import contextvars
from typing import Any

import trio

__all__ = ["HandlerSlot", "ThreadsOutsideSlot", "current_slot", "step_out"]


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

    def try_acquire(self) -> bool:
        """Take a unit if one is free right now (no checkpoint); return whether it is held."""
        try:
            self._semaphore.acquire_nowait()
        except trio.WouldBlock:
            return False
        self.held = True
        return True

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


class ThreadsOutsideSlot:
    """A worker-thread limiter for ``trio.to_thread.run_sync(limiter=...)`` that, when no thread
    is free, waits for one outside the current handler slot (then takes a slot again).

    Wraps a ``trio.CapacityLimiter``; only the methods ``to_thread`` and ``run_in_worker`` use are provided.
    """

    __slots__ = ("_limiter",)

    def __init__(self, limiter: trio.CapacityLimiter) -> None:
        self._limiter = limiter

    def acquire_on_behalf_of_nowait(self, borrower: Any) -> None:
        """Take a free thread token for ``borrower`` now; raises ``trio.WouldBlock`` if none is
        free (no checkpoint either way)."""
        self._limiter.acquire_on_behalf_of_nowait(borrower)

    async def acquire_on_behalf_of(self, borrower: Any) -> None:
        """Take a thread token for ``borrower``; raises ``trio.Cancelled`` holding nothing."""
        try:
            self._limiter.acquire_on_behalf_of_nowait(borrower)
            await trio.lowlevel.checkpoint()  # (a checkpoint like the blocking path)
            return
        except trio.WouldBlock:
            pass
        slot = step_out()
        try:
            await self._limiter.acquire_on_behalf_of(borrower)
        finally:
            if slot is not None:
                try:
                    await slot.acquire()
                except BaseException:
                    if borrower in self._limiter.statistics().borrowers:
                        self._limiter.release_on_behalf_of(borrower)
                    raise

    def release_on_behalf_of(self, borrower: Any) -> None:
        """Give ``borrower``'s thread token back."""
        self._limiter.release_on_behalf_of(borrower)
