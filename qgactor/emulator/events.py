"""Realistic event payloads (spec 4.3) built from the world, for the control API.

``MessageSpec`` describes a user message to inject; :func:`build_message` turns it into the
dispatch name, the ``d`` payload and the passive-reply record. :func:`default_event` gives a
plausible ``d`` for any other event name so tests can inject ``GUILD_MEMBER_ADD`` etc.
without writing payloads by hand.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import attrs

from .clock import IdMaker, PlatformClock
from .http import PlatformError
from .replies import Inbound
from .world import User, World

__all__ = ["MessageSpec", "BuiltEvent", "build_message", "default_event", "scene_of_event", "escape_guild_text"]


@attrs.define(slots=True)
class MessageSpec:
    """A user message to inject (control API ``POST /_emulator/messages``)."""

    scene: str
    content: str = ""
    at_bot: bool = True
    user: str | None = None
    channel: str | None = None
    guild: str | None = None
    group: str | None = None
    mentions: list[str] = attrs.Factory(list)
    attachments: list[dict[str, Any]] = attrs.Factory(list)
    extra: dict[str, Any] = attrs.Factory(dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageSpec:
        """Validate a control body; raises :class:`PlatformError` 400 with what is wrong."""
        scene = data.get("scene", "guild")
        if scene not in ("guild", "dm", "group", "c2c"):
            raise PlatformError(400, 12002, "scene must be one of guild, dm, group, c2c")
        content = data.get("content", "")
        if not isinstance(content, str):
            raise PlatformError(400, 12002, "content must be a string")
        fields = {k: data.get(k) for k in ("user", "channel", "guild", "group")}
        for k, v in fields.items():
            if v is not None and not isinstance(v, str):
                raise PlatformError(400, 12002, f"{k} must be a string id")
        mentions = data.get("mentions") or []
        attachments = data.get("attachments") or []
        extra = data.get("extra") or {}
        if not isinstance(mentions, list) or not isinstance(attachments, list) or not isinstance(extra, dict):
            raise PlatformError(400, 12002, "mentions/attachments must be lists, extra an object")
        return cls(scene, content, bool(data.get("at_bot", True)), mentions=[str(m) for m in mentions],
                   attachments=attachments, extra=extra, **fields)


@attrs.define(slots=True)
class BuiltEvent:
    """A dispatch ready to publish: name, payload, shard key and reply records."""

    name: str
    data: dict[str, Any]
    shard_key: Any
    records: list[Inbound]


def escape_guild_text(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as the platform does in inbound guild content (spec 6.9)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _author_guild(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "avatar": user.avatar, "bot": False}


def _user(world: World, key: str | None) -> User:
    user = world.user(key)
    if user is None:
        raise PlatformError(400, 12002, f"unknown user {key!r}; use an id, username or openid of the world")
    return user


def build_message(spec: MessageSpec, world: World, clock: PlatformClock, ids: IdMaker) -> BuiltEvent:
    """Build the dispatch for a user message (raises :class:`PlatformError` for bad ids)."""
    now = clock.now()
    ts = clock.rfc3339(now)
    user = _user(world, spec.user)
    mentioned = [_user(world, m) for m in spec.mentions]
    if spec.scene in ("guild", "dm"):
        return _guild_or_dm(spec, world, ids, user, mentioned, now, ts)
    msg_id = ids.open_message()
    msg_idx = f"REFIDX_{ids.hex(24)}"
    base: dict[str, Any] = {
        "id": msg_id, "content": spec.content, "timestamp": ts,
        "message_scene": {"source": "default", "ext": [f"msg_idx={msg_idx}"]},
        "message_type": 0, "msg_idx": msg_idx,
    }
    if spec.attachments:
        base["attachments"] = spec.attachments
    if spec.scene == "group":
        group = world.groups.get(spec.group) if spec.group else next(iter(world.groups.values()), None)
        if group is None:
            raise PlatformError(400, 12002, f"unknown group {spec.group!r}")
        member = world.group_member(group, user)
        name = "GROUP_AT_MESSAGE_CREATE" if spec.at_bot else "GROUP_MESSAGE_CREATE"
        d = base | {
            # the leading @bot is removed from content, leaving a space (spec 4.3)
            "content": (" " + spec.content) if spec.at_bot else spec.content,
            "group_id": group.group_openid, "group_openid": group.group_openid,
            "author": {"id": member.member_openid, "member_openid": member.member_openid,
                       "union_openid": user.union_openid, "username": user.username,
                       "bot": False, "member_role": member.role},
        }
        mentions = [{"scope": "single", "bot": False, "id": world.group_member(group, m).member_openid,
                     "is_you": False, "member_openid": world.group_member(group, m).member_openid,
                     "username": m.username} for m in mentioned]
        if spec.at_bot:
            mentions.insert(0, {"scope": "single", "bot": True, "id": world.bot.id, "is_you": True,
                                "member_openid": world.bot.union_openid or world.bot.id,
                                "username": world.bot.username})
        if mentions:
            d["mentions"] = mentions
        d |= spec.extra
        rec = Inbound(msg_id, "message", "group", now, name, group_openid=group.group_openid,
                      user_openid=member.member_openid, content=d["content"])
        return BuiltEvent(name, d, None, [rec])
    d = base | {"author": {"id": user.openid, "user_openid": user.openid,
                           "union_openid": user.union_openid, "username": user.username}}
    d |= spec.extra
    rec = Inbound(msg_id, "message", "c2c", now, "C2C_MESSAGE_CREATE", user_openid=user.openid,
                  content=spec.content)
    return BuiltEvent("C2C_MESSAGE_CREATE", d, None, [rec])


def _guild_or_dm(spec: MessageSpec, world: World, ids: IdMaker, user: User,
                 mentioned: list[User], now: float, ts: str) -> BuiltEvent:
    msg_id = ids.guild_message()
    if spec.scene == "guild":
        if spec.channel:
            found = world.channel(spec.channel)
            if found is None:
                raise PlatformError(400, 12002, f"unknown channel {spec.channel!r}")
            guild, channel = found
        else:
            guild = world.guilds.get(spec.guild) if spec.guild else next(iter(world.guilds.values()), None)
            if guild is None:
                raise PlatformError(400, 12002, f"unknown guild {spec.guild!r}")
            channel = world.first_text_channel(guild)
            if channel is None:
                raise PlatformError(400, 12002, f"guild {guild.id} has no text channel")
        member = guild.members.get(user.id, {"roles": ["1"], "joined_at": guild.joined_at, "nick": ""})
        content = escape_guild_text(spec.content)
        if mentioned:
            content = " ".join(f"<@!{m.id}>" for m in mentioned) + " " + content
        mentions = [m.to_json() for m in mentioned]
        if spec.at_bot:
            content = f"<@!{world.bot.id}> {content}"
            mentions.insert(0, world.bot.to_json())
        name = "AT_MESSAGE_CREATE" if spec.at_bot else "MESSAGE_CREATE"
        seq = world.next_channel_seq(channel["id"])
        d: dict[str, Any] = {
            "id": msg_id, "channel_id": channel["id"], "guild_id": guild.id, "content": content,
            "timestamp": ts, "author": _author_guild(user),
            "member": {"joined_at": member["joined_at"], "roles": list(member["roles"]), "nick": member["nick"]},
            "seq": seq, "seq_in_channel": str(seq),
        }
        if mentions:
            d["mentions"] = mentions
        gid, cid = guild.id, channel["id"]
    else:
        source = spec.guild or next(iter(world.guilds), "0")
        session = world.dm_session(user, source, int(now))
        name = "DIRECT_MESSAGE_CREATE"
        seq = world.next_channel_seq(session.channel_id)
        d = {
            "id": msg_id, "channel_id": session.channel_id, "guild_id": session.guild_id,
            "src_guild_id": session.source_guild_id, "direct_message": True,
            "content": escape_guild_text(spec.content),
            "timestamp": ts, "author": _author_guild(user),
            "member": {"joined_at": ts}, "seq": seq, "seq_in_channel": str(seq),
        }
        gid, cid = session.guild_id, session.channel_id
    if spec.attachments:
        d["attachments"] = spec.attachments
    d |= spec.extra
    rec = Inbound(msg_id, "message", spec.scene, now, name, guild_id=gid, channel_id=cid,
                  user_openid=user.id, content=d["content"])
    return BuiltEvent(name, d, gid, [rec])


# ------------------------------------------------------------------ other events
def _first_guild(world: World) -> Any:
    return next(iter(world.guilds.values()))


def _guild_event(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    return world.guild_json(_first_guild(world)) | {"op_user_id": next(iter(world.users), world.bot.id)}


def _channel_event(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    g = _first_guild(world)
    c = world.first_text_channel(g) or {}
    return {k: c.get(k) for k in ("guild_id", "id", "name", "owner_id", "sub_type", "type", "position")} \
        | {"op_user_id": g.owner_id}


def _member_event(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    g = _first_guild(world)
    uid = next(u for u in g.members if u != world.bot.id)
    return world.member_json(g, uid, with_guild=True) | {"op_user_id": uid}


def _reaction(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    g = _first_guild(world)
    c = world.first_text_channel(g) or {"id": "0"}
    return {"user_id": next(iter(world.users)), "guild_id": g.id, "channel_id": c["id"],
            "emoji": {"id": "277", "type": 1}, "target": {"id": ids.guild_message(), "type": 0}}


def _interaction(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    group = next(iter(world.groups.values()))
    member = next(iter(group.members.values()))
    return {"id": ids.uuid(), "type": 11, "version": 1, "timestamp": clock.rfc3339(),
            "scene": "group", "chat_type": 1, "application_id": world.appid,
            "group_openid": group.group_openid, "group_member_openid": member.member_openid,
            "data": {"type": 11, "resolved": {"button_data": "data", "button_id": "1"}}}


def _friend(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    u = next(iter(world.users.values()))
    return {"openid": u.openid, "timestamp": int(clock.now())}


def _group_robot(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    group = next(iter(world.groups.values()))
    member = next(iter(group.members.values()))
    return {"group_openid": group.group_openid, "op_member_openid": member.member_openid,
            "timestamp": int(clock.now())}


def _group_member(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    group = next(iter(world.groups.values()))
    member = next(iter(group.members.values()))
    return {"group_openid": group.group_openid, "member_openid": member.member_openid,
            "timestamp": int(clock.now())}


def _message_delete(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    g = _first_guild(world)
    c = world.first_text_channel(g) or {"id": "0"}
    u = next(iter(world.users.values()))
    return {"message": {"id": ids.guild_message(), "channel_id": c["id"], "guild_id": g.id,
                        "author": {"id": u.id, "username": u.username, "bot": False}},
            "op_user": {"id": u.id}}


def _audit(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    g = _first_guild(world)
    c = world.first_text_channel(g) or {"id": "0"}
    ts = clock.rfc3339()
    return {"audit_id": ids.uuid(), "audit_time": ts, "create_time": ts, "guild_id": g.id,
            "channel_id": c["id"], "message_id": ids.guild_message()}


def _audio(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    g = _first_guild(world)
    c = next((c for c in g.channels.values() if c["type"] == 2), {"id": "0"})
    return {"guild_id": g.id, "channel_id": c["id"], "audio_url": "https://example.invalid/a.mp3", "text": ""}


def _audio_member(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    d = _audio(world, clock, ids)
    return {"guild_id": d["guild_id"], "channel_id": d["channel_id"], "channel_type": 2,
            "user_id": next(iter(world.users))}


def _forum(kind: str) -> Callable[[World, PlatformClock, IdMaker], dict[str, Any]]:
    def build(world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
        g = _first_guild(world)
        c = next((c for c in g.channels.values() if c["type"] == 10007), {"id": "0"})
        base = {"guild_id": g.id, "channel_id": c["id"], "author_id": next(iter(world.users))}
        rich = json.dumps({"paragraphs": [{"elems": [{"type": 1, "text": {"text": "hello"}}],
                                           "props": {}}]}, ensure_ascii=False)
        ts = clock.rfc3339()
        if kind == "thread":
            return base | {"thread_info": {"thread_id": ids.uuid(), "title": rich, "content": rich, "date_time": ts}}
        if kind == "post":
            return base | {"post_info": {"thread_id": ids.uuid(), "post_id": ids.uuid(), "content": rich, "date_time": ts}}
        if kind == "reply":
            return base | {"reply_info": {"thread_id": ids.uuid(), "post_id": ids.uuid(),
                                          "reply_id": ids.uuid(), "content": rich, "date_time": ts}}
        if kind == "audit":
            return base | {"thread_id": ids.uuid(), "post_id": "", "reply_id": "", "type": 1,
                           "result": 0, "err_msg": ""}
        return base
    return build


_DEFAULTS: dict[str, Callable[[World, PlatformClock, IdMaker], dict[str, Any]]] = {
    **dict.fromkeys(("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"), _guild_event),
    **dict.fromkeys(("CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE"), _channel_event),
    **dict.fromkeys(("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"), _member_event),
    **dict.fromkeys(("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"), _reaction),
    "INTERACTION_CREATE": _interaction,
    **dict.fromkeys(("FRIEND_ADD", "FRIEND_DEL", "C2C_MSG_REJECT", "C2C_MSG_RECEIVE"), _friend),
    **dict.fromkeys(("GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_REJECT", "GROUP_MSG_RECEIVE"), _group_robot),
    **dict.fromkeys(("GROUP_MEMBER_ADD", "GROUP_MEMBER_REMOVE"), _group_member),
    **dict.fromkeys(("MESSAGE_DELETE", "PUBLIC_MESSAGE_DELETE", "DIRECT_MESSAGE_DELETE"), _message_delete),
    **dict.fromkeys(("MESSAGE_AUDIT_PASS", "MESSAGE_AUDIT_REJECT"), _audit),
    **dict.fromkeys(("AUDIO_START", "AUDIO_FINISH", "AUDIO_ON_MIC", "AUDIO_OFF_MIC"), _audio),
    **dict.fromkeys(("AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER", "AUDIO_OR_LIVE_CHANNEL_MEMBER_EXIT"), _audio_member),
    **dict.fromkeys(("FORUM_THREAD_CREATE", "FORUM_THREAD_UPDATE", "FORUM_THREAD_DELETE"), _forum("thread")),
    **dict.fromkeys(("FORUM_POST_CREATE", "FORUM_POST_DELETE"), _forum("post")),
    **dict.fromkeys(("FORUM_REPLY_CREATE", "FORUM_REPLY_DELETE"), _forum("reply")),
    "FORUM_PUBLISH_AUDIT_RESULT": _forum("audit"),
    **dict.fromkeys(tuple(f"OPEN_FORUM_{k}" for k in ("THREAD_CREATE", "THREAD_UPDATE", "THREAD_DELETE",
                                                      "POST_CREATE", "POST_DELETE", "REPLY_CREATE",
                                                      "REPLY_DELETE")), _forum("open")),
}


def default_event(name: str, world: World, clock: PlatformClock, ids: IdMaker) -> dict[str, Any]:
    """A plausible ``d`` for event ``name`` ({} for names without a builder)."""
    builder = _DEFAULTS.get(name)
    if builder is None or not world.guilds or not world.groups or not world.users:
        return {}
    try:
        return builder(world, clock, ids)
    except (StopIteration, KeyError, IndexError):  # a sparse custom world: no default payload
        return {}


def scene_of_event(name: str, d: Any, world: World) -> tuple[str, dict[str, Any]] | None:
    """The passive-reply scene and target fields of an injected event, if it has one."""
    if not isinstance(d, dict):
        return None
    if name == "INTERACTION_CREATE":
        chat = d.get("chat_type")
        if chat == 1 or d.get("scene") == "group":
            return "group", {"group_openid": d.get("group_openid")}
        if chat == 2 or d.get("scene") == "c2c":
            return "c2c", {"user_openid": d.get("user_openid")}
        return "guild", {"guild_id": d.get("guild_id"), "channel_id": d.get("channel_id")}
    if name.startswith("GROUP_"):
        return "group", {"group_openid": d.get("group_openid")}
    if name.startswith(("FRIEND_", "C2C_")):
        return "c2c", {"user_openid": d.get("openid") or (d.get("author") or {}).get("user_openid")}
    if name.startswith("DIRECT_MESSAGE"):
        return "dm", {"guild_id": d.get("guild_id") or (d.get("message") or {}).get("guild_id")}
    gid = d.get("guild_id") or (d.get("message") or {}).get("guild_id")
    if gid is not None:
        return "guild", {"guild_id": str(gid), "channel_id": d.get("channel_id")}
    return None
