"""Handlers registered on the bus (:class:`Subscription`), their ordering (priority, then
``before``/``after`` constraints, then registration) and the record of one emit
(:class:`EmitResult`). The bus itself is :mod:`qgactor.plugins.events`."""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs

from qgactor.plugins.event_specs import BusEvent, OrderingError

__all__ = ["Handler", "Subscription", "EmitResult", "order_handlers"]


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
