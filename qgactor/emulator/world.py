"""The in-memory world of the emulator: the bot, users, guilds, channels, roles, groups.

Seeded from a TOML file (``default_world.toml`` ships with the package). REST handlers
read and mutate it; objects render to the JSON shapes of spec section 7.
"""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

__all__ = ["World", "WorldError", "User", "Guild", "Group", "GroupMember", "DmSession"]

DEFAULT_ROLES: tuple[dict[str, Any], ...] = (
    {"id": "1", "name": "普通成员", "color": 4278245297, "hoist": 0, "number": 0, "member_limit": 1000},
    {"id": "2", "name": "管理员", "color": 4294927682, "hoist": 1, "number": 0, "member_limit": 50},
    {"id": "4", "name": "创建者", "color": 4294960945, "hoist": 1, "number": 0, "member_limit": 1},
    {"id": "5", "name": "子频道管理员", "color": 4288453788, "hoist": 1, "number": 0, "member_limit": 50},
)


class WorldError(ValueError):
    """The world TOML is invalid; the message names the file, the key and what to fix."""


@attrs.define(slots=True)
class User:
    """A QQ user (or the bot). ``id`` is the guild-side id, ``openid`` the C2C openid."""

    id: str
    username: str
    avatar: str = ""
    openid: str = ""
    union_openid: str = ""
    bot: bool = False

    def to_json(self) -> dict[str, Any]:
        """The User object of spec 7.1 (without union fields)."""
        return {"id": self.id, "username": self.username, "avatar": self.avatar, "bot": self.bot}


@attrs.define(slots=True)
class Guild:
    """A guild with its channels, roles and members (all JSON-shaped dicts)."""

    id: str
    name: str
    owner_id: str
    icon: str = ""
    description: str = ""
    max_members: int = 300
    joined_at: str = "2024-01-01T12:00:00+08:00"
    channels: dict[str, dict[str, Any]] = attrs.Factory(dict)
    roles: dict[str, dict[str, Any]] = attrs.Factory(dict)
    members: dict[str, dict[str, Any]] = attrs.Factory(dict)  # user id -> {nick, roles, joined_at}


@attrs.define(slots=True)
class GroupMember:
    """A member of a QQ group."""

    user_id: str
    member_openid: str
    role: str = "member"  # member | admin | owner


@attrs.define(slots=True)
class Group:
    """A QQ group the bot is in."""

    group_openid: str
    name: str
    members: dict[str, GroupMember] = attrs.Factory(dict)  # member_openid -> member


@attrs.define(slots=True)
class DmSession:
    """A guild DM session between the bot and a user (``/dms/{guild_id}``)."""

    guild_id: str
    channel_id: str
    user_id: str
    source_guild_id: str
    create_time: int


def _req(table: dict[str, Any], key: str, where: str, kind: type = str) -> Any:
    if key not in table:
        raise WorldError(f"{where}: missing key {key!r}; add it to the world file")
    value = table[key]
    if kind is str and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind):
        raise WorldError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def derived_id(*parts: str, upper: bool = True) -> str:
    """A stable 32-hex-digit id derived from ``parts`` (openids for users without one)."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]
    return digest.upper() if upper else digest


@attrs.define(slots=True)
class World:
    """All platform objects the emulator knows about.

    Build with :meth:`load` (a TOML path or the packaged default) or :meth:`from_dict`.
    """

    appid: str
    secret: str
    legacy_token: str
    bot: User
    users: dict[str, User] = attrs.Factory(dict)
    guilds: dict[str, Guild] = attrs.Factory(dict)
    groups: dict[str, Group] = attrs.Factory(dict)
    dms: dict[str, DmSession] = attrs.Factory(dict)  # dm guild id -> session
    source: str = "<dict>"
    channel_seqs: dict[str, int] = attrs.Factory(dict)

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: Path | str | None = None) -> World:
        """Load a world TOML file; ``None`` loads the packaged default world.

        Raises :class:`WorldError` (with file and key) for invalid content and
        ``OSError`` if the file cannot be read.
        """
        if path is None:
            text = resources.files("qgactor.emulator").joinpath("default_world.toml").read_text("utf-8")
            source = "default_world.toml"
        else:
            text = Path(path).read_text("utf-8")
            source = str(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise WorldError(f"{source}: not valid TOML: {exc}") from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> World:
        """Build a world from the parsed TOML structure (see ``default_world.toml``)."""
        app = data.get("app", {})
        bot_t = data.get("bot", {})
        where = f"{source}: [app]"
        bot = User(
            id=_req(bot_t, "id", f"{source}: [bot]"),
            username=bot_t.get("username", "emulator-bot"),
            avatar=bot_t.get("avatar", ""),
            union_openid=bot_t.get("union_openid", ""),
            bot=True,
        )
        world = cls(
            appid=_req(app, "appid", where),
            secret=_req(app, "secret", where),
            legacy_token=str(app.get("token", "")),
            bot=bot,
            source=source,
        )
        for i, u in enumerate(data.get("users", [])):
            w = f"{source}: users[{i}]"
            uid = _req(u, "id", w)
            world.users[uid] = User(
                id=uid,
                username=u.get("username", f"user{i}"),
                avatar=u.get("avatar", f"http://thirdqq.qlogo.cn/g?b=oidb&k={uid}&s=0"),
                openid=u.get("openid") or derived_id("c2c", uid),
                union_openid=u.get("union_openid") or derived_id("union", uid),
            )
        for i, g in enumerate(data.get("guilds", [])):
            world._load_guild(g, f"{source}: guilds[{i}]")
        for i, g in enumerate(data.get("groups", [])):
            w = f"{source}: groups[{i}]"
            group = Group(group_openid=_req(g, "group_openid", w), name=g.get("name", "group"))
            for j, m in enumerate(g.get("members", [])):
                uid = _req(m, "user", f"{w}.members[{j}]")
                world._check_user(uid, f"{w}.members[{j}].user")
                mo = m.get("member_openid") or derived_id("member", group.group_openid, uid)
                group.members[mo] = GroupMember(uid, mo, m.get("role", "member"))
            world.groups[group.group_openid] = group
        return world

    def _check_user(self, uid: str, where: str) -> None:
        if uid not in self.users and uid != self.bot.id:
            raise WorldError(f"{where}: unknown user {uid!r}; declare it under [[users]]")

    def _load_guild(self, g: dict[str, Any], w: str) -> None:
        gid = _req(g, "id", w)
        if not gid.isdigit():
            raise WorldError(f"{w}.id: guild ids must be numeric strings (shard routing), got {gid!r}")
        guild = Guild(
            id=gid,
            name=g.get("name", "guild"),
            owner_id=str(g.get("owner_id", self.bot.id)),
            icon=g.get("icon", ""),
            description=g.get("description", ""),
            max_members=int(g.get("max_members", 300)),
            joined_at=g.get("joined_at", "2024-01-01T12:00:00+08:00"),
        )
        for r in DEFAULT_ROLES:
            guild.roles[r["id"]] = dict(r)
        for j, r in enumerate(g.get("roles", [])):
            rid = _req(r, "id", f"{w}.roles[{j}]")
            guild.roles[rid] = {
                "id": rid, "name": r.get("name", "role"), "color": int(r.get("color", 0)),
                "hoist": int(r.get("hoist", 0)), "number": 0, "member_limit": int(r.get("member_limit", 100)),
            }
        for j, c in enumerate(g.get("channels", [])):
            cid = _req(c, "id", f"{w}.channels[{j}]")
            guild.channels[cid] = {
                "id": cid, "guild_id": gid, "name": c.get("name", "channel"),
                "type": int(c.get("type", 0)), "sub_type": int(c.get("sub_type", 0)),
                "position": int(c.get("position", j + 1)), "parent_id": str(c.get("parent_id", "0")),
                "owner_id": guild.owner_id, "private_type": int(c.get("private_type", 0)),
                "speak_permission": int(c.get("speak_permission", 1)),
                "application_id": str(c.get("application_id", "")), "permissions": "7",
            }
        guild.members[self.bot.id] = {"nick": self.bot.username, "roles": ["1"], "joined_at": guild.joined_at}
        for j, m in enumerate(g.get("members", [])):
            uid = _req(m, "user", f"{w}.members[{j}]")
            self._check_user(uid, f"{w}.members[{j}].user")
            guild.members[uid] = {
                "nick": m.get("nick", ""), "roles": [str(r) for r in m.get("roles", ["1"])],
                "joined_at": m.get("joined_at", "2024-03-01T12:00:00+08:00"),
            }
        self.guilds[gid] = guild

    # ---------------------------------------------------------------- lookups
    def user(self, key: str | None) -> User | None:
        """Find a user by id, username, openid or any of their group member openids."""
        if key is None:
            return next(iter(self.users.values()), None)
        if key in self.users:
            return self.users[key]
        if key == self.bot.id:
            return self.bot
        for u in self.users.values():
            if key in (u.username, u.openid):
                return u
        for g in self.groups.values():
            if key in g.members:
                return self.users.get(g.members[key].user_id)
        return None

    def channel(self, channel_id: str) -> tuple[Guild, dict[str, Any]] | None:
        """The guild and channel dict of ``channel_id``, or ``None``."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild, guild.channels[channel_id]
        return None

    def next_channel_seq(self, channel_id: str) -> int:
        """The next ``seq_in_channel`` of ``channel_id`` (1, 2, ... per channel)."""
        n = self.channel_seqs.get(channel_id, 0) + 1
        self.channel_seqs[channel_id] = n
        return n

    def first_text_channel(self, guild: Guild) -> dict[str, Any] | None:
        """The first text channel (type 0) of ``guild`` in position order."""
        texts = [c for c in guild.channels.values() if c["type"] == 0]
        return min(texts, key=lambda c: c["position"]) if texts else None

    def group_member(self, group: Group, user: User) -> GroupMember:
        """The membership of ``user`` in ``group``, added as a member if absent."""
        for m in group.members.values():
            if m.user_id == user.id:
                return m
        mo = derived_id("member", group.group_openid, user.id)
        group.members[mo] = GroupMember(user.id, mo, "member")
        return group.members[mo]

    def dm_session(self, user: User, source_guild_id: str, now: int) -> DmSession:
        """The DM session with ``user`` (created on first use, stable ids)."""
        for s in self.dms.values():
            if s.user_id == user.id:
                return s
        n = 900000 + len(self.dms) + 1
        # numeric ids like guild ids, so DM events can be shard-routed too
        gid = str((n << 22) | 1)
        session = DmSession(gid, str(n), user.id, source_guild_id, now)
        self.dms[gid] = session
        return session

    # ---------------------------------------------------------------- rendering
    def guild_json(self, guild: Guild) -> dict[str, Any]:
        """Guild object (spec 7.2) including ``owner`` (nonebot requires it)."""
        return {
            "id": guild.id, "name": guild.name, "icon": guild.icon, "owner_id": guild.owner_id,
            "owner": guild.owner_id == self.bot.id, "member_count": len(guild.members),
            "max_members": guild.max_members, "description": guild.description,
            "joined_at": guild.joined_at,
        }

    def member_json(self, guild: Guild, user_id: str, *, with_guild: bool = False,
                    union: bool = False) -> dict[str, Any]:
        """Member object (spec 7.5); ``with_guild`` adds ``guild_id`` (MemberWithGuildID)."""
        m = guild.members[user_id]
        user = self.user(user_id)
        uj = user.to_json() if user else {"id": user_id, "username": "", "avatar": "", "bot": False}
        if union and user is not None:
            uj |= {"union_openid": user.union_openid, "union_user_account": ""}
        out = {"user": uj, "nick": m["nick"], "roles": list(m["roles"]), "joined_at": m["joined_at"]}
        if with_guild:
            out["guild_id"] = guild.id
        return out
