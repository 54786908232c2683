"""The plugin event bus: declared events, ordered handlers and non-blocking observers.

* An event must be **declared** before it is emitted: :class:`EventSpec` gives its name and
  its fields (name → type). ``emit(name, **fields)`` checks the name and every field; a typo
  is an error, not a silent no-op. Plugins declare their own events, named
  ``"<plugin>.<event>"``; the plugin manager declares ``plugin.*`` lifecycle events.
* **Handlers** run in order and the emitter awaits them: higher ``priority`` first, then
  ``before`` / ``after`` constraints (naming other handlers by id ``"owner.handler"`` or a whole
  owner) are honoured, then registration order. A handler returning :data:`STOP` ends the
  chain. A failing handler is logged with its traceback and recorded; the next one still runs.
* **Observers** never block the emitter: they are queued (bounded; overflow is counted and
  logged, never waited on) and run by the bus's own task (:meth:`EventBus.run`), each bounded
  in time.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
import trio

__all__ = [
    "EventSpec",
    "BusEvent",
    "EventBus",
    "EmitResult",
    "Subscription",
    "STOP",
    "EventBusError",
    "UnknownEventError",
    "EventFieldError",
    "OrderingError",
]

log = logging.getLogger(__name__)


class EventBusError(Exception):
    """Base class of event bus errors."""


class UnknownEventError(EventBusError, LookupError):
    """An event name was emitted or subscribed to without being declared."""


class EventFieldError(EventBusError, TypeError):
    """``emit`` got missing, unexpected or wrongly typed fields for an event."""


class OrderingError(EventBusError):
    """``before``/``after`` constraints of handlers form a cycle."""


class _Stop:
    __slots__ = ()

    def __repr__(self) -> str:
        return "STOP"


STOP: Any = _Stop()
"""Return this from a handler to stop later handlers of the same emit (observers still run)."""


@attrs.frozen(slots=True)
class EventSpec:
    """The declaration of an event.

    Attributes:
        name: the event name, e.g. ``"weather.looked_up"``.
        fields: field name → expected type (``object`` or ``typing.Any`` accepts anything;
            a tuple of types accepts any of them).
        doc: what the event means, for listings.
        owner: the plugin that declared it (None for the bus or manager itself).
    """

    name: str
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    doc: str = ""
    owner: str | None = None

    def check(self, fields: Mapping[str, Any]) -> None:
        """Validate emitted fields; raises :class:`EventFieldError` naming the problem."""
        missing = sorted(set(self.fields) - set(fields))
        extra = sorted(set(fields) - set(self.fields))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise EventFieldError(
                f"event {self.name!r}: {'; '.join(parts)} "
                f"(declared fields: {', '.join(self.fields) or 'none'})"
            )
        for key, expected in self.fields.items():
            if expected is object or expected is Any:
                continue
            if isinstance(expected, type) or (
                isinstance(expected, tuple) and all(isinstance(t, type) for t in expected)
            ):
                if not isinstance(fields[key], expected):
                    raise EventFieldError(
                        f"event {self.name!r}: field {key!r} must be {_type_name(expected)}, "
                        f"got {type(fields[key]).__name__}"
                    )


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return getattr(t, "__name__", repr(t))


@attrs.frozen(slots=True)
class BusEvent:
    """One emitted event as handlers see it: ``event.name``, ``event.fields`` and the fields
    as attributes (``event.city``)."""

    name: str
    fields: Mapping[str, Any]
    source: str | None = None

    def __getattr__(self, key: str) -> Any:
        try:
            return self.fields[key]
        except KeyError:
            raise AttributeError(f"event {self.name!r} has no field {key!r}") from None


Handler = Callable[[BusEvent], Awaitable[Any]]


@attrs.frozen(slots=True, eq=False)
class Subscription:
    """A registered handler or observer.

    Attributes:
        event: the event name.
        handler: ``async def handler(event: BusEvent) -> Any``.
        name: handler name; its id is ``"owner.name"`` (or ``name`` without owner).
        owner: the plugin it belongs to (for :meth:`EventBus.remove_owner`).
        priority: higher runs earlier.
        before / after: ids or owners of handlers this one must run before / after.
        observer: True for a non-blocking observer.
    """

    event: str
    handler: Handler
    name: str
    owner: str | None = None
    priority: int = 0
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    observer: bool = False
    seq: int = 0

    @property
    def id(self) -> str:
        """``"owner.name"`` or ``name``."""
        return f"{self.owner}.{self.name}" if self.owner else self.name

    def matches(self, ref: str) -> bool:
        """True if ``ref`` (a handler id or an owner name) designates this subscription."""
        return ref == self.id or (self.owner is not None and ref == self.owner)


@attrs.define(slots=True)
class EmitResult:
    """What happened during one emit.

    Attributes:
        handled: ids of the handlers that ran, in order.
        stopped_by: the id of the handler that returned STOP, if any.
        errors: ``(handler id, exception)`` for handlers that raised or timed out.
        observers_queued: how many observers were queued.
        observers_dropped: how many observers were dropped because the queue was full.
    """

    handled: list[str] = attrs.field(factory=list)
    stopped_by: str | None = None
    errors: list[tuple[str, BaseException]] = attrs.field(factory=list)
    observers_queued: int = 0
    observers_dropped: int = 0


def order_handlers(subs: Iterable[Subscription]) -> list[Subscription]:
    """Order handlers: constraints first, then priority (high first), then registration.

    Raises:
        OrderingError: the before/after constraints contain a cycle (named in the message).
    """
    subs = list(subs)
    edges: dict[int, set[int]] = {i: set() for i in range(len(subs))}  # i runs before j
    for i, s in enumerate(subs):
        for j, t in enumerate(subs):
            if i == j:
                continue
            if any(t.matches(r) for r in s.before) or any(s.matches(r) for r in t.after):
                edges[i].add(j)
    indeg = {i: 0 for i in edges}
    for i, outs in edges.items():
        for j in outs:
            indeg[j] += 1
    heap = [(-subs[i].priority, subs[i].seq, i) for i, d in indeg.items() if d == 0]
    heapq.heapify(heap)
    out: list[Subscription] = []
    while heap:
        _, _, i = heapq.heappop(heap)
        out.append(subs[i])
        for j in edges[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(heap, (-subs[j].priority, subs[j].seq, j))
    if len(out) != len(subs):
        stuck = sorted(subs[i].id for i, d in indeg.items() if d > 0)
        raise OrderingError(
            f"handlers {', '.join(stuck)} have before/after constraints that form a cycle; "
            "remove one constraint"
        )
    return out


class EventBus:
    """Declared events, ordered handlers and observers; see the module docstring.

    Args:
        observer_queue: how many observer deliveries may wait; beyond it they are dropped.
        handler_timeout: seconds an ordered handler may run before it is cancelled.
        observer_timeout: seconds an observer may run before it is cancelled.
        max_concurrent_observers: how many observers may run at once.
    """

    def __init__(
        self,
        *,
        observer_queue: int = 1000,
        handler_timeout: float = 10.0,
        observer_timeout: float = 10.0,
        max_concurrent_observers: int = 64,
    ) -> None:
        self._specs: dict[str, EventSpec] = {}
        self._subs: dict[str, list[Subscription]] = {}
        self._ordered: dict[str, list[Subscription]] = {}
        self._seq = itertools.count()
        self._send, self._recv = trio.open_memory_channel[tuple[Subscription, BusEvent]](
            observer_queue
        )
        self.handler_timeout = handler_timeout
        self.observer_timeout = observer_timeout
        self.max_concurrent_observers = max_concurrent_observers
        self.observers_dropped = 0
        """Observer deliveries dropped since start because the queue was full."""

    # -- declarations ----------------------------------------------------------------
    def declare(self, spec: EventSpec) -> None:
        """Declare an event.

        Raises:
            EventBusError: the name is declared already by someone else, or a plugin's event
                is not named ``"<plugin>.<event>"``.
        """
        if spec.owner is not None and not spec.name.startswith(spec.owner + "."):
            raise EventBusError(
                f"plugin {spec.owner!r} may only declare events named "
                f"'{spec.owner}.<event>', not {spec.name!r}"
            )
        old = self._specs.get(spec.name)
        if old is not None and old.owner != spec.owner:
            raise EventBusError(f"event {spec.name!r} is already declared by {old.owner!r}")
        self._specs[spec.name] = spec

    def spec(self, name: str) -> EventSpec:
        """The spec of a declared event; raises UnknownEventError."""
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownEventError(
                f"event {name!r} is not declared; declared events: "
                f"{', '.join(sorted(self._specs)) or 'none'}"
            ) from None

    def specs(self) -> list[EventSpec]:
        """Every declared event, sorted by name."""
        return [self._specs[k] for k in sorted(self._specs)]

    # -- subscriptions ----------------------------------------------------------------
    def subscribe(
        self,
        event: str,
        handler: Handler,
        *,
        name: str | None = None,
        owner: str | None = None,
        priority: int = 0,
        before: Iterable[str] = (),
        after: Iterable[str] = (),
        observer: bool = False,
    ) -> Subscription:
        """Register a handler (or an observer) for a declared event.

        Raises:
            UnknownEventError: the event is not declared.
            OrderingError: the new constraints would form a cycle (nothing is registered).
        """
        self.spec(event)
        sub = Subscription(
            event=event, handler=handler,
            name=name or getattr(handler, "__name__", "handler"), owner=owner,
            priority=priority, before=tuple(before), after=tuple(after),
            observer=observer, seq=next(self._seq),
        )
        subs = [*self._subs.get(event, []), sub]
        ordered = order_handlers(s for s in subs if not s.observer)
        self._subs[event] = subs
        self._ordered[event] = ordered
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove one subscription (no error if it is already gone)."""
        subs = [s for s in self._subs.get(sub.event, []) if s is not sub]
        self._set(sub.event, subs)

    def remove_owner(self, owner: str) -> int:
        """Remove every subscription and event declaration of ``owner``; return how many
        subscriptions were removed."""
        removed = 0
        for event in list(self._subs):
            keep = [s for s in self._subs[event] if s.owner != owner]
            removed += len(self._subs[event]) - len(keep)
            self._set(event, keep)
        for name in [n for n, s in self._specs.items() if s.owner == owner]:
            del self._specs[name]
        return removed

    def _set(self, event: str, subs: list[Subscription]) -> None:
        if subs:
            self._subs[event] = subs
            self._ordered[event] = order_handlers(s for s in subs if not s.observer)
        else:
            self._subs.pop(event, None)
            self._ordered.pop(event, None)

    def handlers(self, event: str) -> list[Subscription]:
        """The ordered (blocking) handlers of an event, in the order they run."""
        return list(self._ordered.get(event, []))

    def observers(self, event: str) -> list[Subscription]:
        """The observers of an event."""
        return [s for s in self._subs.get(event, []) if s.observer]

    # -- emitting ---------------------------------------------------------------------
    async def emit(self, event: str, *, _source: str | None = None, **fields: Any) -> EmitResult:
        """Emit a declared event: run its handlers in order, queue its observers.

        Raises:
            UnknownEventError: the event is not declared.
            EventFieldError: fields do not match the declaration.
        """
        spec = self.spec(event)
        spec.check(fields)
        ev = BusEvent(event, dict(fields), _source)
        result = EmitResult()
        for sub in self._subs.get(event, []):
            if not sub.observer:
                continue
            try:
                self._send.send_nowait((sub, ev))
                result.observers_queued += 1
            except trio.WouldBlock:
                result.observers_dropped += 1
                self.observers_dropped += 1
                log.warning("event bus: observer queue full, dropped %s for %s", sub.id, event)
        for sub in list(self._ordered.get(event, [])):
            try:
                with trio.fail_after(self.handler_timeout):
                    ret = await sub.handler(ev)
            except Exception as exc:
                if isinstance(exc, trio.TooSlowError):
                    log.error("event bus: handler %s for %s timed out after %.1fs",
                              sub.id, event, self.handler_timeout)
                else:
                    log.exception("event bus: handler %s for %s failed", sub.id, event)
                result.errors.append((sub.id, exc))
                result.handled.append(sub.id)
                continue
            result.handled.append(sub.id)
            if ret is STOP:
                result.stopped_by = sub.id
                break
        return result

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Deliver queued observer events until cancelled (start it in a nursery)."""
        limiter = trio.CapacityLimiter(self.max_concurrent_observers)
        async with trio.open_nursery() as nursery:
            task_status.started()
            async for sub, ev in self._recv:
                token = object()
                await limiter.acquire_on_behalf_of(token)
                nursery.start_soon(self._observe, sub, ev, limiter, token)

    async def _observe(
        self, sub: Subscription, ev: BusEvent, limiter: trio.CapacityLimiter, token: object
    ) -> None:
        try:
            await self._observe_one(sub, ev)
        finally:
            limiter.release_on_behalf_of(token)

    async def _observe_one(self, sub: Subscription, ev: BusEvent) -> None:
        timeout = self.observer_timeout if self.observer_timeout else math.inf
        try:
            with trio.fail_after(timeout):
                await sub.handler(ev)
        except trio.TooSlowError:
            log.error("event bus: observer %s for %s timed out", sub.id, ev.name)
        except Exception:
            log.exception("event bus: observer %s for %s failed", sub.id, ev.name)
