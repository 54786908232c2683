"""``Supervisor`` and ``DynamicSupervisor``: actors whose job is to run other actors."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import trio

from qgactor.runtime.actor import Actor
from qgactor.runtime.engine import Supervision
from qgactor.runtime.errors import ActorDead
from qgactor.runtime.ref import DEAD, RUNNING, ActorRef
from qgactor.runtime.spec import Backoff, ChildSpec, Mailbox, Restart, Strategy

__all__ = ["Supervisor", "DynamicSupervisor", "DynamicSupervisorRef"]


class Supervisor(Actor):
    """An actor that starts ``children`` in order and keeps them running.

    ``strategy`` picks what restarts when a child is due to restart (see :class:`Strategy`);
    more than ``max_restarts`` restarts within ``within`` seconds make it stop its children in
    reverse order and crash with :class:`RestartIntensityExceeded` (its own parent then decides).
    ``backoff`` delays restarts (None: restart at once). Children start in ``on_start``, so
    ``spawn`` returns once the whole subtree is up. It answers ``ask("children")`` and
    ``ask("snapshot")``.

    Spawn it like any actor, e.g. ``await an.spawn(Supervisor.spec("gateway", [spec1, spec2]))``.
    Raises ``ValueError`` for invalid limits.
    """

    def __init__(
        self,
        children: Sequence[ChildSpec | Callable[..., Any]] = (),
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Backoff | None = Backoff(),
    ) -> None:
        if max_restarts < 0 or within <= 0:
            raise ValueError(f"Supervisor needs max_restarts >= 0 and within > 0, got "
                             f"max_restarts={max_restarts}, within={within}")
        self._child_specs = [c if isinstance(c, ChildSpec) else ChildSpec(c) for c in children]
        self._strategy = Strategy(strategy)
        self._max_restarts = max_restarts
        self._within = within
        self._backoff = backoff

    def _make_engine(self) -> Supervision:
        return Supervision(
            self.ref._system, self.ref.name, owner=self.ref, strategy=self._strategy,
            max_restarts=self._max_restarts, within=self._within, backoff=self._backoff,
        )

    async def on_start(self) -> None:
        """Create the supervision engine and start the declared children in order."""
        ref = self.ref
        eng = self._make_engine()
        ref._children = eng
        self.ctx.start_soon(eng.manage, name=f"{ref.name}:supervision")
        for spec in self._child_specs:
            await eng.spawn(spec)

    async def receive(self, msg: Any) -> Any:
        """``"children"`` → the child refs in start order; ``"snapshot"`` → this subtree's
        :class:`ActorSnapshot`; anything else → None."""
        if msg == "children":
            return self.children
        if msg == "snapshot":
            return self.ref.snapshot()
        return None

    @property
    def children(self) -> list[ActorRef]:
        """The current children, in start order."""
        eng = self.ref._children
        return list(eng.children) if eng is not None else []

    @classmethod
    def spec(
        cls,
        name: str | None,
        children: Sequence[ChildSpec | Callable[..., Any]] = (),
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Backoff | None = Backoff(),
        restart: Restart = Restart.PERMANENT,
        shutdown: float | None = None,
        mailbox: Mailbox | None = None,
    ) -> ChildSpec:
        """A :class:`ChildSpec` for a supervisor called ``name`` over ``children``.

        ``shutdown`` defaults to None (wait for the whole subtree; every leaf has its own timeout).
        """
        return ChildSpec(
            cls,
            args=(list(children),),
            kwargs=dict(strategy=strategy, max_restarts=max_restarts, within=within, backoff=backoff),
            name=name,
            restart=restart,
            shutdown=shutdown,
            mailbox=mailbox or Mailbox(capacity=16),
        )


class DynamicSupervisorRef(ActorRef):
    """The ref of a :class:`DynamicSupervisor`: start and stop its children at run time.

    The methods wait (up to ``timeout``, default 5 s) while the supervisor itself is restarting
    and raise :class:`ActorDead` once it has stopped for good.
    """

    __slots__ = ()

    async def _engine(self, timeout: float = 5.0) -> Supervision:
        with trio.move_on_after(timeout):
            while True:
                if self._state == DEAD:
                    raise self._dead_error()
                eng = self._children
                if self._state == RUNNING and eng is not None and not self._stopping:
                    return eng
                ev = self._start_waiter
                if ev is None:
                    ev = self._start_waiter = trio.Event()
                await ev.wait()
        raise ActorDead(f"dynamic supervisor {self.name!r} did not become ready within {timeout:g}s")

    async def start_child(self, spec: ChildSpec | Callable[..., Any], *args: Any, **options: Any) -> ActorRef:
        """Start a child (a ChildSpec, or a factory with spawn-style options); returns its ref.

        Raises TooManyChildren past ``max_children``, DuplicateName, ActorDead.
        """
        eng = await self._engine()
        return await eng.spawn(spec, *args, **options)

    async def terminate_child(self, child: str | ActorRef) -> None:
        """Stop a child for good (graceful, cancelled after its shutdown timeout).

        ``child`` is a ref or a registered name/``get_or_start`` key label. A child that is
        already dead is ignored; raises ``LookupError`` if it is not a child of this supervisor.
        """
        eng = await self._engine()
        if isinstance(child, ActorRef):
            ref: ActorRef | None = child
        else:
            ref = self._system.lookup(child)
            if ref is None:
                ref = eng.keys.get(child)
        if ref is None or ref._sup is not eng:
            if isinstance(ref, ActorRef) and ref._state == DEAD:
                return
            raise LookupError(f"{child!r} is not a child of dynamic supervisor {self.name!r}")
        await eng.stop_child(ref)

    async def get_or_start(
        self, key: Hashable, factory: Callable[..., Any], *args: Any,
        idle_timeout: float | None = None, **options: Any,
    ) -> ActorRef:
        """The live child for ``key``, started with ``factory(*args)`` on first use.

        The child is TRANSIENT by default (restarted after a crash, not after a normal stop) and
        stops normally after ``idle_timeout`` seconds without messages (None: never). Messages
        that arrive while it is stopping for idleness are not lost: it restarts to handle them.
        Concurrent calls with the same key get the same ref. Extra ``options`` are spawn options.
        A :class:`ChildSpec` given alone (no args, options or ``idle_timeout``) is used as it is,
        with its own restart type and idle timeout: one spec can serve every key (the child
        reads its key from ``self.ctx.key``), so a child costs no spec of its own.
        Raises :class:`TooManyChildren` past ``max_children``, :class:`ActorDead` if the
        supervisor has stopped for good (or is not ready within 5 s), and ``TypeError`` for bad
        options; a factory that fails on start counts as a crash of the child, as for ``spawn``.
        """
        eng = await self._engine()
        ref = eng.keys.get(key)
        if ref is not None and ref._state != DEAD:
            return ref
        if isinstance(factory, ChildSpec) and not args and not options and idle_timeout is None:
            return await eng.spawn(factory, key=key)
        options.setdefault("restart", Restart.TRANSIENT)
        return await eng.spawn(factory, *args, key=key, idle_timeout=idle_timeout, **options)

    def children(self) -> list[ActorRef]:
        """The live children, in start order (empty while restarting)."""
        eng = self._children
        return list(eng.children) if eng is not None else []

    def __len__(self) -> int:
        eng = self._children
        return len(eng.children) if eng is not None else 0


class DynamicSupervisor(Supervisor):
    """A one-for-one supervisor without static children; children come and go at run time.

    Spawning it returns a :class:`DynamicSupervisorRef` (``start_child``, ``terminate_child``,
    ``get_or_start``). ``max_children`` caps the live children (``TooManyChildren`` past it).
    When it stops, all its children are asked to stop at once (like OTP's simple_one_for_one;
    they are independent), each within its own shutdown timeout.
    """

    _ref_class = DynamicSupervisorRef

    def __init__(
        self,
        *,
        max_children: int | None = None,
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Backoff | None = Backoff(),
    ) -> None:
        super().__init__((), strategy=Strategy.ONE_FOR_ONE, max_restarts=max_restarts,
                         within=within, backoff=backoff)
        if max_children is not None and max_children < 1:
            raise ValueError(f"max_children must be >= 1 or None, got {max_children}")
        self._max_children = max_children

    def _make_engine(self) -> Supervision:
        eng = super()._make_engine()
        eng.max_children = self._max_children
        eng.concurrent_stop = True
        return eng
