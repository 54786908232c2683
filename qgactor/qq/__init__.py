"""The platform layer: everything a bot needs to speak the QQ Open Platform protocol.

- credentials: ``TokenSource`` (AppID + AppSecret), ``LegacyToken``; environments:
  ``Endpoints`` / ``PRODUCTION`` / ``SANDBOX``;
- ``ApiClient``: a typed async method per REST endpoint, ``send``/``reply`` for any scene,
  ``request`` for anything else; ``RetryPolicy``, ``Limits``, ``RateLimit``;
- one error hierarchy rooted at ``QQError`` (``ApiError`` and subclasses);
- outbound builders (``Text``, ``Markdown``, ``Keyboard``, ``Ark``, ``Embed``, ``Image``...);
- attrs models and ``parse_event`` (more models in ``qgactor.qq.models``);
- protocol constants (``Intents``, ``Opcode``, ``EVENT_INTENTS``, close codes).

- the sans-I/O gateway state machine (``GatewayMachine``) and webhook signature code
  (``WebhookHandler``; the signing functions stay in ``qgactor.qq.webhook``), in ``qgactor.qq.gateway`` and ``qgactor.qq.webhook``.
"""

from __future__ import annotations

from qgactor.qq.api import ApiClient
from qgactor.qq.auth import Credentials, LegacyToken, TokenSource
from qgactor.qq.builders import (
    Ark,
    Button,
    ButtonAction,
    ButtonPermission,
    Embed,
    FileType,
    Image,
    Keyboard,
    Markdown,
    Media,
    MsgType,
    Reference,
    Text,
)
from qgactor.qq.endpoints import PRODUCTION, SANDBOX, Endpoints
from qgactor.qq.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    BadRequest,
    DuplicateMessage,
    EventParseError,
    MessageAudit,
    NotFound,
    PermissionDenied,
    QQError,
    RateLimited,
    ReplyExpired,
    SendUnconfirmed,
    ServerError,
)
from qgactor.qq.gateway import GatewayMachine
from qgactor.qq.gateway_config import BackoffPolicy, GatewayConfig, GatewayStats
from qgactor.qq.gateway_events import GatewayFatalError, GatewayState
from qgactor.qq.http import ApiResponse, Limits, RetryPolicy
from qgactor.qq.models import (
    EVENT_MODELS,
    Attachment,
    AudioActionEvent,
    AudioLiveMemberEvent,
    BaseMessage,
    C2CMessage,
    Channel,
    ChannelEvent,
    DirectMessage,
    EnterAioEvent,
    Event,
    ForumAuditResultEvent,
    ForumPostEvent,
    ForumReplyEvent,
    ForumThreadEvent,
    FriendEvent,
    GroupMemberEvent,
    GroupMessage,
    GroupRobotEvent,
    Guild,
    GuildEvent,
    GuildMemberEvent,
    InteractionEvent,
    MediaFile,
    Member,
    Message,
    MessageAuditEvent,
    MessageDelete,
    Model,
    OpenForumEvent,
    ReactionEvent,
    Ready,
    Resumed,
    Role,
    SentMessage,
    SubscribeMessageStatusEvent,
    User,
    parse_event,
)
from qgactor.qq.protocol import (
    CLOSE_CODES,
    DEFAULT_INTENTS,
    EVENT_INTENTS,
    CloseCode,
    CloseCodeInfo,
    Intents,
    Opcode,
    close_code_info,
    intent_for_event,
    intents_for,
)
from qgactor.qq.ratelimit import RateLimit
from qgactor.qq.scene import ReplyTarget, Scene
from qgactor.qq.text import at_user, strip_mentions
from qgactor.qq.webhook import WebhookHandler, WebhookResponse

__all__ = [
    # client, credentials, environments
    "ApiClient", "ApiResponse", "RetryPolicy", "Limits", "RateLimit",
    "TokenSource", "LegacyToken", "Credentials", "Endpoints", "PRODUCTION", "SANDBOX",
    # errors
    "QQError", "ApiError", "AuthError", "PermissionDenied", "NotFound", "BadRequest", "RateLimited",
    "ServerError", "ReplyExpired", "DuplicateMessage", "SendUnconfirmed", "MessageAudit",
    "ApiConnectionError", "EventParseError",
    # outbound
    "Text", "Markdown", "Keyboard", "Button", "ButtonAction", "ButtonPermission", "Ark", "Embed",
    "Image", "Media", "FileType", "MsgType", "Reference", "Scene", "ReplyTarget", "at_user",
    "strip_mentions",
    # models
    "parse_event", "EVENT_MODELS", "Model", "Event", "BaseMessage", "Message", "DirectMessage",
    "GroupMessage", "C2CMessage", "MessageDelete", "Ready", "Resumed", "GuildEvent", "ChannelEvent",
    "GuildMemberEvent", "ReactionEvent", "InteractionEvent", "FriendEvent", "GroupRobotEvent",
    "GroupMemberEvent", "MessageAuditEvent", "AudioActionEvent", "AudioLiveMemberEvent",
    "ForumThreadEvent", "ForumPostEvent", "ForumReplyEvent", "ForumAuditResultEvent", "OpenForumEvent",
    "SubscribeMessageStatusEvent", "EnterAioEvent", "User", "Member", "Role", "Guild", "Channel",
    "Attachment", "MediaFile", "SentMessage",
    # gateway state machine and webhook signatures
    "GatewayMachine", "GatewayConfig", "BackoffPolicy", "GatewayStats", "GatewayState", "GatewayFatalError",
    "WebhookHandler", "WebhookResponse",
    # protocol constants
    "CLOSE_CODES", "DEFAULT_INTENTS", "EVENT_INTENTS", "CloseCode", "CloseCodeInfo", "Intents", "Opcode",
    "close_code_info", "intent_for_event", "intents_for",
]
