"""``snapshot()``: a read-only picture of the live actor tree for logs, the console and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from qgactor.runtime.messages import describe_error
from qgactor.runtime.ref import STATE_NAMES, ActorRef

if TYPE_CHECKING:
    from qgactor.runtime.engine import Supervision
    from qgactor.runtime.system import ActorNursery

__all__ = ["ActorSnapshot", "snapshot"]


@attrs.frozen
class ActorSnapshot:
    """One node of the actor tree at the moment of the snapshot.

    ``kind`` is ``"system"``, ``"supervisor"``, ``"dynamic_supervisor"`` or ``"actor"``;
    ``state`` one of starting/running/stopping/exited/restarting/dead (a hibernating actor is
    running, with ``hibernating`` set); ``last_error`` a short
    ``"Type: message"`` string (never the message payloads). ``children`` are in start order.
    """

    name: str
    kind: str
    state: str
    mailbox_depth: int = 0
    mailbox_capacity: int = 0
    processed: int = 0
    dropped: int = 0
    restarts: int = 0
    last_error: str | None = None
    children: tuple[ActorSnapshot, ...] = ()
    hibernating: bool = False
    """True when the actor is idle without a trio task (it wakes on its next message)."""

    def find(self, name: str) -> ActorSnapshot | None:
        """The first node called ``name`` in this subtree (depth first), or None."""
        if self.name == name:
            return self
        for c in self.children:
            hit = c.find(name)
            if hit is not None:
                return hit
        return None

    def walk(self) -> list[ActorSnapshot]:
        """This node and all descendants, depth first."""
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


def _kind(ref: ActorRef) -> str:
    from qgactor.runtime.supervisor import DynamicSupervisor, Supervisor

    fac = ref._spec.factory
    if isinstance(fac, type):
        if issubclass(fac, DynamicSupervisor):
            return "dynamic_supervisor"
        if issubclass(fac, Supervisor):
            return "supervisor"
    return "actor"


def _children(eng: Supervision | None) -> tuple[ActorSnapshot, ...]:
    if eng is None:
        return ()
    return tuple(snapshot_ref(c) for c in list(eng.children))


def snapshot_ref(ref: ActorRef) -> ActorSnapshot:
    """Snapshot of ``ref`` and its children."""
    return ActorSnapshot(
        name=ref.name,
        kind=_kind(ref),
        state=STATE_NAMES[ref._state],
        mailbox_depth=len(ref._q),
        mailbox_capacity=ref._spec.mailbox.capacity,
        processed=ref._processed,
        dropped=ref._dropped,
        restarts=ref._restarts,
        last_error=describe_error(ref._last_error),
        children=_children(ref._children),
        hibernating=ref._hib,
    )


def snapshot_system(system: ActorNursery) -> ActorSnapshot:
    """Snapshot of a whole actor system."""
    return ActorSnapshot(
        name=system.name,
        kind="system",
        state="failed" if system._failure is not None else ("stopped" if system._closed else "running"),
        last_error=describe_error(system._failure),
        children=_children(system._root),
    )


def snapshot(target: ActorNursery | ActorRef) -> ActorSnapshot:
    """The live tree under ``target`` (an ``ActorNursery`` or an ``ActorRef``).

    Raises ``TypeError`` for anything else.
    """
    if isinstance(target, ActorRef):
        return snapshot_ref(target)
    from qgactor.runtime.system import ActorNursery

    if isinstance(target, ActorNursery):
        return snapshot_system(target)
    raise TypeError(f"snapshot() takes an ActorNursery or an ActorRef, got {type(target).__name__}")
