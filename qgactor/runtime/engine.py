"""The supervision engine shared by the root nursery, ``Supervisor``, ``DynamicSupervisor`` and
children spawned with ``ctx.spawn``.

It owns an ordered set of child slots (start order), receives their exit reports, decides
restarts (restart type, strategy, intensity, backoff); stopping children in reverse start order
is inherited from :mod:`qgactor.runtime.stopping`. Decisions are made by one manager coroutine
per engine (``manage``), so they are serialised.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import trio
from trio.lowlevel import Abort, Task, current_task, reschedule, wait_task_rescheduled

from qgactor.runtime.errors import ActorDead, DuplicateName, RestartIntensityExceeded, TooManyChildren
from qgactor.runtime.incarnation import start_incarnation
from qgactor.runtime.messages import ExitReason
from qgactor.runtime.ref import DEAD, EXITED, RESTARTING, RUNNING, STARTING, STOPPING, ActorRef
from qgactor.runtime.spec import Backoff, ChildSpec, Restart, Strategy, build_spec
from qgactor.runtime.stopping import ChildStopping

if TYPE_CHECKING:
    from qgactor.runtime.system import ActorNursery

__all__ = ["Supervision"]

log = logging.getLogger("qgactor.runtime")

_SHUTDOWN = ExitReason.shutdown()


class Supervision(ChildStopping):
    """Children of one supervisor plus its restart policy. Internal; see ``Supervisor``.

    Stopping children (graceful stop, timeouts, release) is inherited from
    :class:`~qgactor.runtime.stopping.ChildStopping`.
    """

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
