"""Monitors: an actor watches another and gets ``Down`` when it is gone for good."""

from __future__ import annotations

from qgactor.runtime.messages import Down, ExitReason
from qgactor.runtime.ref import DEAD, ActorRef

__all__ = ["watch", "unwatch", "notify_down"]


def watch(watcher: ActorRef, target: ActorRef) -> None:
    """``watcher`` receives ``Down(target, reason)`` when ``target`` stops for good."""
    if target._state == DEAD:
        watcher._deliver_system(Down(target, target._reason or ExitReason.shutdown()))
        return
    if target._watchers is None:
        target._watchers = set()
    target._watchers.add(watcher)
    if watcher._watching is None:
        watcher._watching = set()
    watcher._watching.add(target)


def unwatch(watcher: ActorRef, target: ActorRef) -> None:
    """Undo :func:`watch` (no-op if not watching)."""
    if target._watchers is not None:
        target._watchers.discard(watcher)
    if watcher._watching is not None:
        watcher._watching.discard(target)


def notify_down(ref: ActorRef, reason: ExitReason) -> None:
    """``ref`` is dead for good: deliver ``Down`` to its watchers and drop its own watches."""
    watchers = ref._watchers
    if watchers:
        ref._watchers = None
        down = Down(ref, reason)
        for w in watchers:
            if w._watching is not None:
                w._watching.discard(ref)
            w._deliver_system(down)
    watching = ref._watching
    if watching:
        ref._watching = None
        for t in watching:
            if t._watchers is not None:
                t._watchers.discard(ref)
