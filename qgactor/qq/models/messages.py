"""Message models of all four scenes and the message-delete event.

- ``Message``: guild channel message (AT_MESSAGE_CREATE, MESSAGE_CREATE) and the REST
  message resource (spec 7.4); ``DirectMessage``: guild DM (DIRECT_MESSAGE_CREATE).
- ``GroupMessage``: GROUP_AT_MESSAGE_CREATE / GROUP_MESSAGE_CREATE.
- ``C2CMessage``: C2C_MESSAGE_CREATE.

Each has ``.content`` (entities unescaped), ``.text`` (the bot's own mentions stripped,
trimmed), ``.mentions``, ``.mentioned_ids``, ``.author_id``, ``.scene`` and
``.reply_target`` (passive reply with ``msg_id`` and an automatic ``msg_seq`` counter).
"""

from __future__ import annotations

from typing import ClassVar

from qgactor.qq.models.base import context, model, nested, nested_list, plain_list, text, value
from qgactor.qq.models.event import Event
from qgactor.qq.models.resources import Attachment, Member, MessageReference, User
from qgactor.qq.scene import ReplyTarget, Scene
from qgactor.qq.text import mentioned_ids, strip_mentions

__all__ = ["BaseMessage", "Message", "DirectMessage", "GroupMessage", "C2CMessage", "MessageDelete"]

_AT_EVENTS = frozenset({"AT_MESSAGE_CREATE", "GROUP_AT_MESSAGE_CREATE"})


@model
class BaseMessage(Event):
    """Fields and helpers shared by the messages of every scene."""

    id: str | None = value()
    content: str | None = text()
    timestamp: str | int | None = value()
    author: User | None = nested(User)
    attachments: list[Attachment] = nested_list(Attachment)
    mentions: list[User] = nested_list(User)

    #: The scene of this message class (instances may refine it, see ``Message``).
    SCENE: ClassVar[Scene] = Scene.GUILD

    @property
    def scene(self) -> Scene:
        """Where the message was posted."""
        return self.SCENE

    _text: str | None = context(repr=False)

    def _own_ids(self) -> set[str]:
        ids = {self.bot_id} if isinstance(self.bot_id, str) and self.bot_id else set()
        for m in self.mentions:
            if (m.bot is True or m.is_you is True) and isinstance(m.id, str) and m.id:
                ids.add(m.id)
        return ids

    @property
    def text(self) -> str:
        """The content with the bot's own mentions removed, trimmed and unescaped.

        The bot is recognised by ``bot_id`` (set it via ``parse_event(..., bot_id=...)``) and
        by mentions flagged ``bot``/``is_you``. Computed once and cached.
        """
        cached = self._text
        if cached is None:
            raw = self.raw.get("content")
            cached = self._text = strip_mentions(raw, self._own_ids()) if isinstance(raw, str) else ""
        return cached

    @property
    def mentioned_ids(self) -> list[str]:
        """User ids mentioned by markup in the content, in order."""
        raw = self.raw.get("content")
        return mentioned_ids(raw) if isinstance(raw, str) else []

    @property
    def mentions_me(self) -> bool:
        """True if the message @-mentions the bot (always true for @-events, DMs and C2C)."""
        if self.event_type in _AT_EVENTS or self.scene in (Scene.DM, Scene.C2C):
            return True
        own = self._own_ids()
        return bool(own) and any(i in own for i in self.mentioned_ids)

    @property
    def author_id(self) -> str | None:
        """The author's id in this scene (guild user id, member openid or user openid)."""
        return self.author.id if self.author is not None else None


@model
class Message(BaseMessage):
    """A guild channel message (spec 7.4); also the REST message resource."""

    channel_id: str | None = value()
    guild_id: str | None = value()
    edited_timestamp: str | None = value()
    mention_everyone: bool | None = value()
    embeds: list[dict] = plain_list()
    member: Member | None = nested(Member)
    ark: dict | None = value()
    seq: int | None = value()
    seq_in_channel: str | None = value()
    message_reference: MessageReference | None = nested(MessageReference)
    src_guild_id: str | None = value()
    direct_message: bool | None = value()

    @property
    def scene(self) -> Scene:
        """``Scene.DM`` for direct messages, else ``Scene.GUILD``."""
        if self.direct_message or (self.event_type or "").startswith("DIRECT_"):
            return Scene.DM
        return Scene.GUILD

    def _make_reply_target(self) -> ReplyTarget | None:
        if self.scene is Scene.DM:
            return ReplyTarget(Scene.DM, self.guild_id or "", msg_id=self.id)
        return ReplyTarget(Scene.GUILD, self.channel_id or "", msg_id=self.id)


@model
class DirectMessage(Message):
    """A guild direct message (DIRECT_MESSAGE_CREATE); reply via ``/dms/{guild_id}``."""

    SCENE = Scene.DM

    @property
    def scene(self) -> Scene:
        """Always ``Scene.DM``."""
        return Scene.DM


@model
class _OpenMessage(BaseMessage):
    message_scene: dict | None = value()
    message_type: int | None = value()
    msg_idx: str | None = value()
    msg_elements: list[dict] = plain_list()


@model
class GroupMessage(_OpenMessage):
    """A QQ group message (GROUP_AT_MESSAGE_CREATE, GROUP_MESSAGE_CREATE)."""

    SCENE = Scene.GROUP
    group_id: str | None = value()
    group_openid: str | None = value()

    @property
    def author_id(self) -> str | None:
        """The author's ``member_openid`` (falls back to ``author.id``)."""
        a = self.author
        return (a.member_openid or a.id) if a is not None else None

    def _make_reply_target(self) -> ReplyTarget | None:
        return ReplyTarget(Scene.GROUP, self.group_openid or self.group_id or "", msg_id=self.id)


@model
class C2CMessage(_OpenMessage):
    """A QQ single-chat message (C2C_MESSAGE_CREATE)."""

    SCENE = Scene.C2C

    @property
    def author_id(self) -> str | None:
        """The author's ``user_openid`` (falls back to ``author.id``)."""
        a = self.author
        return (a.user_openid or a.id) if a is not None else None

    def _make_reply_target(self) -> ReplyTarget | None:
        return ReplyTarget(Scene.C2C, self.author_id or "", msg_id=self.id)


@model
class MessageDelete(Event):
    """MESSAGE_DELETE / PUBLIC_MESSAGE_DELETE / DIRECT_MESSAGE_DELETE: the message and who deleted it."""

    message: Message | None = nested(Message)
    op_user: User | None = nested(User)
