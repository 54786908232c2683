"""Event families: which dispatch events each binder subscribes to.

Each binder of :class:`~qgactor.bot.Bot` (``on_guild_member``, ``on_reaction``, ...) is a row of
:data:`FAMILIES`. The intent bits to subscribe follow from the events (``qgactor.qq.protocol``),
so registering a handler subscribes its intent automatically.
"""

from __future__ import annotations

from typing import Iterable

from qgactor.qq.protocol import EVENT_INTENTS, Intents

__all__ = ["FAMILIES", "MESSAGE_FAMILIES", "family_events", "intents_for_events"]

#: family name -> (default events, all events the family may narrow to)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "message": (
        ("AT_MESSAGE_CREATE", "DIRECT_MESSAGE_CREATE", "GROUP_AT_MESSAGE_CREATE", "C2C_MESSAGE_CREATE"),
        ("AT_MESSAGE_CREATE", "MESSAGE_CREATE", "DIRECT_MESSAGE_CREATE", "GROUP_AT_MESSAGE_CREATE",
         "GROUP_MESSAGE_CREATE", "C2C_MESSAGE_CREATE"),
    ),
    "guild_message": (("AT_MESSAGE_CREATE",), ("AT_MESSAGE_CREATE", "MESSAGE_CREATE")),
    "dm": (("DIRECT_MESSAGE_CREATE",), ("DIRECT_MESSAGE_CREATE",)),
    "group_message": (("GROUP_AT_MESSAGE_CREATE",), ("GROUP_AT_MESSAGE_CREATE", "GROUP_MESSAGE_CREATE")),
    "c2c_message": (("C2C_MESSAGE_CREATE",), ("C2C_MESSAGE_CREATE",)),
    "message_delete": (
        ("PUBLIC_MESSAGE_DELETE", "DIRECT_MESSAGE_DELETE"),
        ("MESSAGE_DELETE", "PUBLIC_MESSAGE_DELETE", "DIRECT_MESSAGE_DELETE"),
    ),
    "guild": (("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"),) * 2,
    "channel": (("CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE"),) * 2,
    "guild_member": (("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"),) * 2,
    "reaction": (("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"),) * 2,
    "interaction": (("INTERACTION_CREATE",),) * 2,
    "audit": (("MESSAGE_AUDIT_PASS", "MESSAGE_AUDIT_REJECT"),) * 2,
    "forum": (
        (
            "FORUM_THREAD_CREATE", "FORUM_THREAD_UPDATE", "FORUM_THREAD_DELETE",
            "FORUM_POST_CREATE", "FORUM_POST_DELETE", "FORUM_REPLY_CREATE", "FORUM_REPLY_DELETE",
            "FORUM_PUBLISH_AUDIT_RESULT",
        ),
    ) * 2,
    "open_forum": (
        (
            "OPEN_FORUM_THREAD_CREATE", "OPEN_FORUM_THREAD_UPDATE", "OPEN_FORUM_THREAD_DELETE",
            "OPEN_FORUM_POST_CREATE", "OPEN_FORUM_POST_DELETE",
            "OPEN_FORUM_REPLY_CREATE", "OPEN_FORUM_REPLY_DELETE",
        ),
    ) * 2,
    "audio": (("AUDIO_START", "AUDIO_FINISH", "AUDIO_ON_MIC", "AUDIO_OFF_MIC"),) * 2,
    "live_channel_member": (
        ("AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER", "AUDIO_OR_LIVE_CHANNEL_MEMBER_EXIT"),
    ) * 2,
    "friend": (("FRIEND_ADD", "FRIEND_DEL", "C2C_MSG_REJECT", "C2C_MSG_RECEIVE"),) * 2,
    "group_robot": (("GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE"),) * 2,
    "group_member": (("GROUP_MEMBER_ADD", "GROUP_MEMBER_REMOVE"),) * 2,
    "ready": (("READY", "RESUMED"),) * 2,
}

#: Families whose handlers are *message handlers*: they run after commands, and only when no
#: command short-circuited (the qg-botsdk order).
MESSAGE_FAMILIES = frozenset({"message", "guild_message", "dm", "group_message", "c2c_message"})


def family_events(family: str, events: Iterable[str] | None = None) -> frozenset[str]:
    """Return the events a binder of ``family`` subscribes to (its default, or ``events``).

    Raises:
        ValueError: an unknown family, or an event that does not belong to the family.
    """
    try:
        default, allowed = FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown event family {family!r}; known: {', '.join(FAMILIES)}") from None
    if events is None:
        return frozenset(default)
    chosen = frozenset([events] if isinstance(events, str) else events)
    bad = sorted(chosen - set(allowed))
    if bad:
        raise ValueError(
            f"event(s) {', '.join(bad)} do not belong to {family!r}; choose from {', '.join(allowed)}"
        )
    if not chosen:
        raise ValueError(f"events for {family!r} must not be empty")
    return chosen


def intents_for_events(events: Iterable[str]) -> Intents:
    """Return the union of the intent bits subscribing ``events`` (unknown events add none)."""
    bits = Intents.NONE
    for name in events:
        bits |= EVENT_INTENTS.get(name, Intents.NONE)
    return bits
