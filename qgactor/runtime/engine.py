"""The supervision engine shared by the root nursery, ``Supervisor``, ``DynamicSupervisor`` and
children spawned with ``ctx.spawn``.

It owns an ordered set of child slots (start order), receives their exit reports, decides
restarts (restart type, strategy, intensity, backoff) and stops children in reverse start order.
Decisions are made by one manager coroutine per engine (``manage``), so they are serialised.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import trio
from trio.lowlevel import Abort, Task, current_task, reschedule, wait_task_rescheduled

from qgactor.runtime.actor import Actor
from qgactor.runtime.errors import ActorDead, DuplicateName, RestartIntensityExceeded, TooManyChildren
from qgactor.runtime.incarnation import request_stop, start_incarnation
from qgactor.runtime.messages import ExitReason
from qgactor.runtime.monitors import notify_down
from qgactor.runtime.ref import DEAD, EXITED, RESTARTING, RUNNING, STARTING, STOPPING, ActorRef
from qgactor.runtime.spec import Backoff, ChildSpec, Restart, Strategy, build_spec

if TYPE_CHECKING:
    from qgactor.runtime.system import ActorNursery

__all__ = ["Supervision"]

log = logging.getLogger("qgactor.runtime")

_SHUTDOWN = ExitReason.shutdown()


class Supervision:
    """Children of one supervisor plus its restart policy. Internal; see ``Supervisor``."""

    def __init__(
        self,
        system: ActorNursery,
        name: str,
        *,
        owner: ActorRef | None = None,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Backoff | None = Backoff(),
        max_children: int | None = None,
    ) -> None:
        if max_restarts < 0 or within <= 0:
            raise ValueError(f"supervisor {name!r}: need max_restarts >= 0 and within > 0, got "
                             f"max_restarts={max_restarts}, within={within}")
        self.system = system
        self.name = name
        self.owner = owner
        self.strategy = Strategy(strategy)
        self.max_restarts = max_restarts
        self.within = within
        self.backoff = backoff
        self.max_children = max_children
        self.children: dict[ActorRef, None] = {}
        self.keys: dict[Hashable, ActorRef] = {}
        self._events: deque[tuple[ActorRef, int, ExitReason]] = deque()
        self._restart_times: deque[float] = deque()
        self._pending: dict[ActorRef, None] = {}
        self._waiter: Task | None = None
        self._lock = trio.Lock()
        self._closed = False
        self._manager_scope: trio.CancelScope | None = None
        self._manager_done: trio.Event | None = None
        self._failing = False
        self.concurrent_stop = False
        """Stop all children at once on close (dynamic supervisors), not one after another."""

    # ------------------------------------------------------------- spawning
    async def spawn(self, factory: Callable[..., Any] | ChildSpec, *args: Any,
                    key: Hashable | None = None, **options: Any) -> ActorRef:
        """Start a child and wait until its ``on_start`` finished (or failed: then it counts as a
        crash and is handled by this supervisor). Returns its ref.

        Raises DuplicateName, TooManyChildren, ActorDead (supervisor stopping), TypeError.
        """
        spec = build_spec(factory, args, options)
        if self._closed:
            raise ActorDead(f"supervisor {self.name!r} is stopping; cannot spawn {spec.name or spec.factory!r}")
        if self.max_children is not None and len(self.children) >= self.max_children:
            raise TooManyChildren(f"supervisor {self.name!r} already runs max_children="
                                  f"{self.max_children} children; terminate some or raise the cap")
        system = self.system
        fac = spec.factory
        ref_cls = getattr(fac, "_ref_class", ActorRef) if isinstance(fac, type) else ActorRef
        if spec.name is not None:
            if not isinstance(spec.name, str) or not spec.name:
                raise TypeError(f"actor names must be non-empty strings, got {spec.name!r}")
            if spec.name in system._registry:
                raise DuplicateName(
                    f"an actor named {spec.name!r} is already running in system {system.name!r}; "
                    "pick another name, use lookup() to reach it, or stop it first"
                )
            ref = ref_cls(spec, spec.name, system, self)
            system._registry[spec.name] = ref
            ref._registered = True
        else:
            label = str(key) if key is not None else f"{getattr(fac, '__name__', 'actor')}-{next(system._ids)}"
            ref = ref_cls(spec, label, system, self)
        if key is not None:
            ref._key = key
            self.keys[key] = ref
        self.children[ref] = None
        await self._start(ref)
        return ref

    async def _start(self, ref: ActorRef) -> None:
        await start_incarnation(ref)

    # ---------------------------------------------------------- exit events
    def child_exited(self, ref: ActorRef, incarnation: int, reason: ExitReason) -> None:
        """Called by a child's task when an incarnation ended (sync)."""
        if ref._terminating:
            return  # whoever stops it decides what happens next
        if ref._doomed:  # it stopped itself for good
            self._remove(ref, reason)
            return
        self._events.append((ref, incarnation, reason))
        self.wake()

    def wake(self) -> None:
        """Wake the manager (new event, or its owner wants to stop)."""
        w = self._waiter
        if w is not None:
            self._waiter = None
            reschedule(w)

    def _abort_wait(self, _raise_cancel: object) -> Abort:
        self._waiter = None
        return Abort.SUCCEEDED

    async def manage(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Process exit events and due restarts until cancelled or ``should_stop()``.

        Raises :class:`RestartIntensityExceeded` (after stopping every child) when the restart
        intensity is exceeded.
        """
        scope = trio.CancelScope()
        self._manager_scope = scope
        self._manager_done = trio.Event()
        try:
            with scope:
                while True:
                    while self._events:
                        ref, inc, reason = self._events.popleft()
                        if ref._incarnation != inc or ref._state != EXITED or ref not in self.children:
                            continue
                        async with self._lock:
                            await self._handle_exit(ref, reason)
                    if self._pending:
                        now = trio.current_time()
                        due = min(r._restart_at for r in self._pending)
                        if due <= now:
                            async with self._lock:
                                await self._restart_due()
                            continue
                    else:
                        due = math.inf
                    if should_stop is not None and should_stop():
                        return
                    if self._events:
                        continue
                    self._waiter = current_task()
                    if due == math.inf:
                        await wait_task_rescheduled(self._abort_wait)
                    else:
                        with trio.CancelScope(deadline=due):
                            await wait_task_rescheduled(self._abort_wait)
        finally:
            self._manager_scope = None
            self._manager_done.set()

    async def _handle_exit(self, ref: ActorRef, reason: ExitReason) -> None:
        spec = ref._spec
        if reason.is_crash:
            log.error("actor %r crashed (%s restart)", ref.name, spec.restart.value,
                      exc_info=reason.error)
        leftover = ref._idle_stop and bool(ref._q)
        restart = (
            spec.restart is Restart.PERMANENT
            or (spec.restart is Restart.TRANSIENT and reason.is_crash)
            or leftover
        )
        if not restart or self._closed:
            self._remove(ref, reason)
            return
        now = trio.current_time()
        if not leftover:
            times = self._restart_times
            times.append(now)
            while times and times[0] < now - self.within:
                times.popleft()
            if len(times) > self.max_restarts:
                exc = RestartIntensityExceeded(self.name, self.max_restarts, self.within, ref.name)
                exc.__cause__ = reason.error
                self._remove(ref, reason)
                await self._fail(exc)
        delay = 0.0
        if self.backoff is not None and not leftover:
            if now - ref._started_at >= self.backoff.reset_after:
                ref._backoff_n = 0
            delay = self.backoff.delay(ref._backoff_n, self.system._rng)
            ref._backoff_n += 1
        group = [ref]
        if self.strategy is not Strategy.ONE_FOR_ONE and not leftover:
            kids = list(self.children)
            if self.strategy is Strategy.ONE_FOR_ALL:
                others = [c for c in kids if c is not ref]
            else:
                others = kids[kids.index(ref) + 1:]
            for c in reversed(others):
                if c._state in (RUNNING, STARTING, STOPPING):
                    await self._terminate(c)
                if c._spec.restart is Restart.TEMPORARY:
                    self._remove(c, _SHUTDOWN)
                elif c._state != DEAD:
                    group.append(c)
        for c in group:
            c._state = RESTARTING
            c._restart_at = now + delay
            self._pending[c] = None

    async def _restart_due(self) -> None:
        now = trio.current_time()
        # start in start order
        if self.strategy is Strategy.ONE_FOR_ONE:
            due = [r for r in self._pending if r._restart_at <= now]
        else:
            due = [r for r in self.children if r in self._pending and r._restart_at <= now]
        for r in due:
            self._pending.pop(r, None)
            if r._state != RESTARTING or self._closed:
                continue
            r._restarts += 1
            await self._start(r)

    async def _fail(self, exc: RestartIntensityExceeded) -> None:
        log.error("%s", exc)
        self._failing = True
        self._closed = True
        self._pending.clear()
        with trio.CancelScope(shield=True):  # a concurrent close() waits for us instead
            await self._stop_all()
        raise exc

    # ------------------------------------------------------------ stopping
    async def _terminate(self, ref: ActorRef) -> None:
        """Stop the running incarnation of ``ref`` gracefully, then cancel after its timeout."""
        if ref._state not in (STARTING, RUNNING, STOPPING):
            return
        if self._fast_stop(ref):
            return
        ref._terminating = True
        try:
            ev = ref._exit_event
            if ev is None:
                ev = ref._exit_event = trio.Event()
            request_stop(ref)
            timeout = ref._spec.shutdown
            with trio.move_on_after(math.inf if timeout is None else timeout):
                await ev.wait()
            if not ev.is_set():
                log.warning("actor %r did not stop within %ss; cancelling it", ref.name, timeout)
                scope = ref._scope
                if scope is not None:
                    scope.cancel()
                # on_stop is bounded by the same timeout; past that something is badly wrong
                with trio.move_on_after(2 * (timeout or 0) + 1):
                    await ev.wait()
                if not ev.is_set():
                    log.error("actor %r ignored cancellation; abandoning its task", ref.name)
                    self._detach(ref)
        finally:
            ref._terminating = False

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

    async def stop_child(self, ref: ActorRef) -> None:
        """Stop ``ref`` for good (graceful, then cancelled after its shutdown timeout).

        Called from the actor's own task (an actor stopping itself for good), it returns at once
        and the actor ends after its current message, without restart.
        """
        if ref._task is not None and ref._task is current_task():
            ref._doomed = True
            request_stop(ref)
            await trio.lowlevel.checkpoint()
            return
        async with self._lock:
            await self._stop_for_good(ref)

    async def _stop_for_good(self, ref: ActorRef) -> None:
        if ref._state == DEAD or ref not in self.children:
            return
        self._pending.pop(ref, None)
        if ref._state in (RESTARTING, EXITED):
            self._remove(ref, ref._reason or _SHUTDOWN)
        elif self._fast_stop(ref):
            self._remove(ref, _SHUTDOWN)
        else:
            await self._terminate(ref)
            self._remove(ref, ref._reason or _SHUTDOWN)

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
        stopping: list[ActorRef] = []
        for ref in reversed(list(self.children)):
            self._pending.pop(ref, None)
            if ref._state in (RESTARTING, EXITED):
                self._remove(ref, ref._reason or _SHUTDOWN)
            elif self._fast_stop(ref):
                self._remove(ref, _SHUTDOWN)
            elif ref._state != DEAD:
                ref._terminating = True
                if ref._exit_event is None:
                    ref._exit_event = trio.Event()
                request_stop(ref)
                stopping.append(ref)
        for ref in stopping:
            ev = ref._exit_event
            timeout = ref._spec.shutdown
            if ev is not None:
                with trio.move_on_at(math.inf if timeout is None else t0 + timeout):
                    await ev.wait()
                if not ev.is_set():
                    log.warning("actor %r did not stop within %ss; cancelling it", ref.name, timeout)
                    if ref._scope is not None:
                        ref._scope.cancel()
                    with trio.move_on_after(2 * (timeout or 0) + 1):
                        await ev.wait()
                    if not ev.is_set():
                        log.error("actor %r ignored cancellation; abandoning its task", ref.name)
                        self._detach(ref)
            ref._terminating = False
            self._remove(ref, ref._reason or _SHUTDOWN)

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

