"""REST resources of spec section 7 and the small answer objects of section 6.

All are ``Model`` subclasses: unknown keys stay readable, missing fields are ``None``.
Ids are kept exactly as the platform sends them (strings).
"""

from __future__ import annotations

from qgactor.qq.models.base import Model, model, nested, nested_list, plain_list, text, value

__all__ = [
    "User", "Member", "Role", "Guild", "Channel", "Attachment", "MessageReference", "Emoji",
    "GatewayInfo", "SessionStartLimit", "GatewayBotInfo", "DirectSession", "MessageSetting",
    "ChannelPermissions", "GuildRoles", "RoleCreated", "RoleMembersPage", "Schedule", "Announce",
    "PinsMessage", "ReactionUsers", "RichText", "ThreadInfo", "Thread", "ThreadList",
    "ThreadCreated", "ApiPermission", "ApiPermissionDemand", "MediaFile", "SentMessage",
    "UrlLink", "GroupMember", "GroupMembersPage", "MuteResult",
]


@model
class User(Model):
    """A user or bot (spec 7.1). Group/C2C authors and mentions carry openid fields instead."""

    id: str | None = value()
    username: str | None = text()
    avatar: str | None = value()
    bot: bool | None = value()
    union_openid: str | None = value()
    union_user_account: str | None = value()
    member_openid: str | None = value()
    user_openid: str | None = value()
    member_role: str | None = value()
    is_you: bool | None = value()
    scope: str | None = value()

    @property
    def openid(self) -> str | None:
        """The best id for this user in its scene: member/user openid, else ``id``."""
        return self.member_openid or self.user_openid or self.id


@model
class Member(Model):
    """A guild member (spec 7.5); ``guild_id`` is set in member events (MemberWithGuildID)."""

    user: User | None = nested(User)
    nick: str | None = text()
    roles: list[str] = plain_list()
    joined_at: str | None = value()
    guild_id: str | None = value()


@model
class Role(Model):
    """A guild role (spec 7.5): ``color`` is ARGB as an integer, ``hoist`` 0/1."""

    id: str | None = value()
    name: str | None = text()
    color: int | None = value()
    hoist: int | None = value()
    number: int | None = value()
    member_limit: int | None = value()


@model
class Guild(Model):
    """A guild (频道, spec 7.2)."""

    id: str | None = value()
    name: str | None = text()
    icon: str | None = value()
    owner_id: str | None = value()
    owner: bool | None = value()
    member_count: int | None = value()
    max_members: int | None = value()
    description: str | None = text()
    joined_at: str | None = value()


@model
class Channel(Model):
    """A channel (子频道, spec 7.3). ``type``: 0 text, 2 voice, 4 category, 10005 live, 10006 app, 10007 forum."""

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
    permissions: str | None = value()


@model
class Attachment(Model):
    """A message attachment. ``url`` may lack a scheme; ``full_url`` adds ``https://``."""

    id: str | None = value()
    url: str | None = value()
    content_type: str | None = value()
    filename: str | None = value()
    size: int | None = value()
    width: int | None = value()
    height: int | None = value()

    @property
    def full_url(self) -> str | None:
        """``url`` with ``https://`` prefixed when the platform sent it without a scheme."""
        if isinstance(self.url, str) and self.url and "://" not in self.url:
            return "https://" + self.url.lstrip("/")
        return self.url


@model
class MessageReference(Model):
    """The message a message quotes."""

    message_id: str | None = value()
    ignore_get_message_error: bool | None = value()


@model
class Emoji(Model):
    """An emoji (spec 7.7): ``type`` 1 system (numeric id), 2 emoji (the character)."""

    id: str | None = value()
    type: int | None = value()


@model
class GatewayInfo(Model):
    """``GET /gateway``: the websocket URL."""

    url: str | None = value()


@model
class SessionStartLimit(Model):
    """Session budget of ``/gateway/bot`` (``reset_after`` in milliseconds)."""

    total: int | None = value()
    remaining: int | None = value()
    reset_after: int | None = value()
    max_concurrency: int | None = value()


@model
class GatewayBotInfo(Model):
    """``GET /gateway/bot``: URL, recommended shard count and session budget."""

    url: str | None = value()
    shards: int | None = value()
    session_start_limit: SessionStartLimit | None = nested(SessionStartLimit)


@model
class DirectSession(Model):
    """``POST /users/@me/dms``: the DM session; send to it with its ``guild_id``."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    create_time: str | None = value()


@model
class MessageSetting(Model):
    """``GET /guilds/{id}/message/setting``."""

    disable_create_dm: bool | None = value()
    disable_push_msg: bool | None = value()
    channel_ids: list[str] = plain_list()
    channel_push_max_num: int | None = value()


@model
class ChannelPermissions(Model):
    """Channel permissions of a member or role; ``permissions`` is a decimal bitmap string."""

    channel_id: str | None = value()
    user_id: str | None = value()
    role_id: str | None = value()
    permissions: str | None = value()


@model
class GuildRoles(Model):
    """``GET /guilds/{id}/roles``."""

    guild_id: str | None = value()
    roles: list[Role] = nested_list(Role)
    role_num_limit: str | None = value()


@model
class RoleCreated(Model):
    """``POST``/``PATCH`` role answers: the role id and the role."""

    guild_id: str | None = value()
    role_id: str | None = value()
    role: Role | None = nested(Role)


@model
class RoleMembersPage(Model):
    """One page of ``GET /guilds/{id}/roles/{role}/members``; ``next`` is the next start index."""

    data: list[Member] = nested_list(Member)
    next: str | None = value()


@model
class Schedule(Model):
    """A channel schedule (spec 7.6); timestamps are millisecond strings."""

    id: str | None = value()
    name: str | None = text()
    description: str | None = text()
    start_timestamp: str | None = value()
    end_timestamp: str | None = value()
    creator: Member | None = nested(Member)
    jump_channel_id: str | None = value()
    remind_type: str | None = value()


@model
class Announce(Model):
    """A guild announcement."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    message_id: str | None = value()
    announces_type: int | None = value()
    recommend_channels: list[dict] = plain_list()


@model
class PinsMessage(Model):
    """The pinned messages of a channel."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    message_ids: list[str] = plain_list()


@model
class ReactionUsers(Model):
    """One page of reaction users; pass ``cookie`` back for the next page until ``is_end``."""

    users: list[User] = nested_list(User)
    cookie: str | None = value()
    is_end: bool | None = value()


@model
class RichText(Model):
    """Forum rich text (spec 7.8): ``paragraphs`` of ``elems`` (kept as plain dicts)."""

    paragraphs: list[dict] = plain_list()


@model
class ThreadInfo(Model):
    """A forum thread's body; ``title``/``content`` are JSON strings of ``RichText`` in events."""

    thread_id: str | None = value()
    title: str | None = value()
    content: str | None = value()
    date_time: str | None = value()


@model
class Thread(Model):
    """A forum thread."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    author_id: str | None = value()
    thread_info: ThreadInfo | None = nested(ThreadInfo)


@model
class ThreadList(Model):
    """``GET /channels/{id}/threads``; ``is_finish`` 1 when this is the last page."""

    threads: list[Thread] = nested_list(Thread)
    is_finish: int | None = value()


@model
class ThreadCreated(Model):
    """``PUT /channels/{id}/threads``: an asynchronous publish task."""

    task_id: str | None = value()
    create_time: str | None = value()


@model
class ApiPermission(Model):
    """One API of ``GET /guilds/{id}/api_permission``; ``auth_status`` 1 = authorised."""

    path: str | None = value()
    method: str | None = value()
    desc: str | None = value()
    auth_status: int | None = value()


@model
class ApiPermissionDemand(Model):
    """The answer to an API permission demand."""

    guild_id: str | None = value()
    channel_id: str | None = value()
    api_identify: dict | None = value()
    title: str | None = value()
    desc: str | None = value()


@model
class MediaFile(Model):
    """A rich-media upload result: pass ``file_info`` in ``media``; ``ttl`` 0 = long-lived."""

    file_uuid: str | None = value()
    file_info: str | None = value()
    ttl: int | None = value()
    id: str | None = value()


@model
class SentMessage(Model):
    """A group/C2C send answer: message ``id`` and ``timestamp`` (int or RFC3339)."""

    id: str | None = value()
    timestamp: int | str | None = value()


@model
class UrlLink(Model):
    """``POST /v2/generate_url_link``."""

    url: str | None = value()


@model
class GroupMember(Model):
    """A group member of the (unverified) group member list."""

    member_openid: str | None = value()
    join_timestamp: int | None = value()


@model
class GroupMembersPage(Model):
    """One page of the group member list."""

    members: list[GroupMember] = nested_list(GroupMember)
    next_index: int | None = value()


@model
class MuteResult(Model):
    """Batch mute answer: the user ids that were muted."""

    user_ids: list[str] = plain_list()
