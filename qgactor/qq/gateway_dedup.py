"""Duplicate suppression for pushed events (gateway and webhook).

The platform may push one event twice: the same ``s`` again within a session, or the same
event id / message id re-pushed ("极端情况下，相同的 msg_id 的消息会有概率重复推送", spec 3.5).
:class:`Deduplicator` remembers a bounded window of each key (an LRU) and says whether an
event was seen already.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable

__all__ = ["BoundedSet", "Deduplicator", "MESSAGE_ID_EVENTS"]

#: Events whose ``d.id`` identifies the pushed object uniquely (a message or an interaction),
#: so a second push with the same id is a re-push, not a new event. Other events (updates of a
#: guild, a channel) legitimately repeat their object's id and are not keyed by it.
MESSAGE_ID_EVENTS = frozenset(
    {
        "AT_MESSAGE_CREATE",
        "MESSAGE_CREATE",
        "DIRECT_MESSAGE_CREATE",
        "C2C_MESSAGE_CREATE",
        "GROUP_AT_MESSAGE_CREATE",
        "GROUP_MESSAGE_CREATE",
        "INTERACTION_CREATE",
    }
)


class BoundedSet:
    """A set remembering at most ``capacity`` most-recently added keys (oldest evicted first)."""

    __slots__ = ("_items", "capacity")

    def __init__(self, capacity: int) -> None:
        """Create an empty set; raises ``ValueError`` if ``capacity`` < 1."""
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, key: Hashable) -> None:
        """Remember ``key`` (refreshing it if present), evicting the oldest beyond capacity."""
        items = self._items
        if key in items:
            items.move_to_end(key)
            return
        items[key] = None
        if len(items) > self.capacity:
            items.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` if present."""
        self._items.pop(key, None)

    def clear(self) -> None:
        """Forget every key."""
        self._items.clear()


class Deduplicator:
    """Decides whether a pushed event was already dispatched.

    Keys: the sequence number within the current session (forgotten by :meth:`new_session`),
    the envelope event id, and ``(name, d.id)`` for message-like events (see
    :data:`MESSAGE_ID_EVENTS`). Each window is a :class:`BoundedSet` of ``capacity`` keys.
    """

    __slots__ = ("_seqs", "_event_ids", "_message_ids")

    def __init__(self, capacity: int = 10_000) -> None:
        """Create empty windows of ``capacity`` keys each; ``ValueError`` if ``capacity`` < 1."""
        self._seqs = BoundedSet(capacity)
        self._event_ids = BoundedSet(capacity)
        self._message_ids = BoundedSet(capacity)

    def new_session(self) -> None:
        """Forget sequence numbers: a new session numbers its events from scratch."""
        self._seqs.clear()

    def check(self, name: str, data: Any, seq: int | None, event_id: str | None) -> str | None:
        """Record the event and return ``None`` if it is new, or the key that matched if not.

        The returned string is ``"seq"``, ``"event_id"`` or ``"message_id"``. A new event's
        keys are all remembered; a duplicate's are refreshed. Never raises.
        """
        message_key = _message_key(name, data)
        matched = None
        if seq is not None and seq in self._seqs:
            matched = "seq"
        elif event_id is not None and event_id in self._event_ids:
            matched = "event_id"
        elif message_key is not None and message_key in self._message_ids:
            matched = "message_id"
        if seq is not None:
            self._seqs.add(seq)
        if event_id is not None:
            self._event_ids.add(event_id)
        if message_key is not None:
            self._message_ids.add(message_key)
        return matched

    def forget(self, name: str, data: Any, seq: int | None, event_id: str | None) -> None:
        """Undo :meth:`check` for an event that could not be delivered after all, so that the
        platform's retry of it is dispatched instead of suppressed. Never raises."""
        if seq is not None:
            self._seqs.discard(seq)
        if event_id is not None:
            self._event_ids.discard(event_id)
        message_key = _message_key(name, data)
        if message_key is not None:
            self._message_ids.discard(message_key)


def _message_key(name: str, data: Any) -> tuple[str, str | int] | None:
    if name in MESSAGE_ID_EVENTS and isinstance(data, dict):
        mid = data.get("id")
        if isinstance(mid, (str, int)) and not isinstance(mid, bool):
            return (name, mid)
    return None
