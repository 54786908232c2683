"""Protocol constants of the QQ Open Platform gateway.

Opcodes, intent bits, the dispatch-event table and the close-code table of
``shared/qq-protocol.md`` sections 3 and 4. These are facts about the wire, shared by
the client (``qgactor.qq`` / ``qgactor.bot``) and the emulator (``qgactor.emulator``);
no client logic lives here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from types import MappingProxyType
from typing import Final, Mapping

import attrs

__all__ = [
    "Opcode",
    "Intents",
    "CloseCode",
    "CloseCodeInfo",
    "CLOSE_CODES",
    "EVENT_INTENTS",
    "DEFAULT_INTENTS",
    "PUBLIC_DEFAULT_INTENTS",
    "close_code_info",
    "intent_for_event",
    "intents_for",
]


class Opcode(enum.IntEnum):
    """Gateway and webhook opcodes (spec section 3.3)."""

    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    RESUME = 6
    RECONNECT = 7
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11
    HTTP_CALLBACK_ACK = 12
    CALLBACK_VALIDATION = 13


class Intents(enum.IntFlag):
    """Intent bits a bot subscribes to in Identify (spec section 4.1)."""

    NONE = 0
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGE = 1 << 12
    OPEN_FORUMS_EVENT = 1 << 18
    AUDIO_OR_LIVE_CHANNEL_MEMBER = 1 << 19
    ENTER_AIO = 1 << 23  # botgo only; UNVERIFIED elsewhere
    GROUP_MEMBERS = 1 << 24  # nonebot only; UNVERIFIED officially
    GROUP_AND_C2C_EVENT = 1 << 25
    INTERACTION = 1 << 26
    MESSAGE_AUDIT = 1 << 27
    FORUMS_EVENT = 1 << 28
    AUDIO_ACTION = 1 << 29
    PUBLIC_GUILD_MESSAGES = 1 << 30


#: The intents every bot may subscribe to without an approved application (spec 4.1, 权限).
PUBLIC_DEFAULT_INTENTS: Final = Intents.GUILDS | Intents.GUILD_MEMBERS | Intents.PUBLIC_GUILD_MESSAGES

#: botpy's ``Intents.default()``: everything but the private-domain bits (1846285315).
DEFAULT_INTENTS: Final = (
    Intents.GUILDS
    | Intents.GUILD_MEMBERS
    | Intents.GUILD_MESSAGE_REACTIONS
    | Intents.DIRECT_MESSAGE
    | Intents.OPEN_FORUMS_EVENT
    | Intents.AUDIO_OR_LIVE_CHANNEL_MEMBER
    | Intents.GROUP_AND_C2C_EVENT
    | Intents.INTERACTION
    | Intents.MESSAGE_AUDIT
    | Intents.AUDIO_ACTION
    | Intents.PUBLIC_GUILD_MESSAGES
)

_EVENTS_BY_INTENT: dict[Intents, tuple[str, ...]] = {
    Intents.GUILDS: (
        "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE",
        "CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE",
    ),
    Intents.GUILD_MEMBERS: ("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"),
    Intents.GUILD_MESSAGES: ("MESSAGE_CREATE", "MESSAGE_DELETE"),
    Intents.GUILD_MESSAGE_REACTIONS: ("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"),
    Intents.DIRECT_MESSAGE: ("DIRECT_MESSAGE_CREATE", "DIRECT_MESSAGE_DELETE"),
    Intents.OPEN_FORUMS_EVENT: (
        "OPEN_FORUM_THREAD_CREATE", "OPEN_FORUM_THREAD_UPDATE", "OPEN_FORUM_THREAD_DELETE",
        "OPEN_FORUM_POST_CREATE", "OPEN_FORUM_POST_DELETE",
        "OPEN_FORUM_REPLY_CREATE", "OPEN_FORUM_REPLY_DELETE",
    ),
    Intents.AUDIO_OR_LIVE_CHANNEL_MEMBER: (
        "AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER", "AUDIO_OR_LIVE_CHANNEL_MEMBER_EXIT",
    ),
    Intents.ENTER_AIO: ("ENTER_AIO",),
    # UNVERIFIED bit (nonebot uses 1<<24); GROUP_MESSAGE_CREATE is a gray-release event whose
    # bit is unknown. We choose 1<<25 for it, the bit of every other group message event, as
    # the choice most clients tolerate (they all subscribe 1<<25 to get group messages).
    Intents.GROUP_MEMBERS: ("GROUP_MEMBER_ADD", "GROUP_MEMBER_REMOVE"),
    Intents.GROUP_AND_C2C_EVENT: (
        "C2C_MESSAGE_CREATE", "GROUP_AT_MESSAGE_CREATE", "GROUP_MESSAGE_CREATE",
        "FRIEND_ADD", "FRIEND_DEL", "C2C_MSG_REJECT", "C2C_MSG_RECEIVE",
        "GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE",
        "SUBSCRIBE_MESSAGE_STATUS",
    ),
    Intents.INTERACTION: ("INTERACTION_CREATE",),
    Intents.MESSAGE_AUDIT: ("MESSAGE_AUDIT_PASS", "MESSAGE_AUDIT_REJECT"),
    Intents.FORUMS_EVENT: (
        "FORUM_THREAD_CREATE", "FORUM_THREAD_UPDATE", "FORUM_THREAD_DELETE",
        "FORUM_POST_CREATE", "FORUM_POST_DELETE",
        "FORUM_REPLY_CREATE", "FORUM_REPLY_DELETE", "FORUM_PUBLISH_AUDIT_RESULT",
    ),
    Intents.AUDIO_ACTION: ("AUDIO_START", "AUDIO_FINISH", "AUDIO_ON_MIC", "AUDIO_OFF_MIC"),
    Intents.PUBLIC_GUILD_MESSAGES: ("AT_MESSAGE_CREATE", "PUBLIC_MESSAGE_DELETE"),
}

#: Every dispatch event name (``t``) mapped to the intent bit that subscribes it.
#: ``READY`` and ``RESUMED`` are session events and need no intent (they map to ``Intents.NONE``).
EVENT_INTENTS: Final[Mapping[str, Intents]] = MappingProxyType(
    {"READY": Intents.NONE, "RESUMED": Intents.NONE}
    | {name: intent for intent, names in _EVENTS_BY_INTENT.items() for name in names}
)


def intent_for_event(name: str) -> Intents | None:
    """Return the intent bit that subscribes dispatch event ``name``, or ``None`` if unknown."""
    return EVENT_INTENTS.get(name)


def intents_for(events: Iterable[str]) -> Intents:
    """The intents that subscribe every dispatch event in ``events`` (OR of their bits).

    Session events (READY, RESUMED) add nothing. Raises ``ValueError`` naming the unknown
    event names, so a typo does not silently subscribe nothing.
    """
    result = Intents.NONE
    unknown = []
    for name in events:
        bit = EVENT_INTENTS.get(name)
        if bit is None:
            unknown.append(name)
        else:
            result |= bit
    if unknown:
        raise ValueError(f"unknown dispatch event name(s): {', '.join(sorted(unknown))}; "
                         "see qgactor.qq.EVENT_INTENTS for the valid names")
    return result


class CloseCode(enum.IntEnum):
    """Websocket close codes of the gateway (spec section 3.8)."""

    UNKNOWN_ERROR = 4000
    INVALID_OPCODE = 4001
    INVALID_PAYLOAD = 4002
    NOT_AUTHENTICATED = 4003
    AUTHENTICATION_FAILED = 4004
    ALREADY_AUTHENTICATED = 4005
    INVALID_SESSION = 4006
    INVALID_SEQ = 4007
    RATE_LIMITED = 4008
    SESSION_TIMED_OUT = 4009
    INVALID_SHARD = 4010
    SHARDING_REQUIRED = 4011
    INVALID_VERSION = 4012
    INVALID_INTENTS = 4013
    DISALLOWED_INTENTS = 4014
    INTERNAL_ERROR_FIRST = 4900
    INTERNAL_ERROR_LAST = 4913
    BOT_OFFLINE_SANDBOX_ONLY = 4914
    BOT_BANNED = 4915


@attrs.frozen
class CloseCodeInfo:
    """What a close code means and what the platform allows afterwards."""

    code: int
    meaning: str
    can_resume: bool
    can_identify: bool
    refresh_token: bool = False


_CLOSE_TABLE = [
    CloseCodeInfo(4000, "unknown error", False, True),
    CloseCodeInfo(4001, "invalid opcode", False, False),
    CloseCodeInfo(4002, "invalid payload", False, False),
    CloseCodeInfo(4003, "not authenticated (sent a payload before Identify)", False, True),
    CloseCodeInfo(4004, "authentication failed: the token is invalid or expired", False, True, True),
    CloseCodeInfo(4005, "already authenticated", False, True),
    CloseCodeInfo(4006, "invalid session id, cannot resume; identify afresh", False, True),
    CloseCodeInfo(4007, "invalid seq, cannot resume; identify afresh", False, True),
    CloseCodeInfo(4008, "payloads sent too fast; reconnect and obey the rate limit", True, True),
    CloseCodeInfo(4009, "connection expired; reconnect and resume", True, True),
    CloseCodeInfo(4010, "invalid shard", False, False),
    CloseCodeInfo(4011, "too many guilds for this connection; use more shards", False, False),
    CloseCodeInfo(4012, "invalid gateway version", False, False),
    CloseCodeInfo(4013, "invalid intents", False, False),
    CloseCodeInfo(4014, "intents not authorised for this bot", False, False),
    *(CloseCodeInfo(c, "internal server error; reconnect", False, True) for c in range(4900, 4914)),
    CloseCodeInfo(4914, "bot taken down: it may only connect to the sandbox environment", False, False),
    CloseCodeInfo(4915, "bot banned", False, False),
]

#: Every known gateway close code mapped to its meaning and recovery rules.
CLOSE_CODES: Final[Mapping[int, CloseCodeInfo]] = MappingProxyType({c.code: c for c in _CLOSE_TABLE})


def close_code_info(code: int | None) -> CloseCodeInfo | None:
    """Return the table row for a close ``code``, or ``None`` if it is not a gateway code."""
    if code is None:
        return None
    return CLOSE_CODES.get(code)
