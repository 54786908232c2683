"""Models of the non-message dispatch events of spec section 4.3."""

from __future__ import annotations

from qgactor.qq.models.base import Model, model, text, nested, plain_list, value
from qgactor.qq.models.event import Event
from qgactor.qq.models.resources import Emoji, User
from qgactor.qq.scene import ReplyTarget, Scene

__all__ = [
    "Ready", "Resumed", "GuildEvent", "ChannelEvent", "GuildMemberEvent", "ReactionTarget",
    "ReactionEvent", "InteractionResolved", "InteractionData", "InteractionEvent", "FriendEvent",
    "GroupRobotEvent", "GroupMemberEvent", "MessageAuditEvent", "AudioActionEvent",
    "AudioLiveMemberEvent", "ForumThreadInfo", "ForumPostInfo", "ForumReplyInfo",
    "ForumThreadEvent", "ForumPostEvent", "ForumReplyEvent", "ForumAuditResultEvent",
    "OpenForumEvent", "SubscribeMessageStatusEvent", "EnterAioEvent",
]


@model
class Ready(Event):
    """READY: the session is established; ``user`` is the bot itself, ``shard`` ``[id, count]``."""

    version: int | None = value()
    session_id: str | None = value()
    user: User | None = nested(User)
    shard: list[int] = plain_list()


@model
class Resumed(Event):
    """RESUMED: the session was resumed (its ``d`` is the empty string)."""


@model
class GuildEvent(Event):
    """GUILD_CREATE / GUILD_UPDATE / GUILD_DELETE: the guild (before the change for DELETE).

    Same fields as ``Guild`` plus ``op_user_id``.
    """

    id: str | None = value()
    name: str | None = text()
    icon: str | None = value()
    owner_id: str | None = value()
    owner: bool | None = value()
    member_count: int | None = value()
    max_members: int | None = value()
    description: str | None = text()
    joined_at: str | None = value()
    op_user_id: str | None = value()


@model
class ChannelEvent(Event):
    """CHANNEL_CREATE / CHANNEL_UPDATE / CHANNEL_DELETE: ``Channel`` fields plus ``op_user_id``."""

    id: str | None = value()
    guild_id: str | None = value()
    name: str | None = text()
    type: int | None = value()
    sub_type: int | None = value()
    position: int | None = value()
    parent_id: str | None = value()
    owner_id: str | None = value()
    private_type: int | None = value()
    speak_permission: int | None = value()
    application_id: str | None = value()
    op_user_id: str | None = value()


@model
class GuildMemberEvent(Event):
    """GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE / GUILD_MEMBER_REMOVE: ``Member`` fields plus
    ``guild_id`` and ``op_user_id``."""

    user: User | None = nested(User)
    nick: str | None = text()
    roles: list[str] = plain_list()
    joined_at: str | None = value()
    guild_id: str | None = value()
    op_user_id: str | None = value()


@model
class ReactionTarget(Model):
    """What was reacted to: ``type`` 0 message, 1 thread, 2 comment, 3 reply (int or str)."""

    id: str | None = value()
    type: int | str | None = value()


@model
class ReactionEvent(Event):
    """MESSAGE_REACTION_ADD / MESSAGE_REACTION_REMOVE."""

    user_id: str | None = value()
    guild_id: str | None = value()
    channel_id: str | None = value()
    emoji: Emoji | None = nested(Emoji)
    target: ReactionTarget | None = nested(ReactionTarget)

    def _make_reply_target(self) -> ReplyTarget | None:
        if not self.channel_id:
            return None
        return ReplyTarget(Scene.GUILD, self.channel_id, event_id=self.event_id)


@model
class InteractionResolved(Model):
    """The button (or menu) that was clicked."""

    button_data: str | None = value()
    button_id: str | None = value()
    user_id: str | None = value()
    feature_id: str | None = value()
    message_id: str | None = value()


@model
class InteractionData(Model):
    """``data`` of an interaction: ``type`` and ``resolved``."""

    type: int | None = value()
    resolved: InteractionResolved | None = nested(InteractionResolved)


@model
class InteractionEvent(Event):
    """INTERACTION_CREATE: a button or menu click. ACK it with ``api.interaction_callback(id)``.

    ``chat_type``: 0 guild, 1 group, 2 C2C; ``scene``: the same as ``"guild"/"group"/"c2c"``.
    """

    id: str | None = value()
    type: int | None = value()
    version: int | None = value()
    timestamp: str | None = value()
    scene: str | None = value()
    chat_type: int | None = value()
    application_id: str | None = value()
    guild_id: str | None = value()
    channel_id: str | None = value()
    user_openid: str | None = value()
    group_openid: str | None = value()
    group_member_openid: str | None = value()
    data: InteractionData | None = nested(InteractionData)

    @property
    def button_data(self) -> str | None:
        """Shortcut for ``data.resolved.button_data``."""
        if self.data is None or self.data.resolved is None:
            return None
        return self.data.resolved.button_data

    @property
    def user_id(self) -> str | None:
        """Who clicked: group member openid, user openid, or the guild user id."""
        resolved = self.data.resolved if self.data is not None else None
        return self.group_member_openid or self.user_openid or (resolved.user_id if resolved else None)

    def _make_reply_target(self) -> ReplyTarget | None:
        reply_id = self.event_id or self.id
        if (self.chat_type == 1 or self.scene == "group") and self.group_openid:
            return ReplyTarget(Scene.GROUP, self.group_openid, event_id=reply_id)
        if (self.chat_type == 2 or self.scene == "c2c") and self.user_openid:
            return ReplyTarget(Scene.C2C, self.user_openid, event_id=reply_id)
        if self.channel_id:
            return ReplyTarget(Scene.GUILD, self.channel_id, event_id=reply_id)
        return None


@model
class FriendEvent(Event):
    """FRIEND_ADD / FRIEND_DEL / C2C_MSG_REJECT / C2C_MSG_RECEIVE (``timestamp`` epoch seconds)."""

    openid: str | None = value()
    timestamp: int | None = value()
    nick: str | None = value()
    avatar: str | None = value()

    def _make_reply_target(self) -> ReplyTarget | None:
        if not self.openid or self.event_type in ("FRIEND_DEL", "C2C_MSG_REJECT"):
            return None
        return ReplyTarget(Scene.C2C, self.openid, event_id=self.event_id)


@model
class GroupRobotEvent(Event):
    """GROUP_ADD_ROBOT / GROUP_DEL_ROBOT / GROUP_MSG_REJECT / GROUP_MSG_RECEIVE."""

    group_openid: str | None = value()
    op_member_openid: str | None = value()
    timestamp: int | None = value()

    def _make_reply_target(self) -> ReplyTarget | None:
        if not self.group_openid or self.event_type in ("GROUP_DEL_ROBOT", "GROUP_MSG_REJECT"):
            return None
        return ReplyTarget(Scene.GROUP, self.group_openid, event_id=self.event_id)


@model
class GroupMemberEvent(Event):
    """GROUP_MEMBER_ADD / GROUP_MEMBER_REMOVE (unverified officially; ``timestamp`` int or ISO)."""

    group_openid: str | None = value()
    member_openid: str | None = value()
    timestamp: int | str | None = value()

    def _make_reply_target(self) -> ReplyTarget | None:
        if not self.group_openid or self.event_type != "GROUP_MEMBER_ADD":
            return None
        return ReplyTarget(Scene.GROUP, self.group_openid, event_id=self.event_id)


@model
class MessageAuditEvent(Event):
    """MESSAGE_AUDIT_PASS / MESSAGE_AUDIT_REJECT (``message_id`` only on PASS)."""

    audit_id: str | None = value()
    message_id: str | None = value()
    guild_id: str | None = value()
    channel_id: str | None = value()
    audit_time: str | None = value()
    create_time: str | None = value()
    seq_in_channel: str | None = value()
    user_openid: str | None = value()
    group_openid: str | None = value()

    @property
    def passed(self) -> bool:
        """True for MESSAGE_AUDIT_PASS."""
        return self.event_type == "MESSAGE_AUDIT_PASS"


@model
class AudioActionEvent(Event):
    """AUDIO_START / AUDIO_FINISH / AUDIO_ON_MIC / AUDIO_OFF_MIC."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    audio_url: str | None = value()
    text: str | None = value()


@model
class AudioLiveMemberEvent(Event):
    """AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER / _EXIT; ``channel_type`` 2 audio, 5 live."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    channel_type: int | None = value()
    user_id: str | None = value()


@model
class ForumThreadInfo(Model):
    """``thread_info``: ``title``/``content`` are JSON strings of RichText."""

    thread_id: str | None = value()
    title: str | None = value()
    content: str | None = value()
    date_time: str | None = value()


@model
class ForumPostInfo(Model):
    """``post_info`` of a forum post event."""

    thread_id: str | None = value()
    post_id: str | None = value()
    content: str | None = value()
    date_time: str | None = value()


@model
class ForumReplyInfo(Model):
    """``reply_info`` of a forum reply event."""

    thread_id: str | None = value()
    post_id: str | None = value()
    reply_id: str | None = value()
    content: str | None = value()
    date_time: str | None = value()


@model
class _ForumBase(Event):
    guild_id: str | None = value()
    channel_id: str | None = value()
    author_id: str | None = value()

    def _make_reply_target(self) -> ReplyTarget | None:
        if not self.channel_id or self.event_type is None or not self.event_type.startswith("FORUM_"):
            return None
        return ReplyTarget(Scene.GUILD, self.channel_id, event_id=self.event_id)


@model
class ForumThreadEvent(_ForumBase):
    """FORUM_THREAD_CREATE / _UPDATE / _DELETE."""

    thread_info: ForumThreadInfo | None = nested(ForumThreadInfo)


@model
class ForumPostEvent(_ForumBase):
    """FORUM_POST_CREATE / FORUM_POST_DELETE."""

    post_info: ForumPostInfo | None = nested(ForumPostInfo)


@model
class ForumReplyEvent(_ForumBase):
    """FORUM_REPLY_CREATE / FORUM_REPLY_DELETE."""

    reply_info: ForumReplyInfo | None = nested(ForumReplyInfo)


@model
class ForumAuditResultEvent(_ForumBase):
    """FORUM_PUBLISH_AUDIT_RESULT: ``type`` 1 thread/2 post/3 reply, ``result`` 0 ok/1 failed."""

    thread_id: str | None = value()
    post_id: str | None = value()
    reply_id: str | None = value()
    type: int | None = value()
    result: int | None = value()
    err_msg: str | None = value()


@model
class OpenForumEvent(_ForumBase):
    """OPEN_FORUM_* (public-domain forum events): only guild, channel and author ids."""


@model
class SubscribeMessageStatusEvent(Event):
    """SUBSCRIBE_MESSAGE_STATUS (botgo only, unverified)."""

    group_openid: str | None = value()
    openid: str | None = value()
    result: list[dict] = plain_list()


@model
class EnterAioEvent(Event):
    """ENTER_AIO (botgo only, unverified): a user opened the chat window."""

    user_openid: str | None = value()
    from_source: str | None = value()

