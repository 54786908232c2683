"""Conversations: one actor per conversation key, started on demand, stopped when idle.

A key is ``(scene, place, user)``: the user in a channel / DM / group / C2C chat, or with
``scope="place"`` anyone in that place (``user`` empty). The actors run under the bot's
``conversations`` dynamic supervisor (``get_or_start``) and are stopped when idle by the
manager's sweeper. While a
conversation waits, the dispatcher offers that user's messages there to it first (before
commands); a message it takes is not processed further. A crashed conversation actor fails
only its own waiters (with :class:`ConversationEnded`).

The handler-side dialog API (``msg.conversation()``, ``ask``/``wait_for``/``say``) is
:class:`qgactor.bot.dialog.Conversation`; this module is the machinery under it.
"""

from __future__ import annotations

import collections
import logging
import math
from typing import TYPE_CHECKING, Any, Callable

import attrs
import outcome
import trio

from qgactor.runtime import Actor, ActorDead, ChildSpec, ExitReason, Restart

if TYPE_CHECKING:
    from qgactor.bot.context import MessageContext

__all__ = [
    "ConversationActor",
    "ConversationManager",
    "ConversationError",
    "ConversationTimeout",
    "ConversationEnded",
    "ConversationKey",
    "Waiter",
    "Wait",
    "withdraw_waiter",
]

log = logging.getLogger(__name__)

ConversationKey = tuple[str, str, str]
_SCOPES = ("user", "place")


class ConversationError(Exception):
    """Base class of conversation errors."""


class ConversationTimeout(ConversationError, TimeoutError):
    """Raised by ``ask``/``wait_for`` when no matching message arrived in time.

    Escaping a handler it is logged at INFO level (a user walking away is not a bug).
    """


class ConversationEnded(ConversationError):
    """Raised to a waiting handler when its conversation actor stopped (crash or shutdown)."""


@attrs.define(slots=True, eq=False)
class Waiter:
    """One pending ``wait_for``: filled by the conversation actor.

    The handler parks its task on the waiter itself (``task``; see ``Conversation._turn``) and
    the manager's timer (:meth:`ConversationManager.time_out_at`) wakes it at its deadline: no
    ``trio.Event`` and no cancel scope per waiting conversation (together ~1.5 KB each).
    """

    check: Callable[[Any], bool] | None = None
    value: Any = None
    error: BaseException | None = None
    withdrawn: bool = False
    done: bool = False
    """True once answered (``value``) or failed (``error``)."""
    task: Any = None
    """The parked handler task while it waits."""

    def finish(self, value: Any = None, error: BaseException | None = None) -> None:
        """Answer the waiter (or fail it with ``error``) and wake its task; once only."""
        if self.done:
            return
        self.done = True
        self.value = value
        self.error = error
        self._wake(None)

    def _wake(self, how: Any) -> None:
        task = self.task
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task, outcome.Value(how))

    def _abort(self, _raise_cancel: Any) -> trio.lowlevel.Abort:
        self.task = None
        return trio.lowlevel.Abort.SUCCEEDED

    def accepts(self, ctx: Any) -> bool:
        """True if this waiter takes ``ctx`` (not withdrawn and ``check`` passes; a failing
        ``check`` is logged and counts as no match)."""
        if self.withdrawn:
            return False
        if self.check is None:
            return True
        try:
            return bool(self.check(ctx))
        except Exception:
            log.exception("a conversation check function failed; treating it as no match")
            return False


@attrs.frozen(slots=True)
class Wait:
    """Message: register a waiter."""

    waiter: Waiter


@attrs.frozen(slots=True)
class Cancel:
    """Message: remove a waiter (timed out or conversation closed)."""

    waiter: Waiter


@attrs.frozen(slots=True)
class Offer:
    """Message (ask): does a waiter take this message? Answers True/False."""

    ctx: Any


@attrs.frozen(slots=True)
class EndWaits:
    """Message: fail every waiter with :class:`ConversationEnded` (the bot is stopping)."""

    reason: str


class ConversationActor(Actor):
    """The actor of one conversation key: holds its waiters in order."""

    __slots__ = ("manager", "waiters")

    def __init__(self, manager: "ConversationManager") -> None:
        self.manager = manager
        self.waiters: list[Waiter] = []

    @property
    def key(self) -> ConversationKey:
        """The conversation key (the actor is started under it: ``ctx.key``)."""
        key: ConversationKey = self.ctx.key
        return key

    async def receive(self, msg: Any) -> Any:
        self.manager.touch(self.key)
        if isinstance(msg, Offer):
            for w in self.waiters:
                if w.accepts(msg.ctx):
                    self.waiters.remove(w)
                    w.finish(msg.ctx)
                    self._sync_index()
                    self.manager.turns += 1
                    return True
            return False
        if isinstance(msg, Wait):
            self.waiters.append(msg.waiter)
            self._sync_index()
            return None
        if isinstance(msg, Cancel):
            if msg.waiter in self.waiters:
                self.waiters.remove(msg.waiter)
                self._sync_index()
            return None
        if isinstance(msg, EndWaits):
            self._fail_waiters(msg.reason)
            self._sync_index()
            return None
        raise TypeError(f"conversation actor got an unknown message {msg!r}")

    def _sync_index(self) -> None:
        if self.waiters:
            self.manager.waiting[self.key] = self.ref
        elif self.manager.waiting.get(self.key) is self.ref:
            del self.manager.waiting[self.key]

    async def on_stop(self, reason: ExitReason) -> None:
        if self.manager.waiting.get(self.key) is self.ref:
            del self.manager.waiting[self.key]
        if self.manager.live.get(self.key) is self.ref:
            del self.manager.live[self.key]
        self._fail_waiters(repr(reason))

    def _fail_waiters(self, reason: str) -> None:
        for w in self.waiters:
            w.finish(error=ConversationEnded(f"conversation {self.key} ended: {reason}"))
        self.waiters.clear()


def withdraw_waiter(ref: Any, waiter: Waiter) -> None:
    """Tell a conversation actor to drop ``waiter`` without blocking (usable while cancelled)."""
    waiter.withdrawn = True
    try:
        if not ref.tell_nowait(Cancel(waiter)):
            log.warning("conversation mailbox full: a cancelled waiter stays until the actor idles out")
    except ActorDead:
        pass


class ConversationManager:
    """Routes messages to waiting conversations, starts conversation actors and stops idle ones.

    Actors are started with the supervisor's ``get_or_start`` (one per key). Idle stop is done
    here by one sweeper task for all of them (:meth:`sweep`), not by a timer per actor: a
    conversation actor then costs what a plain actor costs. An actor with a waiting handler is
    never stopped for idleness. The record of a stopped key (``known``) is forgotten after
    ``forget_after`` seconds without activity, so a bot meeting new users for months does not
    grow without bound.

    Args:
        supervisor: the ``conversations`` ``DynamicSupervisorRef``.
        idle_timeout: seconds without messages after which a conversation actor stops.
        offer_timeout: seconds to wait for a conversation actor to answer an offer.
        forget_after: seconds without activity after which a stopped key's record is dropped.
    """

    def __init__(self, supervisor: Any, *, idle_timeout: float = 300.0, offer_timeout: float = 5.0,
                 forget_after: float = 86400.0) -> None:
        self.supervisor = supervisor
        self.idle_timeout = idle_timeout
        self.offer_timeout = offer_timeout
        self.forget_after = forget_after
        self._next_forget = 0.0
        self.waiting: dict[ConversationKey, Any] = {}
        #: key -> trio time of its last activity (a float per key: all a stopped key costs)
        self.known: dict[ConversationKey, float] = {}
        self.live: collections.OrderedDict[ConversationKey, Any] = collections.OrderedDict()
        self.started = 0
        self.stopped_idle = 0
        self.turns = 0
        self.forgotten = 0
        # wait timeouts: a FIFO of (deadline, waiter) per timeout value (deadlines of one value
        # only grow), served by one timer task; answered waiters are skipped (lazily dropped)
        self._timeouts: dict[float, collections.deque[tuple[float, Waiter]]] = {}
        self._timer_scope: trio.CancelScope | None = None
        # one spec for every conversation actor (each reads its key from ctx.key)
        self._spec = ChildSpec(ConversationActor, args=(self,), restart=Restart.TEMPORARY)

    def time_out_at(self, deadline: float, timeout: float, waiter: Waiter) -> None:
        """Wake ``waiter`` (not done: it timed out) at ``deadline`` (``timeout`` seconds from now)."""
        fifo = self._timeouts.get(timeout)
        if fifo is None:
            fifo = self._timeouts[timeout] = collections.deque()
        else:
            while fifo and fifo[0][1].task is None and fifo[0][1].done:
                fifo.popleft()  # answered waiters at the head: let them go now
        fifo.append((deadline, waiter))
        scope = self._timer_scope
        if scope is not None and deadline < scope.deadline:
            scope.deadline = deadline

    async def run_timeouts(self) -> None:
        """Wake waiters whose deadline passed (the bot runs this beside :meth:`sweep`)."""
        while True:
            nxt = min((f[0][0] for f in self._timeouts.values() if f), default=math.inf)
            with trio.CancelScope(deadline=nxt) as scope:
                self._timer_scope = scope
                await trio.sleep_forever()
            self._timer_scope = None
            now = trio.current_time()
            for timeout, fifo in list(self._timeouts.items()):
                while fifo and fifo[0][0] <= now:
                    _, waiter = fifo.popleft()
                    waiter._wake(None)
                if not fifo:
                    del self._timeouts[timeout]

    def touch(self, key: ConversationKey) -> None:
        """Count activity on ``key`` (its actor calls this for every message)."""
        if key in self.live:
            self.live.move_to_end(key)
        self.known[key] = trio.current_time()

    async def stop_idle(self) -> int:
        """Stop the actors idle for ``idle_timeout`` or longer (none with a waiting handler);
        return how many were stopped."""
        cutoff = trio.current_time() - self.idle_timeout
        stopped = 0
        checked = 0
        total = len(self.live)
        while self.live and checked < total:
            key = next(iter(self.live))
            last_active = self.known.get(key)
            if last_active is not None and last_active > cutoff:
                break  # live is ordered by activity: the rest are younger
            checked += 1
            ref = self.live.pop(key)
            if key in self.waiting:
                self.live[key] = ref  # a handler waits: keep it, look again later
                continue
            if ref.alive:
                try:
                    await self.supervisor.terminate_child(ref)
                    stopped += 1
                except Exception:
                    log.exception("could not stop idle conversation %s", key)
        self.stopped_idle += stopped
        return stopped

    def forget_stale(self) -> int:
        """Drop the records of keys without an actor and inactive for ``forget_after`` seconds;
        return how many were dropped (one pass over ``known``)."""
        cutoff = trio.current_time() - self.forget_after
        live = self.live
        stale = [key for key, last in self.known.items() if last < cutoff and key not in live]
        for key in stale:
            del self.known[key]
        self.forgotten += len(stale)
        return len(stale)

    async def sweep(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Stop idle conversation actors until cancelled (every quarter of ``idle_timeout``, at
        least every second; a sweep with nothing to stop costs O(1)); forget stale key records
        every quarter of ``forget_after``."""
        task_status.started()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.run_timeouts)
            await self._sweep_idle()

    async def _sweep_idle(self) -> None:
        while True:
            await trio.sleep(min(1.0, max(0.01, self.idle_timeout / 4)))
            await self.stop_idle()
            now = trio.current_time()
            if now >= self._next_forget:
                self._next_forget = now + self.forget_after / 4
                self.forget_stale()

    @staticmethod
    def key_for(ctx: "MessageContext", scope: str = "user") -> ConversationKey:
        """Return the conversation key of a message for ``scope`` ("user" or "place").

        Raises:
            ValueError: an unknown scope, or a message without place or author.
        """
        if scope not in _SCOPES:
            raise ValueError(f"conversation scope must be one of {_SCOPES}, got {scope!r}")
        scene = ctx.scene
        place = ctx.place_id
        user = ctx.author_id if scope == "user" else ""
        if scene is None or not place or (scope == "user" and not user):
            raise ValueError(f"a conversation needs a message with a place and an author, got {ctx!r}")
        return (scene.value, place, user or "")

    async def actor_for(self, key: ConversationKey) -> Any:
        """Return the actor of ``key``, starting it if needed."""
        ref = self.live.get(key)
        if ref is None or not ref.alive:
            ref = await self.supervisor.get_or_start(key, self._spec)
            self.started += 1
        self.live[key] = ref
        self.touch(key)
        return ref

    async def offer(self, ctx: "MessageContext") -> bool:
        """Offer a message to a conversation waiting for its author there (then for anyone
        there); return True if one took it."""
        if not self.waiting:
            return False
        scene = ctx.scene
        place = ctx.place_id
        if scene is None or not place:
            return False
        for user in (ctx.author_id or "", ""):
            ref = self.waiting.get((scene.value, place, user))
            if ref is None:
                continue
            try:
                if await ref.ask(Offer(ctx), timeout=self.offer_timeout):
                    return True
            except ActorDead:
                continue
            except Exception:
                log.exception("conversation %s failed to take a message", (scene.value, place, user))
        return False

    def end_waits(self, reason: str = "the bot is stopping") -> int:
        """Wake every handler waiting in a conversation with :class:`ConversationEnded` (the
        dispatcher calls this when the bot stops, so that such handlers end at once instead of
        at the shutdown deadline). Returns how many conversations were told; never blocks."""
        told = 0
        for key, ref in list(self.waiting.items()):
            try:
                if ref.tell_nowait(EndWaits(reason)):
                    told += 1
                else:
                    log.warning("conversation %s: mailbox full, its handler ends at the shutdown deadline", key)
            except ActorDead:
                pass
        return told

    def stats(self) -> dict[str, int]:
        """Counters: known keys, live actors, keys waiting now, actors started/stopped idle,
        messages taken by waiters (turns), key records forgotten."""
        return {"known": len(self.known), "live": len(self.live), "waiting": len(self.waiting),
                "started": self.started, "stopped_idle": self.stopped_idle, "turns": self.turns,
                "forgotten": self.forgotten}
