"""``Actor``, the base class of user actors, and ``ActorContext``, its handle on the kernel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from qgactor.runtime.messages import ExitReason

if TYPE_CHECKING:
    from qgactor.runtime.ref import ActorRef
    from qgactor.runtime.spec import ChildSpec
    from qgactor.runtime.system import ActorNursery

__all__ = ["Actor", "ActorContext"]


class Actor:
    """Base class for actors. Subclass it and override the hooks you need.

    The kernel builds a fresh instance for every (re)start by calling the factory (usually the
    class) with the child's args, sets ``self.ref`` and ``self.ctx``, then:

    1. ``await on_start()`` - before the first message. If it raises, the start counts as a crash
       (the supervisor restarts or gives up per its policy; nothing hangs).
    2. ``await receive(msg)`` for each message, one at a time, in order. The return value answers
       :meth:`ActorRef.ask`. If it raises, the actor crashes: the message is recorded as a dead
       letter (an asker gets :class:`ActorError`) and the supervisor decides what happens next.
    3. ``await on_stop(reason)`` - always after a successful ``on_start``, shielded from
       cancellation (bounded by the child's ``shutdown`` timeout), with the :class:`ExitReason`.

    Long-running loops (a websocket reader, a ticker) do not belong in ``receive``: start them
    from ``on_start`` with ``self.ctx.start_soon(self.reader)``. Such a task lives exactly as long
    as this incarnation, is cancelled when the actor stops or restarts, and crashes the actor if
    it raises - so the supervisor restarts actor and loop together::

        class Reader(Actor):
            async def on_start(self):
                self.ctx.start_soon(self.read_forever)

            async def read_forever(self):
                async for frame in self.ws:
                    await self.ref.tell(frame)   # or handle it directly

    Keep ``__init__`` cheap and side-effect free; do I/O in ``on_start``. Subclasses get an
    instance ``__dict__`` as usual; one that declares ``__slots__`` (for actors that exist by
    the thousand) has none, as the base declares only ``ref`` and ``ctx``.
    """

    __slots__ = ("ref", "ctx", "__weakref__")

    ref: ActorRef
    """This actor's own ref (stable across restarts)."""
    ctx: ActorContext
    """The kernel context of this incarnation."""

    async def on_start(self) -> None:
        """Called once per incarnation before the first message. Default: nothing."""

    async def receive(self, msg: Any) -> Any:
        """Handle one message; the return value answers ``ask``. Default: ignore it."""
        return None

    async def on_stop(self, reason: ExitReason) -> None:
        """Called when this incarnation ends (shielded). Default: nothing."""


class ActorContext:
    """What an actor incarnation can ask of the kernel. Available as ``self.ctx``.

    A context belongs to one incarnation: after a restart the new actor instance gets a new one.
    """

    __slots__ = ("_ref", "_incarnation")

    def __init__(self, ref: ActorRef, incarnation: int) -> None:
        self._ref = ref
        self._incarnation = incarnation

    @property
    def ref(self) -> ActorRef:
        """The actor's own ref."""
        return self._ref

    @property
    def system(self) -> ActorNursery:
        """The whole actor system (spawn at top level, lookup, snapshot, dead letters)."""
        return self._ref._system

    @property
    def name(self) -> str:
        """The actor's name."""
        return self._ref.name

    def start_soon(self, async_fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None) -> None:
        """Run ``async_fn(*args)`` as a task tied to this incarnation.

        The task is cancelled when the actor stops or restarts (before ``on_stop`` runs). If it
        raises, the actor crashes with that error and its supervisor handles it. Returning
        normally does nothing to the actor. Raises :class:`ActorDead` if this incarnation has
        already ended.
        """
        from qgactor.runtime.tasks import start_helper

        start_helper(self._ref, self._incarnation, async_fn, args, name)

    async def spawn(self, factory: Callable[..., Any] | ChildSpec, *args: Any, **options: Any) -> ActorRef:
        """Spawn a child linked to this actor: same signature as ``ActorNursery.spawn``.

        The children are supervised one-for-one by this actor (default intensity: 3 restarts in
        5 s); they are stopped, in reverse start order, when this incarnation ends. If they exceed
        the restart intensity this actor crashes with :class:`RestartIntensityExceeded`.
        Raises what ``ActorNursery.spawn`` raises, and :class:`ActorDead` if this incarnation has
        already ended.
        """
        from qgactor.runtime.tasks import linked_children

        sup = linked_children(self._ref, self._incarnation)
        return await sup.spawn(factory, *args, **options)

    def watch(self, ref: ActorRef) -> None:
        """Monitor ``ref``: a :class:`Down` message arrives in ``receive`` when it stops for good.

        Watching an already dead ref delivers ``Down`` at once. Watching twice is harmless. The
        watch belongs to this actor's ref: it survives this actor's restarts (unwatch to end it).
        Restarts of the watched actor are invisible; ``Down`` comes once, when it is gone.
        """
        from qgactor.runtime.monitors import watch

        watch(self._ref, ref)

    def unwatch(self, ref: ActorRef) -> None:
        """Stop monitoring ``ref`` (a ``Down`` already queued stays queued)."""
        from qgactor.runtime.monitors import unwatch

        unwatch(self._ref, ref)

    @property
    def key(self) -> Any:
        """The key this actor was started under by ``DynamicSupervisor.get_or_start`` (None
        for actors started otherwise)."""
        return self._ref._key

    @property
    def stopping(self) -> bool:
        """True once a graceful stop of this incarnation was requested (by its supervisor or
        :meth:`stop`): an actor spawned with ``drain_on_stop`` is then handling the rest of its
        mailbox, and ``receive`` may wind down accordingly."""
        ref = self._ref
        return ref._stopping and ref._incarnation == self._incarnation

    def lookup(self, name: str) -> ActorRef | None:
        """The registered actor called ``name`` in this system, or None."""
        return self._ref._system.lookup(name)

    def stop(self) -> None:
        """Stop this actor normally after the current message (``ExitReason.NORMAL``).

        A PERMANENT child is restarted even after a normal stop (OTP semantics); use TRANSIENT or
        TEMPORARY for actors that end on their own.
        """
        ref = self._ref
        if ref._incarnation == self._incarnation:
            from qgactor.runtime.incarnation import request_stop

            request_stop(ref)
