"""Dispatch event name → model table and ``parse_event``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from qgactor.qq.errors import EventParseError
from qgactor.qq.models import events as ev
from qgactor.qq.models.event import Event
from qgactor.qq.models.messages import C2CMessage, DirectMessage, GroupMessage, Message, MessageDelete

__all__ = ["EVENT_MODELS", "parse_event", "model_for_event"]

_FAMILIES: dict[type[Event], tuple[str, ...]] = {
    ev.Ready: ("READY",),
    ev.Resumed: ("RESUMED",),
    Message: ("AT_MESSAGE_CREATE", "MESSAGE_CREATE"),
    DirectMessage: ("DIRECT_MESSAGE_CREATE",),
    MessageDelete: ("MESSAGE_DELETE", "PUBLIC_MESSAGE_DELETE", "DIRECT_MESSAGE_DELETE"),
    GroupMessage: ("GROUP_AT_MESSAGE_CREATE", "GROUP_MESSAGE_CREATE"),
    C2CMessage: ("C2C_MESSAGE_CREATE",),
    ev.GuildEvent: ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"),
    ev.ChannelEvent: ("CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE"),
    ev.GuildMemberEvent: ("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"),
    ev.ReactionEvent: ("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"),
    ev.InteractionEvent: ("INTERACTION_CREATE",),
    ev.FriendEvent: ("FRIEND_ADD", "FRIEND_DEL", "C2C_MSG_REJECT", "C2C_MSG_RECEIVE"),
    ev.GroupRobotEvent: ("GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE"),
    ev.GroupMemberEvent: ("GROUP_MEMBER_ADD", "GROUP_MEMBER_REMOVE"),
    ev.MessageAuditEvent: ("MESSAGE_AUDIT_PASS", "MESSAGE_AUDIT_REJECT"),
    ev.AudioActionEvent: ("AUDIO_START", "AUDIO_FINISH", "AUDIO_ON_MIC", "AUDIO_OFF_MIC"),
    ev.AudioLiveMemberEvent: ("AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER", "AUDIO_OR_LIVE_CHANNEL_MEMBER_EXIT"),
    ev.ForumThreadEvent: ("FORUM_THREAD_CREATE", "FORUM_THREAD_UPDATE", "FORUM_THREAD_DELETE"),
    ev.ForumPostEvent: ("FORUM_POST_CREATE", "FORUM_POST_DELETE"),
    ev.ForumReplyEvent: ("FORUM_REPLY_CREATE", "FORUM_REPLY_DELETE"),
    ev.ForumAuditResultEvent: ("FORUM_PUBLISH_AUDIT_RESULT",),
    ev.OpenForumEvent: (
        "OPEN_FORUM_THREAD_CREATE", "OPEN_FORUM_THREAD_UPDATE", "OPEN_FORUM_THREAD_DELETE",
        "OPEN_FORUM_POST_CREATE", "OPEN_FORUM_POST_DELETE",
        "OPEN_FORUM_REPLY_CREATE", "OPEN_FORUM_REPLY_DELETE",
    ),
    ev.SubscribeMessageStatusEvent: ("SUBSCRIBE_MESSAGE_STATUS",),
    ev.EnterAioEvent: ("ENTER_AIO",),
}

#: Every known dispatch event name mapped to its model class (unknown names → ``Event``).
EVENT_MODELS: Final[Mapping[str, type[Event]]] = MappingProxyType(
    {name: cls for cls, names in _FAMILIES.items() for name in names}
)

_PARSERS = {name: cls._parse for name, cls in EVENT_MODELS.items()}
_GENERIC = Event._parse
_EMPTY_OK = frozenset({"RESUMED"})


def model_for_event(name: str) -> type[Event]:
    """The model class of dispatch event ``name`` (``Event`` for unknown names)."""
    return EVENT_MODELS.get(name, Event)


def parse_event(name: str, data: Any, *, event_id: str | None = None,
                bot_id: str | None = None) -> Event:
    """Parse the ``d`` of dispatch event ``name`` into its model (see ``EVENT_MODELS``).

    ``event_id`` is the envelope's ``id`` (kept for passive replies); ``bot_id`` the bot's own
    user id (lets message ``.text`` strip the bot's mentions). Unknown event names give a
    generic ``Event`` with everything in ``.raw``. RESUMED's empty-string ``d`` is accepted.
    Raises ``EventParseError`` (only) when ``data`` is not a JSON object.
    """
    if type(data) is not dict:
        if isinstance(data, dict):
            data = dict(data)
        elif name in _EMPTY_OK and data in ("", None):
            data = {}
        else:
            raise EventParseError(
                f"event {name!r}: payload 'd' must be a JSON object, got {type(data).__name__}",
                name=name, data=data,
            )
    try:
        event = _PARSERS.get(name, _GENERIC)(data)
    except Exception as exc:  # pragma: no cover - parsers cannot fail on a dict; belt and braces
        raise EventParseError(f"event {name!r} could not be parsed: {exc!r}", name=name, data=data) from exc
    event.event_type = name
    event.event_id = event_id
    event.bot_id = bot_id
    return event
