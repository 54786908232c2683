"""How a supervisor stops its children: a graceful stop, cancellation after the child's shutdown
timeout, abandoning a task that ignores cancellation, and releasing a slot for good.

:class:`ChildStopping` is the stopping half of :class:`~qgactor.runtime.engine.Supervision`
(which adds spawning, exit handling and restarts). Everything here runs under the engine's lock
or from its single manager task, so decisions about one child never interleave.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable
from typing import TYPE_CHECKING

import trio
from trio.lowlevel import current_task, reschedule

from qgactor.runtime.actor import Actor
from qgactor.runtime.incarnation import request_stop
from qgactor.runtime.messages import ExitReason
from qgactor.runtime.monitors import notify_down
from qgactor.runtime.ref import DEAD, EXITED, RESTARTING, RUNNING, STARTING, STOPPING, ActorRef

if TYPE_CHECKING:
    from qgactor.runtime.system import ActorNursery

__all__ = ["ChildStopping"]

log = logging.getLogger("qgactor.runtime")

_SHUTDOWN = ExitReason.shutdown()


class ChildStopping:
    """Stopping and releasing the children of one supervisor (internal; see ``Supervision``)."""

    system: ActorNursery
    children: dict[ActorRef, None]
    keys: dict[Hashable, ActorRef]
    concurrent_stop: bool
    _pending: dict[ActorRef, None]
    _lock: trio.Lock
    _closed: bool
    _failing: bool
    _manager_scope: trio.CancelScope | None
    _manager_done: trio.Event | None

    async def close(self) -> None:
        """Stop the manager and every child (reverse start order). Idempotent."""
        self._closed = True
        scope = self._manager_scope
        if scope is not None and self._manager_done is not None:
            if not self._failing:
                scope.cancel()
            await self._manager_done.wait()
        async with self._lock:
            await self._stop_all()

    async def stop_child(self, ref: ActorRef) -> None:
        """Stop ``ref`` for good (graceful, then cancelled after its shutdown timeout).

        Called from the actor's own task (an actor stopping itself for good), it returns at once
        and the actor ends after its current message, without restart. Called from one of the
        actor's ``ctx.start_soon`` tasks, it is cancelled with that task when the actor stops,
        and the actor still ends for good.
        """
        if ref._state == DEAD:
            await trio.lowlevel.checkpoint()
            return
        ref._doomed = True  # however this call ends (e.g. cancelled), the actor is not restarted
        if ref._task is not None and ref._task is current_task():
            request_stop(ref)
            await trio.lowlevel.checkpoint()
            return
        async with self._lock:
            await self._stop_for_good(ref)

    def abandon(self) -> None:
        """The owner's shutdown timeout ran out while :meth:`close` was stopping the children:
        cancel whatever still runs and release every child (names, watchers, queued asks) now.
        Their tasks end on their own later without touching the released slots."""
        self._closed = True
        self._pending.clear()
        for ref in reversed(list(self.children)):
            if ref._scope is not None:
                ref._scope.cancel()
            for helper in list(ref._helpers or ()):
                helper.cancel()
            ref._hib = False
            self._remove(ref, ref._reason if ref._state == EXITED and ref._reason else _SHUTDOWN)

    # ------------------------------------------------------------ one child
    async def _terminate(self, ref: ActorRef) -> None:
        """Stop the running incarnation of ``ref`` gracefully, then cancel after its timeout."""
        if ref._state not in (STARTING, RUNNING, STOPPING):
            return
        if self._fast_stop(ref):
            return
        ev = self._begin_stop(ref)
        try:
            timeout = ref._spec.shutdown
            await self._await_exit(ref, ev, math.inf if timeout is None else trio.current_time() + timeout)
        finally:
            ref._terminating = False

    def _begin_stop(self, ref: ActorRef) -> trio.Event:
        """Ask ``ref`` to stop; its exit is then ours to handle. Returns the event set on exit."""
        ref._terminating = True
        ev = ref._exit_event
        if ev is None:
            ev = ref._exit_event = trio.Event()
        request_stop(ref)
        return ev

    async def _await_exit(self, ref: ActorRef, ev: trio.Event, deadline: float) -> None:
        """Wait for ``ev`` until ``deadline``, then cancel ``ref`` and wait a grace period (its
        ``on_stop`` is bounded by the same timeout); past that, abandon its task."""
        with trio.move_on_at(deadline):
            await ev.wait()
        if ev.is_set():
            return
        timeout = ref._spec.shutdown
        log.warning("actor %r did not stop within %ss; cancelling it", ref.name, timeout)
        if ref._scope is not None:
            ref._scope.cancel()
        with trio.move_on_after(2 * (timeout or 0) + 1):
            await ev.wait()
        if not ev.is_set():
            log.error("actor %r ignored cancellation; abandoning its task", ref.name)
            self._detach(ref)

    def _detach(self, ref: ActorRef) -> None:
        """Mark the slot EXITED without waiting for its task (which then ends quietly)."""
        ref._stopping = True
        ref._run = None
        ref._scope = None
        ref._task = None
        ref._actor = None
        ref._ctx = None
        ref._reason = _SHUTDOWN
        ref._state = EXITED
        ev = ref._exit_event
        if ev is not None:
            ref._exit_event = None
            ev.set()

    def _fast_stop(self, ref: ActorRef) -> bool:
        """Stop an idle plain actor synchronously (no hooks to run, no task to wait for).

        True if done: the slot is EXITED (not reported to ``child_exited``).
        """
        actor = ref._actor
        if (
            ref._state != RUNNING
            or ref._helpers
            or ref._children is not None
            or actor is None
            or type(actor).on_stop is not Actor.on_stop
        ):
            return False
        if ref._hib:
            ref._hib = False
        else:
            g = ref._getter
            if g is None:
                return False
            ref._getter = None
            reschedule(g)  # its loop sees the token change and the task ends quietly
        self._detach(ref)
        return True

    def _release_if_idle(self, ref: ActorRef) -> bool:
        """Remove ``ref`` at once if nothing of it runs (restarting, exited, or idle and plain).

        True if it was removed; False if its incarnation must be stopped and waited for.
        """
        self._pending.pop(ref, None)
        if ref._state in (RESTARTING, EXITED):
            self._remove(ref, ref._reason or _SHUTDOWN)
            return True
        if self._fast_stop(ref):
            self._remove(ref, _SHUTDOWN)
            return True
        return False

    async def _stop_for_good(self, ref: ActorRef) -> None:
        if ref._state == DEAD or ref not in self.children:
            return
        if not self._release_if_idle(ref):
            await self._terminate(ref)
            self._remove(ref, ref._reason or _SHUTDOWN)

    # ------------------------------------------------------------ all children
    async def _stop_all(self) -> None:
        if self.concurrent_stop:
            await self._stop_all_concurrently()
            return
        n = 0
        for ref in reversed(list(self.children)):
            await self._stop_for_good(ref)
            n += 1
            if n % 2048 == 0:
                await trio.lowlevel.cancel_shielded_checkpoint()

    async def _stop_all_concurrently(self) -> None:
        """Dynamic children are independent (OTP simple_one_for_one): ask them all to stop (in
        reverse start order), then wait for each up to its own shutdown timeout."""
        t0 = trio.current_time()
        stopping: list[tuple[ActorRef, trio.Event]] = []
        for ref in reversed(list(self.children)):
            if ref._state != DEAD and not self._release_if_idle(ref):
                stopping.append((ref, self._begin_stop(ref)))
        for ref, ev in stopping:
            timeout = ref._spec.shutdown
            try:
                await self._await_exit(ref, ev, math.inf if timeout is None else t0 + timeout)
            finally:
                ref._terminating = False
            self._remove(ref, ref._reason or _SHUTDOWN)

    def _remove(self, ref: ActorRef, reason: ExitReason) -> None:
        """``ref`` is dead for good: release its name, notify watchers, fail what is queued."""
        ref._state = DEAD
        ref._cap = -1
        ref._reason = reason
        ref._actor = None
        ref._ctx = None
        self.children.pop(ref, None)
        self._pending.pop(ref, None)
        system = self.system
        if ref._registered and system._registry.get(ref.name) is ref:
            del system._registry[ref.name]
        if ref._key is not None and self.keys.get(ref._key) is ref:
            del self.keys[ref._key]
        ref._fail_pending()
        notify_down(ref, reason)
        ev = ref._start_waiter
        if ev is not None:
            ref._start_waiter = None
            ev.set()
