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

The declarations and the event object live in :mod:`qgactor.plugins.event_specs`, the
subscriptions and their ordering in :mod:`qgactor.plugins.subscriptions`; their names are
re-exported here.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable
from typing import Any

import trio

from qgactor.plugins.event_specs import (
    STOP,
    BusEvent,
    EventBusError,
    EventFieldError,
    EventSpec,
    OrderingError,
    UnknownEventError,
)
from qgactor.plugins.subscriptions import EmitResult, Handler, Subscription, order_handlers

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
    "order_handlers",
]

log = logging.getLogger(__name__)


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
