"""What happens to a message that cannot simply be queued, and to what waits when an actor ends.

:class:`Delivery` is the base of :class:`~qgactor.runtime.ref.ActorRef` holding the mailbox's
edges: the overflow policies of a full mailbox (wait, drop newest, drop oldest, fail), handing
room to blocked senders, dead letters, and failing queued asks and blocked senders when the actor
stops for good. ``ActorRef`` keeps the fast paths (``tell``, ``ask``) and the public API.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

import outcome
from trio.lowlevel import Task, cancel_shielded_checkpoint, current_task, reschedule, wait_task_rescheduled

from qgactor.runtime.errors import ActorDead, ActorError, AskTimeout, MailboxFull
from qgactor.runtime.messages import DeadLetter, ExitReason
from qgactor.runtime.requests import _Ask, _Putter
from qgactor.runtime.spec import ChildSpec, Overflow

if TYPE_CHECKING:
    from qgactor.runtime.system import ActorNursery

__all__ = ["Delivery", "DEAD", "NO_MAILBOX"]

log = logging.getLogger("qgactor.runtime")

DEAD = 5  # slot state: stopped for good (the full table is in qgactor.runtime.ref)

NO_MAILBOX: Any = ()
"""``_q`` of a slot whose mailbox deque is not allocated (never used, or released while the
actor hibernates): empty, and with ``_cap == 0`` every sender takes the slow path, which
allocates it (:meth:`Delivery._open_mailbox`). An empty ``deque`` costs ~760 B in CPython,
about half of an idle actor."""


class Delivery:
    """The mailbox edges of an actor slot (internal; a base of ``ActorRef``, no state of its own)."""

    __slots__ = ()

    name: str
    _spec: ChildSpec
    _system: ActorNursery
    _q: deque[Any]
    _cap: int
    _overflow: Overflow
    _getter: Task | None
    _putters: deque[_Putter] | None
    _state: int
    _hib: bool
    _dropped: int
    _reason: ExitReason | None
    _inflight: Any

    def _timeout_error(self, timeout: float) -> AskTimeout:
        return AskTimeout(
            f"actor {self.name!r} did not answer within {timeout:g}s "
            f"({len(self._q)} message(s) queued); the reply, if any, will be dropped. "
            "Raise the timeout or make the actor answer faster."
        )

    def _self_ask_error(self) -> RuntimeError:
        return RuntimeError(
            f"actor {self.name!r} asked itself: it would wait for its own reply forever. Handle "
            "the message directly, or tell() it to yourself"
        )

    async def _put_full(self, item: Any, *, is_ask: bool) -> bool:
        """Put into a full (or dead) mailbox according to the overflow policy.

        Returns True if it blocked (BACKPRESSURE), False if it handled the item without
        waiting. Raising paths yield first, so a sender retrying in a loop cannot starve others.
        """
        if self._state == DEAD:
            await cancel_shielded_checkpoint()
            raise self._dead_error()
        ov = self._overflow
        if ov is Overflow.BACKPRESSURE:
            p = _Putter(current_task(), item, self)
            if self._putters is None:
                self._putters = deque()
            self._putters.append(p)
            await wait_task_rescheduled(p.abort)
            return True
        if ov is Overflow.DROP_OLDEST:
            self._evict_oldest()
            self._append_and_wake(item)
            return False
        if ov is Overflow.DROP_NEWEST and not is_ask:
            self._drop(item)
            return False
        self._dropped += 1
        await cancel_shielded_checkpoint()
        raise self._full_error()

    def _open_mailbox(self) -> None:
        """Allocate the mailbox deque on first use (see ``NO_MAILBOX``); not once dead."""
        if self._q is NO_MAILBOX and self._state != DEAD:
            self._q = deque()
            self._cap = self._spec.mailbox.capacity

    def _close_mailbox(self) -> None:
        """Give back an empty mailbox deque (an actor entering hibernation): the next sender
        allocates a new one. Keeps it while senders are blocked."""
        if not self._q and not self._putters and self._state != DEAD:
            self._q = NO_MAILBOX
            self._cap = 0

    def _append_and_wake(self, item: Any) -> None:
        self._q.append(item)
        g = self._getter
        if g is not None:
            self._getter = None
            reschedule(g)
        elif self._hib:
            self._hib = False
            self._system._activate(self)

    def _deliver_system(self, msg: Any) -> None:
        """Queue a kernel message (``Down``) regardless of capacity; ignored once dead."""
        if self._state != DEAD:
            self._open_mailbox()
            self._append_and_wake(msg)

    def _handoff(self) -> None:
        """After a pop: move one blocked BACKPRESSURE putter's item into the mailbox."""
        putters = self._putters
        while putters and len(self._q) < self._cap:
            p = putters.popleft()
            self._q.append(p.item)
            reschedule(p.task)

    def _evict_oldest(self) -> None:
        q = self._q
        if q:
            old = q.popleft()
            self._drop(old)

    def _drop(self, item: Any) -> None:
        self._dropped += 1
        if type(item) is _Ask:
            item.reply(outcome.Error(self._full_error()))
            item = item.msg
        self._system._dead_letter(DeadLetter(self.name, item, "dropped"))

    def _full_error(self) -> MailboxFull:
        return MailboxFull(
            f"mailbox of actor {self.name!r} is full ({self._spec.mailbox.capacity} messages, "
            f"overflow={self._overflow.name}); slow down the sender, raise the capacity, or pick "
            "another overflow policy"
        )

    def _dead_error(self) -> ActorDead:
        reason = self._reason
        return ActorDead(
            f"actor {self.name!r} has stopped ({reason!r}); messages to it are not delivered. "
            "Spawn it again or look up its replacement."
        )

    def _fail_pending(self) -> None:
        """The actor is dead for good: dead-letter queued tells, fail asks and blocked senders."""
        q = self._q
        system = self._system
        if q:
            # never silent: an actor that promised to drain says how much it could not handle
            level = logging.WARNING if self._spec.drain_on_stop is not None else logging.DEBUG
            log.log(level, "actor %r stopped for good with %d message(s) unhandled in its "
                    "mailbox; recorded as dead letters (queued asks fail with ActorDead)",
                    self.name, len(q))
        while q:
            item = q.popleft()
            if type(item) is _Ask:
                item.reply(outcome.Error(self._dead_error()))
            else:
                system._dead_letter(DeadLetter(self.name, item, "stopped"))
        putters = self._putters
        while putters:
            p = putters.popleft()
            reschedule(p.task, outcome.Error(self._dead_error()))

    def _fail_inflight(self, reason: ExitReason) -> None:
        """Record the message being handled when the incarnation ended as a dead letter."""
        item = self._inflight
        if item is None:
            return
        self._inflight = None
        msg = item
        if type(item) is _Ask:
            msg = item.msg
            if reason.error is not None:
                err: BaseException = ActorError(self.name, reason.error)
                err.__cause__ = reason.error
            else:
                err = self._dead_error()
            item.reply(outcome.Error(err))
        kind = "crash" if reason.is_crash else "stopped"
        self._system._dead_letter(DeadLetter(self.name, msg, kind, reason.error))
