"""``open_actor_nursery``: an actor system inside any trio program, and its ``ActorNursery``."""

from __future__ import annotations

import contextvars
import heapq
import itertools
import logging
import math
import random
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import outcome
import trio

from qgactor.runtime.engine import Supervision
from qgactor.runtime.errors import ActorDead
from qgactor.runtime.incarnation import idle_expired, retire, run_activation
from qgactor.runtime.messages import DeadLetter
from qgactor.runtime.ref import ActorRef
from qgactor.runtime.spec import Backoff, ChildSpec, Strategy

if TYPE_CHECKING:
    from qgactor.runtime.snapshot import ActorSnapshot

__all__ = ["ActorNursery", "open_actor_nursery"]

log = logging.getLogger("qgactor.runtime")


class ActorNursery:
    """The root of an actor system: spawn top-level actors, look them up, inspect the tree.

    Obtained from :func:`open_actor_nursery`; never construct it directly. It is also the root
    supervisor (configured by ``open_actor_nursery``'s arguments).
    """

    def __init__(self, name: str, strategy: Strategy, max_restarts: int, within: float,
                 backoff: Backoff | None, dead_letter_capacity: int,
                 hibernate_after: float | None = 2.0) -> None:
        self.name = name
        self._registry: dict[str, ActorRef] = {}
        self._ids = itertools.count(1)
        self._rng = random.Random()
        self.dead_letters: deque[DeadLetter] = deque(maxlen=dead_letter_capacity)
        """The most recent dead letters (bounded); ``dead_letter_count`` counts all of them."""
        self.dead_letter_count = 0
        self._nursery: trio.Nursery = None  # type: ignore[assignment]
        self._context = contextvars.copy_context()
        self._host_scope: trio.CancelScope | None = None
        self._failure: BaseException | None = None
        self._closed = False
        self._root = Supervision(self, name, strategy=strategy, max_restarts=max_restarts,
                                 within=within, backoff=backoff)
        # hibernation of idle actors: parked loops register once per epoch; the sweeper retires
        # the tasks of those still parked one full epoch later.
        self._epoch = 0
        self._epoch_len = hibernate_after / 2 if hibernate_after else 0.0
        self._bucket: list[ActorRef] = []
        self._old_bucket: list[ActorRef] = []
        self._sweeper: trio.lowlevel.Task | None = None
        # ask timeouts: one FIFO per timeout value (deadlines ascend), one timer task
        self._ask_queues: dict[float, deque[tuple[float, Any]]] = {}
        self._timer_scope: trio.CancelScope | None = None
        self._timer_next = math.inf
        # idle timeouts of hibernating actors: (deadline, seq, ref, hibernation token)
        self._idle_heap: list[tuple[float, int, ActorRef, int]] = []

    # ------------------------------------------------------------------ API
    async def spawn(self, factory: Callable[..., Any] | ChildSpec, *args: Any, **options: Any) -> ActorRef:
        """Start a top-level actor and return its ref once ``on_start`` finished.

        ``spawn(Factory, *args, name=None, restart=Restart.PERMANENT, shutdown=5.0,
        mailbox=Mailbox(), idle_timeout=None, kwargs={...})`` or ``spawn(ChildSpec(...))``
        (``kwargs`` are the factory's keyword arguments). A factory that
        raises (in ``__init__`` or ``on_start``) counts as a crash: the root supervisor restarts
        it per its policy, and past the restart intensity the whole nursery fails. Raises
        :class:`DuplicateName` for a taken name, :class:`ActorDead` after shutdown began, and
        ``TypeError`` for bad options.
        """
        if self._closed:
            raise ActorDead(f"actor system {self.name!r} is shut down; cannot spawn new actors")
        return await self._root.spawn(factory, *args, **options)

    def lookup(self, name: str) -> ActorRef | None:
        """The live actor registered as ``name`` (anywhere in this system), or None."""
        return self._registry.get(name)

    async def stop(self, ref: ActorRef) -> None:
        """Stop ``ref`` for good: graceful stop, cancelled after its shutdown timeout.

        Works for any actor of this system (its own supervisor removes it; it is not restarted).
        Stopping a dead actor does nothing. An actor may stop itself for good with
        ``await self.ctx.system.stop(self.ref)``: it ends after its current message. Never
        raises (a child that ignores its timeout is cancelled, then abandoned with a log line).
        """
        await ref._sup.stop_child(ref)

    @property
    def children(self) -> list[ActorRef]:
        """Top-level actors in start order."""
        return list(self._root.children)

    def snapshot(self) -> ActorSnapshot:
        """The live actor tree (see :class:`ActorSnapshot`)."""
        from qgactor.runtime.snapshot import snapshot_system

        return snapshot_system(self)

    def _dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letter_count += 1
        self.dead_letters.append(letter)
        if letter.reason == "crash":
            log.warning("dead letter: %r", letter)
        else:
            log.debug("dead letter: %r", letter)

    # -------------------------------------------------------- ask timeouts
    def _ask_deadline(self, ref: ActorRef, timeout: float, req: Any) -> deque[tuple[float, Any]]:
        """Register ``req`` to fail with AskTimeout after ``timeout`` s; returns its FIFO."""
        deadline = trio.current_time() + timeout
        dq = self._ask_queues.get(timeout)
        if dq is None:
            dq = self._ask_queues[timeout] = deque()
        dq.append((deadline, req, ref))
        if deadline < self._timer_next:
            self._timer_next = deadline
            if self._timer_scope is not None:
                self._timer_scope.deadline = deadline
        return dq  # type: ignore[return-value]

    def _idle_watch(self, ref: ActorRef, deadline: float, token: int) -> None:
        """Stop hibernating ``ref`` normally at ``deadline`` unless it woke up since."""
        heapq.heappush(self._idle_heap, (deadline, next(self._ids), ref, token))
        if deadline < self._timer_next:
            self._timer_next = deadline
            if self._timer_scope is not None:
                self._timer_scope.deadline = deadline

    async def _ask_timer(self) -> None:
        """One task for every ask timeout and every hibernating actor's idle timeout."""
        while True:
            now = trio.current_time()
            nxt = math.inf
            heap = self._idle_heap
            while heap and heap[0][0] <= now:
                _, _, ref, token = heapq.heappop(heap)
                idle_expired(ref, token)
            if heap:
                nxt = heap[0][0]
            for timeout, dq in list(self._ask_queues.items()):
                while dq:
                    deadline, req, ref = dq[0]  # type: ignore[misc]
                    if req.task is None:
                        dq.popleft()
                    elif deadline <= now:
                        dq.popleft()
                        req.reply(outcome.Error(ref._timeout_error(timeout)))
                    else:
                        nxt = min(nxt, deadline)
                        break
                if not dq:
                    del self._ask_queues[timeout]
            self._timer_next = nxt
            with trio.CancelScope(deadline=nxt) as scope:
                self._timer_scope = scope
                await trio.sleep_forever()
            self._timer_scope = None

    # --------------------------------------------------------- hibernation
    def _activate(self, ref: ActorRef, first: bool = False) -> None:
        """Start a task running ``ref``'s actor (its first activation, or it was hibernating and
        a message or a stop request arrived). Actor tasks always run in a copy of the context
        the system was opened in, never in the context of whoever woke them."""
        self._context.run(self._nursery.start_soon, run_activation, ref, ref._incarnation,
                          first, name=ref.name)

    def _parked(self, ref: ActorRef) -> None:
        if self._epoch_len:
            self._bucket.append(ref)
            s = self._sweeper
            if s is not None:
                self._sweeper = None
                trio.lowlevel.reschedule(s)

    def _abort_sweeper(self, _raise_cancel: object) -> trio.lowlevel.Abort:
        self._sweeper = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def _sweep(self) -> None:
        while True:
            if not self._bucket and not self._old_bucket:
                self._sweeper = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(self._abort_sweeper)
                continue
            await trio.sleep(self._epoch_len)
            old = self._old_bucket
            self._old_bucket = self._bucket
            self._bucket = []
            self._epoch += 1
            target = self._epoch - 2
            for ref in old:
                if ref._park_epoch == target:
                    retire(ref)

    # ----------------------------------------------------------- lifecycle
    async def _host(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        # Actors live in a shielded nursery: cancelling the body does not cancel them, the
        # graceful shutdown in open_actor_nursery stops them in reverse start order instead.
        with trio.CancelScope(shield=True) as scope:
            self._host_scope = scope
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._run_root, name=f"{self.name}:supervision")
                nursery.start_soon(self._ask_timer, name=f"{self.name}:timer")
                if self._epoch_len:
                    nursery.start_soon(self._sweep, name=f"{self.name}:sweeper")
                task_status.started()
                await trio.sleep_forever()

    async def _run_root(self) -> None:
        try:
            await self._root.manage()
        except BaseException as exc:
            if isinstance(exc, trio.Cancelled):
                raise
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        """The system cannot go on (root intensity exceeded, SystemExit in an actor): cancel the
        ``open_actor_nursery`` body; the block shuts down gracefully and raises ``exc``."""
        if self._failure is None:
            self._failure = exc
        if self._outer_scope is not None:
            self._outer_scope.cancel()

    async def _shutdown(self) -> None:
        self._closed = True
        try:
            await self._root.close()
        finally:
            if self._host_scope is not None:
                self._host_scope.cancel()

    _outer_scope: trio.CancelScope | None = None


@asynccontextmanager
async def open_actor_nursery(
    *,
    strategy: Strategy = Strategy.ONE_FOR_ONE,
    max_restarts: int = 3,
    within: float = 5.0,
    backoff: Backoff | None = Backoff(),
    name: str = "root",
    dead_letter_capacity: int = 1000,
    hibernate_after: float | None = 2.0,
) -> AsyncIterator[ActorNursery]:
    """Run an actor system for the duration of the ``async with`` block.

    The arguments configure the root supervisor (see :class:`Supervisor`). Leaving the block stops
    every actor gracefully, in reverse start order (each child gets its ``shutdown`` timeout, then
    is cancelled), also when the block raises or is cancelled. If the root supervisor exceeds its
    restart intensity, the block is cancelled and :class:`RestartIntensityExceeded` is raised
    from the ``async with``; likewise a ``SystemExit``/``KeyboardInterrupt`` raised inside an
    actor stops the system gracefully and is re-raised here. An exception from the block
    propagates unchanged (not wrapped in an exception group).

    ``dead_letter_capacity`` bounds ``an.dead_letters``. ``hibernate_after`` (seconds, None to
    disable) lets plain actors idle that long give up their trio task until the next message;
    this is invisible to them and keeps 100k idle actors cheap.
    """
    system = ActorNursery(name, strategy, max_restarts, within, backoff, dead_letter_capacity,
                          hibernate_after)
    try:
        async with trio.open_nursery() as outer:
            system._outer_scope = outer.cancel_scope
            await outer.start(system._host)
            try:
                yield system
            finally:
                with trio.CancelScope(shield=True):
                    await system._shutdown()
    except BaseExceptionGroup as eg:
        if system._failure is not None:
            raise system._failure  # noqa: B904 - the body's error is its consequence (context)
        if len(eg.exceptions) == 1:
            raise eg.exceptions[0] from None
        raise
    if system._failure is not None:
        raise system._failure
