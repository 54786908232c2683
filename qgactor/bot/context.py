"""The objects handlers receive: :class:`EventContext`, :class:`MessageContext`, :class:`JobContext`.

A handler gets one object carrying the event model, the bot, the API client, the session
helpers, ``reply()`` and (for messages) the conversation helpers. The same object serves
``async def`` handlers (methods return awaitables) and plain ``def`` handlers in worker
threads (the same methods block and return the result).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from qgactor.bot.bridge import DualProxy, ThreadSafeProxy, dual
from qgactor.bot.commands import CommandMatch
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.scenes import Scene
from qgactor.bot.services import ADMIN_ROLE_IDS, BotServices
from qgactor.bot.session_helpers import SessionHandle, SessionHelper
from qgactor.bot.sessions import Scope

if TYPE_CHECKING:
    from qgactor.bot.dialog import Conversation
    from qgactor.bot.registry import Job

__all__ = ["EventContext", "MessageContext", "JobContext", "NoReplyTarget"]

log = logging.getLogger(__name__)


#: Event fields naming who caused an event, in order of preference (``user.id`` after the first).
_USER_FIELDS = ("author_id", "user_id", "user_openid", "group_member_openid", "member_openid",
                "op_member_openid", "openid", "op_user_id")


class NoReplyTarget(RuntimeError):
    """Raised by ``reply()`` on an event that cannot be answered (e.g. GUILD_CREATE)."""


def _get(obj: Any, *names: str) -> Any:
    for n in names:
        if obj is None:
            return None
        obj = getattr(obj, n, None)
    return obj


class _BotAccess:
    """What every handler object offers: the bot, the API client (dual) and the trio token
    its dual methods use."""

    __slots__ = ("services",)

    services: BotServices

    @property
    def _token(self) -> Any:
        return self.services.token

    @property
    def bot(self) -> Any:
        """The bot facade."""
        return self.services.bot

    @property
    def api(self) -> Any:
        """The REST client: awaitable methods in async handlers and jobs, blocking ones in
        ``def`` ones.

        Raises:
            RuntimeError: the bot is not running (the client is not open).
        """
        if self.services.api is None:
            raise RuntimeError("the API client is not open yet (is the bot running?)")
        return DualProxy(self.services.api, self.services.token)


class EventContext(_BotAccess):
    """What an event handler receives.

    Attributes:
        event: the parsed model (``qgactor.qq`` models; unknown fields in ``event.raw``).
        inbound: the :class:`InboundEvent` as the transport delivered it.
        bot: the :class:`~qgactor.bot.Bot` (register or toggle components from handlers).
        services: the running bot's shared parts (settings, registry, sessions, API).
    """

    __slots__ = ("event", "inbound", "_sessions", "__weakref__")

    def __init__(self, event: Any, inbound: InboundEvent, services: BotServices) -> None:
        self.event = event
        self.inbound = inbound
        self.services = services
        self._sessions: SessionHelper | None = None

    def __repr__(self) -> str:
        ident = getattr(self.event, "id", None) or self.inbound.event_id
        return f"<{type(self).__name__} {self.name} id={ident}>"

    # -- what the event is ------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The dispatch event name, e.g. ``"GROUP_AT_MESSAGE_CREATE"``."""
        return self.inbound.name

    @property
    def raw(self) -> Any:
        """The event's ``d`` exactly as received."""
        return self.inbound.data

    @property
    def log(self) -> logging.Logger:
        """A logger for handler code."""
        return log

    @property
    def scene(self) -> Scene | None:
        """The scene of the event (message events; others where it can be told), else None."""
        sc = getattr(self.event, "scene", None)
        if isinstance(sc, Scene):
            return sc
        target = self.reply_target
        return target.scene if target is not None else None

    @property
    def user_id(self) -> str | None:
        """Who caused the event (author, member, operator, openid), if known."""
        ev = self.event
        candidates = [getattr(ev, n, None) for n in _USER_FIELDS[:1]]
        candidates.append(_get(ev, "user", "id"))
        candidates += [getattr(ev, n, None) for n in _USER_FIELDS[1:]]
        for v in candidates:
            if isinstance(v, str) and v:
                return v
        return None

    @property
    def guild_id(self) -> str | None:
        """The guild id (guild/DM events), else None."""
        v = getattr(self.event, "guild_id", None)
        return v if isinstance(v, str) and v else None

    @property
    def channel_id(self) -> str | None:
        """The channel id (guild events), else None."""
        v = getattr(self.event, "channel_id", None)
        return v if isinstance(v, str) and v else None

    @property
    def group_id(self) -> str | None:
        """The group openid (group events), else None."""
        v = getattr(self.event, "group_openid", None) or getattr(self.event, "group_id", None)
        return v if isinstance(v, str) and v else None

    @property
    def place_id(self) -> str | None:
        """Where to talk back: channel id, DM guild id, group openid or C2C user openid."""
        target = self.reply_target
        if target is not None and target.target_id:
            return target.target_id
        return self.channel_id or self.group_id

    # -- replying -----------------------------------------------------------------------------
    @property
    def reply_target(self) -> Any:
        """The ``qgactor.qq`` ``ReplyTarget`` (scene, target id, passive ids, msg_seq counter) or None."""
        return getattr(self.event, "reply_target", None)

    def reply_address(self) -> dict[str, Any] | None:
        """Plain data naming where a later message (a session timeout reply) should go."""
        t = self.reply_target
        if t is None:
            return None
        self.services.live_targets[(t.scene.value, t.target_id, t.msg_id, t.event_id)] = t
        return {"scene": t.scene.value, "target_id": t.target_id, "msg_id": t.msg_id,
                "event_id": t.event_id, "seq": t.last_seq}

    @dual
    def reply(self, *parts: Any, msg_seq: int | None = None) -> Any:
        """Answer this event where it happened, as a passive reply.

        ``parts`` are strings and/or ``qgactor.qq`` builders (``Markdown``, ``Keyboard``,
        ``Ark``, ``Embed``, ``Image``, ``Media``, ``Reference``). Picks the endpoint for the
        scene (channel, DM, group, C2C), sets ``msg_id`` (or ``event_id`` for events such as
        INTERACTION_CREATE) and, for groups and C2C, the next ``msg_seq`` of this message.
        Returns the platform's answer (the sent message): ``await msg.reply(...)`` in async
        handlers, ``msg.reply(...)`` in ``def`` ones.

        Raises:
            NoReplyTarget: the event cannot be answered.
            RuntimeError: the API client is not open (the bot is not running).
            ValueError: nothing to send.
            qgactor.qq ApiError subclasses: the platform refused (e.g. ``ReplyExpired``).
        """
        # not a coroutine of its own: the API client's send() is the awaitable (one frame
        # less for the reply to wait in); the checks of send_reply, raised when called
        target = self.reply_target
        if target is None or not target.target_id:
            raise NoReplyTarget(f"a {self.name} event cannot be replied to; use msg.api.send(...)")
        api = self.services.api
        if api is None:
            raise RuntimeError("the API client is not open yet (is the bot running?)")
        if None in parts:
            parts = tuple(p for p in parts if p is not None)
        if not parts:
            raise ValueError("reply() needs something to send: text or a builder (Markdown, Image, ...)")
        return api.send(target, *parts, msg_seq=msg_seq)

    @dual
    async def ack(self, code: int = 0) -> None:
        """Acknowledge an INTERACTION_CREATE (a button click) so the user's client stops
        spinning: 0 ok, 1 failed, 2 too frequent, 3 duplicate, 4 no permission, 5 admin only.

        Raises:
            TypeError: this event is not an interaction.
            qgactor.qq ApiError subclasses: the platform refused.
        """
        if self.name != "INTERACTION_CREATE":
            raise TypeError(f"ack() is for INTERACTION_CREATE events, not {self.name}")
        await self.services.api.interaction_callback(self.event.id, code)

    # -- sessions -------------------------------------------------------------------------------
    @property
    def sessions(self) -> SessionHelper:
        """Session operations scoped by this event (``new/get/update/remove/end/list``)."""
        if self._sessions is None:
            self._sessions = SessionHelper(self)
        return self._sessions

    @dual
    async def session(self, key: str = "default", *, scope: Scope | str = Scope.USER,
                      timeout: float | None = None, timeout_reply: str | None = None,
                      create: bool = True) -> SessionHandle | None:
        """Return a handle on this user's/place's session ``key``, creating it if missing.

        ``await msg.session(scope="user")`` in async handlers; ``msg.session()`` in ``def`` ones.

        Raises:
            SessionError: the scope does not apply to this event (e.g. GROUP in a guild).
        """
        return self.sessions.handle(key, scope=scope, timeout=timeout,
                                    timeout_reply=timeout_reply, create=create)


class MessageContext(EventContext):
    """What a message handler or command receives (all four scenes).

    Attributes (besides :class:`EventContext`'s):
        match: how the command matched (``None`` for plain message handlers).
    """

    __slots__ = ("match",)

    def __init__(self, event: Any, inbound: InboundEvent, services: BotServices,
                 match: CommandMatch | None = None) -> None:
        # EventContext.__init__ inlined (one per message)
        self.event = event
        self.inbound = inbound
        self.services = services
        self._sessions = None
        self.match = match

    @property
    def text(self) -> str:
        """The content with the bot's mentions stripped and whitespace trimmed."""
        return getattr(self.event, "text", "") or ""

    @property
    def content(self) -> str:
        """The content as sent (entities unescaped, mentions kept)."""
        return getattr(self.event, "content", None) or ""

    @property
    def id(self) -> str | None:
        """The message id."""
        return getattr(self.event, "id", None)

    @property
    def author_id(self) -> str | None:
        """The author's id in this scene (user id or openid)."""
        return getattr(self.event, "author_id", None)

    @property
    def at_bot(self) -> bool:
        """True if the bot was @-mentioned (always true in DMs and C2C)."""
        return bool(getattr(self.event, "mentions_me", False))

    @property
    def is_admin(self) -> bool:
        """True for the bot-admin list, guild owners/admins (roles 2, 4, 5) and group owners/admins."""
        uid = self.author_id
        if uid and uid in self.services.settings.admins:
            return True
        roles = _get(self.event, "member", "roles") or []
        if any(str(r) in ADMIN_ROLE_IDS for r in roles):
            return True
        role = _get(self.event, "author", "member_role")
        return role in ("admin", "owner")

    # -- command match ----------------------------------------------------------------------
    @property
    def command(self) -> str | None:
        """The command word (or matched regex text) that selected this handler."""
        return self.match.command if self.match else None

    @property
    def rest(self) -> str:
        """The text after the command (the whole text for plain message handlers)."""
        return self.match.rest if self.match else self.text

    @property
    def args(self) -> list[str]:
        """``rest`` split on whitespace."""
        return self.rest.split()

    @property
    def groups(self) -> tuple[Any, ...]:
        """The regex groups of a regex command (empty otherwise)."""
        return self.match.groups if self.match else ()

    # -- conversations ------------------------------------------------------------------------
    def conversation(self, timeout: float = 60.0, *, scope: str = "user",
                     timeout_reply: str | None = None) -> "Conversation":
        """Open a conversation with this user here (``scope="user"``) or with anyone here
        (``scope="place"``): ``async with msg.conversation(timeout=60) as conv:`` (or plain
        ``with`` in a ``def`` handler). See :class:`~qgactor.bot.dialog.Conversation`.

        Raises:
            ValueError: an unknown scope or a non-positive timeout.
        """
        from qgactor.bot.dialog import Conversation

        return Conversation(self, timeout=timeout, scope=scope, timeout_reply=timeout_reply)

    @dual
    async def wait_for(self, timeout: float = 60.0, *, check: Any = None,
                       timeout_reply: str | None = None) -> "MessageContext":
        """Wait for this user's next message here (shorthand for a one-question conversation).

        Raises:
            ConversationTimeout: nothing arrived within ``timeout`` seconds.
        """
        async with self.conversation(timeout, timeout_reply=timeout_reply) as conv:
            return await conv.wait_for(check=check)


class JobContext(_BotAccess):
    """What a scheduled job receives: the bot, the API client and the job itself."""

    __slots__ = ("job",)

    def __init__(self, job: "Job", services: BotServices) -> None:
        self.job = job
        self.services = services

    def __repr__(self) -> str:
        return f"<JobContext {self.job.name}>"

    @property
    def sessions(self) -> Any:
        """The bot's :class:`~qgactor.bot.sessions.SessionManager` (explicit scope ids); usable
        from ``def`` jobs too (calls hop to the bot's thread)."""
        return ThreadSafeProxy(self.services.sessions, self.services.token)
