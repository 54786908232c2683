"""``ActorRef``: the address of a supervised child slot, and its bounded mailbox.

The ref *is* the child slot: it owns the mailbox and outlives every incarnation of the actor, so
a ref stays valid across restarts and messages sent during a restart wait in the mailbox. The
kernel's bookkeeping lives in private slots here to keep an idle actor small. The fast paths of
``tell``/``ask`` live here; what happens at the mailbox's edges (overflow policies, dead letters,
failing waiters) is in the base class :class:`~qgactor.runtime.delivery.Delivery`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import trio
from trio.lowlevel import (
    Task,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from qgactor.runtime.delivery import DEAD, NO_MAILBOX, Delivery
from qgactor.runtime.messages import ExitReason
from qgactor.runtime.requests import _Ask, _Putter
from qgactor.runtime.spec import ChildSpec, Overflow

if TYPE_CHECKING:
    from qgactor.runtime.actor import Actor, ActorContext
    from qgactor.runtime.engine import Supervision
    from qgactor.runtime.snapshot import ActorSnapshot
    from qgactor.runtime.system import ActorNursery

__all__ = ["ActorRef"]


# Slot states (ints for cheap comparisons).
STARTING = 0  # factory / on_start running
RUNNING = 1  # message loop running
STOPPING = 2  # incarnation ending (loop left, on_stop pending)
EXITED = 3  # incarnation ended, supervisor decision pending
RESTARTING = 4  # waiting for the backoff delay
# DEAD = 5: stopped for good (defined in qgactor.runtime.delivery, re-exported here)

STATE_NAMES = {
    STARTING: "starting",
    RUNNING: "running",
    STOPPING: "stopping",
    EXITED: "exited",
    RESTARTING: "restarting",
    DEAD: "dead",
}


class ActorRef(Delivery):
    """The address of an actor: send it messages with :meth:`tell`, :meth:`tell_nowait`, :meth:`ask`.

    A ref stays valid while its actor restarts; it becomes dead (``alive`` is False) only when the
    actor stops for good, after which sending raises :class:`ActorDead`. Refs are created by
    ``spawn``; never construct one directly.
    """

    __slots__ = (
        "name",
        "_spec",
        "_system",
        "_sup",
        "_q",
        "_cap",
        "_overflow",
        "_getter",
        "_putters",
        "_state",
        "_stopping",
        "_terminating",
        "_incarnation",
        "_actor",
        "_ctx",
        "_scope",
        "_helpers",
        "_children",
        "_watchers",
        "_watching",
        "_inflight",
        "_crash_exc",
        "_exit_event",
        "_start_waiter",
        "_processed",
        "_dropped",
        "_restarts",
        "_backoff_n",
        "_started_at",
        "_restart_at",
        "_last_error",
        "_reason",
        "_registered",
        "_idle_stop",
        "_key",
        "_helpers_done",
        "_run",
        "_hib",
        "_park_epoch",
        "_task",
        "_idle_deadline",
        "_hib_count",
        "_doomed",
        "__weakref__",
    )

    def __init__(
        self, spec: ChildSpec, name: str, system: ActorNursery, sup: Supervision
    ) -> None:
        self.name = name
        self._spec = spec
        self._system = system
        self._sup = sup
        self._q: deque[Any] = NO_MAILBOX  # allocated by the first sender (Delivery._open_mailbox)
        self._cap = 0  # the mailbox's capacity once allocated (spec.mailbox.capacity); -1: dead
        self._overflow = spec.mailbox.overflow
        self._getter: Task | None = None
        self._putters: deque[_Putter] | None = None
        self._state = STARTING
        self._stopping = False
        self._terminating = False
        self._incarnation = 0
        self._actor: Actor | None = None
        self._ctx: ActorContext | None = None
        self._scope: trio.CancelScope | None = None
        self._helpers: set[trio.CancelScope] | None = None
        self._children: Supervision | None = None
        self._watchers: set[ActorRef] | None = None
        self._watching: set[ActorRef] | None = None
        self._inflight: Any = None
        self._crash_exc: BaseException | None = None
        self._exit_event: trio.Event | None = None
        self._start_waiter: trio.Event | None = None
        self._processed = 0
        self._dropped = 0
        self._restarts = 0
        self._backoff_n = 0
        self._started_at = 0.0
        self._restart_at = 0.0
        self._last_error: BaseException | None = None
        self._reason: ExitReason | None = None
        self._registered = False
        self._idle_stop = False
        self._key: Any = None
        self._helpers_done: trio.Event | None = None
        self._run: object = None  # token of the activation allowed to run the loop
        self._hib = False  # hibernating: running incarnation without a task
        self._park_epoch = -1
        self._task: Task | None = None  # the task running the actor right now
        self._idle_deadline = 0.0  # when an idle_timeout actor stops if no message comes
        self._hib_count = 0
        self._doomed = False  # stopped itself for good: remove on exit, no restart

    # ------------------------------------------------------------------ public
    @property
    def alive(self) -> bool:
        """False once the actor has stopped for good (restarting still counts as alive)."""
        return self._state != DEAD

    @property
    def state(self) -> str:
        """The slot's state: starting, running, stopping, exited, restarting or dead."""
        return STATE_NAMES[self._state]

    @property
    def mailbox_depth(self) -> int:
        """Messages waiting in the mailbox."""
        return len(self._q)

    @property
    def processed(self) -> int:
        """Messages handled by ``receive`` over all incarnations."""
        return self._processed

    @property
    def dropped(self) -> int:
        """Messages dropped or refused by the overflow policy."""
        return self._dropped

    @property
    def restarts(self) -> int:
        """How often this actor was restarted."""
        return self._restarts

    @property
    def exit_reason(self) -> ExitReason | None:
        """Why the actor stopped for good (None while alive)."""
        return self._reason if self._state == DEAD else None

    def snapshot(self) -> ActorSnapshot:
        """The live subtree rooted at this actor (see :func:`qgactor.runtime.snapshot`)."""
        from qgactor.runtime.snapshot import snapshot_ref

        return snapshot_ref(self)

    def __repr__(self) -> str:
        return f"<ActorRef {self.name!r} {STATE_NAMES[self._state]}>"

    async def tell(self, msg: Any) -> None:
        """Send ``msg`` without waiting for an answer.

        A full mailbox follows its overflow policy: BACKPRESSURE waits for room, DROP_NEWEST and
        DROP_OLDEST drop (counted, recorded as dead letters), FAIL raises :class:`MailboxFull`.
        Never raises because the target is restarting. Raises :class:`ActorDead` if the actor
        has stopped for good. This is a trio checkpoint; if it raises ``Cancelled`` the message
        was not sent.
        """
        q = self._q
        if len(q) < self._cap:
            await checkpoint_if_cancelled()
            if len(q) < self._cap:
                # _append_and_wake inlined: this is the kernel's hottest path
                q.append(msg)
                g = self._getter
                if g is not None:
                    self._getter = None
                    reschedule(g)
                elif self._hib:
                    self._hib = False
                    self._system._activate(self)
                await cancel_shielded_checkpoint()
                return
        await self._tell_slow(msg)

    def tell_nowait(self, msg: Any) -> bool:
        """Send ``msg`` without blocking; True if it was queued.

        Returns False when a full mailbox drops it (BACKPRESSURE, DROP_NEWEST; counted as a drop).
        DROP_OLDEST always queues (evicting the oldest). Raises :class:`MailboxFull` for FAIL and
        :class:`ActorDead` if the actor has stopped for good. Call it from the trio thread only;
        from a worker thread use ``trio.from_thread.run_sync(ref.tell_nowait, msg)``.
        """
        if self._q is NO_MAILBOX:
            self._open_mailbox()
        if len(self._q) < self._cap:
            self._append_and_wake(msg)
            return True
        if self._state == DEAD:
            raise self._dead_error()
        ov = self._overflow
        if ov is Overflow.DROP_OLDEST:
            self._evict_oldest()
            self._append_and_wake(msg)
            return True
        if ov is Overflow.FAIL:
            self._dropped += 1
            raise self._full_error()
        self._drop(msg)
        return False

    async def ask(self, msg: Any, timeout: float | None = 5.0) -> Any:
        """Send ``msg`` and wait for ``receive``'s return value.

        Raises :class:`AskTimeout` after ``timeout`` seconds (None waits forever; the request may
        still be handled later and its reply is dropped), :class:`ActorDead` at once if the actor
        has stopped for good or stops before answering, :class:`ActorError` (wrapping the original
        exception) if ``receive`` raises while handling this request (the actor then crashes and
        is supervised as usual), and :class:`MailboxFull` when the overflow policy refuses it.
        A BACKPRESSURE mailbox makes ``ask`` wait for room within the same timeout. A request
        queued while the actor restarts is answered by the next incarnation. An actor asking
        itself gets ``RuntimeError`` (it would deadlock).
        """
        q = self._q
        if timeout is None or len(q) >= self._cap:
            return await self._ask_slow(msg, timeout)
        # Fast path: no cancel scope per request; the system's ask timer fails it on time.
        task = current_task()
        if task is self._task:
            raise self._self_ask_error()
        req = _Ask(msg, task)
        self._append_and_wake(req)
        dq = self._system._ask_deadline(self, timeout, req)
        req.waiting = True
        try:
            return await wait_task_rescheduled(req.abort)
        finally:
            while dq and dq[0][1].task is None:
                dq.popleft()

    async def _ask_slow(self, msg: Any, timeout: float | None) -> Any:
        task = current_task()
        if task is self._task:
            raise self._self_ask_error()
        req = _Ask(msg, task)
        if timeout is None:
            return await self._ask_wait(req)
        with trio.move_on_after(timeout):
            return await self._ask_wait(req)
        raise self._timeout_error(timeout)

    # ----------------------------------------------------------------- internal
    async def _ask_wait(self, req: _Ask) -> Any:
        if self._q is NO_MAILBOX:
            self._open_mailbox()
        if len(self._q) < self._cap:
            self._append_and_wake(req)
        else:
            await checkpoint_if_cancelled()
            await self._put_full(req, is_ask=True)
        if req.result is not None:
            await cancel_shielded_checkpoint()
            return req.result.unwrap()
        req.waiting = True
        return await wait_task_rescheduled(req.abort)

    async def _tell_slow(self, msg: Any) -> None:
        await checkpoint_if_cancelled()
        if self._q is NO_MAILBOX:
            self._open_mailbox()
        if len(self._q) < self._cap:
            self._append_and_wake(msg)
        elif await self._put_full(msg, is_ask=False):
            return  # it blocked (and so yielded) until there was room
        await cancel_shielded_checkpoint()  # a sender looping on a full mailbox must yield

