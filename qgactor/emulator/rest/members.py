"""Members, roles, role membership and mute (spec 6.3, 6.8)."""

from __future__ import annotations

from typing import Any

from ..http import PlatformError, Request, Router, bad_body
from ..platform import Platform
from .common import guild_or_404, int_arg, limit_arg, member_or_404, str_arg

__all__ = ["install"]


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""

    @router.route("GET", "/guilds/{guild_id}/members")
    async def list_members(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        limit = limit_arg(req.query.get("limit"), default=1, hi=400)
        after = req.query.get("after", "0") or "0"
        ids = sorted(guild.members, key=lambda u: int(u) if u.isdigit() else 0)
        if after != "0":
            ids = [u for u in ids if (int(u) if u.isdigit() else 0) > int_arg(after, "after")]
        return [p.world.member_json(guild, u) for u in ids[:limit]]

    @router.route("GET", "/guilds/{guild_id}/roles/{role_id}/members")
    async def role_members(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        rid = req.params["role_id"]
        if rid not in guild.roles:
            raise PlatformError(404, 10001, f"unknown role {rid}")
        start = int_arg(req.query.get("start_index"), "start_index", default=0, lo=0)
        limit = limit_arg(req.query.get("limit"), default=1, hi=400)
        ids = [u for u, m in guild.members.items() if rid in m["roles"]]
        page = ids[start:start + limit]
        nxt = str(start + limit) if start + limit < len(ids) else ""
        return {"data": [p.world.member_json(guild, u) for u in page], "next": nxt}

    @router.route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def get_member(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        member_or_404(guild, req.params["user_id"])
        return p.world.member_json(guild, req.params["user_id"], union=True)

    @router.route("DELETE", "/guilds/{guild_id}/members/{user_id}")
    async def kick(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        uid = req.params["user_id"]
        member_or_404(guild, uid)
        body = req.json_object()
        days = int_arg(body.get("delete_history_msg_days"), "delete_history_msg_days", default=0)
        if days not in (0, 3, 7, 15, 30, -1):
            raise bad_body("delete_history_msg_days must be 0, 3, 7, 15, 30 or -1")
        payload = p.world.member_json(guild, uid, with_guild=True) | {"op_user_id": p.world.bot.id}
        del guild.members[uid]
        await p.publish("GUILD_MEMBER_REMOVE", payload, shard_key=guild.id)
        return None

    @router.route("GET", "/guilds/{guild_id}/roles")
    async def list_roles(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        roles = [r | {"number": sum(1 for m in guild.members.values() if r["id"] in m["roles"])}
                 for r in guild.roles.values()]
        return {"guild_id": guild.id, "roles": roles, "role_num_limit": "30"}

    def role_fields(body: dict[str, Any], role: dict[str, Any]) -> None:
        # the old API wrapped fields in {"filter": ..., "info": {...}}; accept both forms
        info = body.get("info") if isinstance(body.get("info"), dict) else body
        if not any(k in info for k in ("name", "color", "hoist")):
            raise bad_body("give at least one of name, color, hoist")
        if "name" in info and info["name"] is not None:
            role["name"] = str_arg(info, "name", required=True)
        if "color" in info and info["color"] is not None:
            role["color"] = int_arg(info["color"], "color", lo=0, hi=0xFFFFFFFF)
        if "hoist" in info and info["hoist"] is not None:
            role["hoist"] = int_arg(int(info["hoist"]) if isinstance(info["hoist"], bool) else info["hoist"],
                                    "hoist", lo=0, hi=1)

    @router.route("POST", "/guilds/{guild_id}/roles")
    async def create_role(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        if len(guild.roles) >= 30:
            raise PlatformError(400, 1000, "role limit (30) reached")
        role = {"id": p.ids.numeric(), "name": "新身份组", "color": 0, "hoist": 0, "number": 0, "member_limit": 1000}
        role_fields(req.json_object(required=True), role)
        guild.roles[role["id"]] = role
        return {"role_id": role["id"], "role": role}

    @router.route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
    async def patch_role(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        role = guild.roles.get(req.params["role_id"])
        if role is None:
            raise PlatformError(404, 10001, f"unknown role {req.params['role_id']}")
        role_fields(req.json_object(required=True), role)
        return {"guild_id": guild.id, "role_id": role["id"], "role": role}

    @router.route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
    async def delete_role(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        rid = req.params["role_id"]
        if rid not in guild.roles:
            raise PlatformError(404, 10001, f"unknown role {rid}")
        if rid in ("1", "2", "4", "5"):
            raise PlatformError(400, 1001, "default roles cannot be deleted")
        del guild.roles[rid]
        for m in guild.members.values():
            if rid in m["roles"]:
                m["roles"].remove(rid)
        return None

    def role_member(req: Request) -> tuple[Any, str, str]:
        guild = guild_or_404(p, req.params["guild_id"])
        uid, rid = req.params["user_id"], req.params["role_id"]
        member_or_404(guild, uid)
        if rid not in guild.roles:
            raise PlatformError(404, 10001, f"unknown role {rid}")
        body = req.json_object()
        channel = body.get("channel")
        # botpy sends {"channel": {"id": null}} for every role (spec 8.9): tolerate it
        cid = channel.get("id") if isinstance(channel, dict) else None
        if rid == "5" and not cid:
            raise bad_body("role 5 (channel admin) needs {\"channel\": {\"id\": ...}}")
        return guild, uid, rid

    @router.route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def add_role(req: Request) -> Any:
        guild, uid, rid = role_member(req)
        if rid not in guild.members[uid]["roles"]:
            guild.members[uid]["roles"].append(rid)
        return None

    @router.route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def remove_role(req: Request) -> Any:
        guild, uid, rid = role_member(req)
        if rid in guild.members[uid]["roles"]:
            guild.members[uid]["roles"].remove(rid)
        return None

    def mute_until(body: dict[str, Any]) -> int:
        # strings of seconds; nonebot sends "None" for unset fields (spec 8.9)
        end = int_arg(body.get("mute_end_timestamp"), "mute_end_timestamp", default=-1)
        secs = int_arg(body.get("mute_seconds"), "mute_seconds", default=-1)
        if end < 0 and secs < 0:
            raise bad_body("give mute_end_timestamp or mute_seconds (\"0\" unmutes)")
        if end >= 0:
            return end
        return 0 if secs == 0 else int(p.clock.now()) + secs

    @router.route("PATCH", "/guilds/{guild_id}/mute")
    async def mute_guild(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        body = req.json_object(required=True)
        until = mute_until(body)
        user_ids = body.get("user_ids")
        if user_ids:
            if not isinstance(user_ids, list):
                raise bad_body("user_ids must be a list")
            for uid in user_ids:
                member_or_404(guild, str(uid))
                p.state["mutes"][(guild.id, str(uid))] = until
            return {"user_ids": [str(u) for u in user_ids]}
        p.state["mutes"][(guild.id, "*")] = until
        return None

    @router.route("PATCH", "/guilds/{guild_id}/members/{user_id}/mute")
    async def mute_member(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        member_or_404(guild, req.params["user_id"])
        p.state["mutes"][(guild.id, req.params["user_id"])] = mute_until(req.json_object(required=True))
        return None
