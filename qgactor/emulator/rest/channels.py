"""Channels and channel permissions (spec 6.3). Changes fire CHANNEL_* events."""

from __future__ import annotations

from typing import Any

from ..http import PlatformError, Request, Router, bad_body
from ..platform import Platform
from .common import channel_or_404, guild_or_404, int_arg, member_or_404, str_arg

__all__ = ["install"]

CHANNEL_TYPES = {0, 1, 2, 3, 4, 10005, 10006, 10007}


def _perm_value(value: Any, name: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(str(value), 0) if isinstance(value, str) and value.startswith("0x") else int(value)
    except (TypeError, ValueError):
        raise bad_body(f"{name} must be a decimal permission bitmap string like \"4\"") from None


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""

    def event_payload(channel: dict[str, Any]) -> dict[str, Any]:
        keys = ("guild_id", "id", "name", "owner_id", "sub_type", "type", "position", "parent_id")
        return {k: channel[k] for k in keys} | {"op_user_id": p.world.bot.id}

    @router.route("GET", "/guilds/{guild_id}/channels")
    async def list_channels(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        return sorted(guild.channels.values(), key=lambda c: (c["position"], int(c["id"]) if c["id"].isdigit() else 0))

    @router.route("GET", "/channels/{channel_id}")
    async def get_channel(req: Request) -> Any:
        return channel_or_404(p, req.params["channel_id"])[1]

    @router.route("POST", "/guilds/{guild_id}/channels")
    async def create_channel(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        body = req.json_object(required=True)
        name = str_arg(body, "name", required=True)
        ctype = int_arg(body.get("type"), "type", default=0)
        if ctype not in CHANNEL_TYPES:
            raise bad_body(f"type {ctype} is not a channel type")
        position = int_arg(body.get("position"), "position", default=len(guild.channels) + 1, lo=0)
        if ctype == 4 and position < 2:
            raise bad_body("categories (type 4) need position >= 2; position 1 is 未分组")
        cid = p.ids.numeric()
        channel = {
            "id": cid, "guild_id": guild.id, "name": name, "type": ctype,
            "sub_type": int_arg(body.get("sub_type", body.get("subtype")), "sub_type", default=0),
            "position": position, "parent_id": str_arg(body, "parent_id") or "0",
            "owner_id": guild.owner_id,
            "private_type": int_arg(body.get("private_type"), "private_type", default=0, lo=0, hi=2),
            "speak_permission": int_arg(body.get("speak_permission", body.get("speaking_permission")),
                                        "speak_permission", default=1, lo=0, hi=2),
            "application_id": str_arg(body, "application_id") or "", "permissions": "7",
        }
        guild.channels[cid] = channel
        await p.publish("CHANNEL_CREATE", event_payload(channel), shard_key=guild.id)
        return channel

    @router.route("PATCH", "/channels/{channel_id}")
    async def patch_channel(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        body = req.json_object(required=True)
        if "name" in body:
            channel["name"] = str_arg(body, "name", required=True)
        if "position" in body:
            channel["position"] = int_arg(body["position"], "position", lo=0)
        if "parent_id" in body:
            channel["parent_id"] = str_arg(body, "parent_id") or "0"
        if "private_type" in body:
            channel["private_type"] = int_arg(body["private_type"], "private_type", lo=0, hi=2)
        sp = body.get("speak_permission", body.get("speaking_permission"))
        if sp is not None:
            channel["speak_permission"] = int_arg(sp, "speak_permission", lo=0, hi=2)
        await p.publish("CHANNEL_UPDATE", event_payload(channel), shard_key=guild.id)
        return channel

    @router.route("DELETE", "/channels/{channel_id}")
    async def delete_channel(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        del guild.channels[channel["id"]]
        await p.publish("CHANNEL_DELETE", event_payload(channel), shard_key=guild.id)
        return channel

    @router.route("GET", "/channels/{channel_id}/online_nums")
    async def online_nums(req: Request) -> Any:
        guild, _ = channel_or_404(p, req.params["channel_id"])
        return {"online_nums": len(guild.members)}

    @router.route("GET", "/channels/{channel_id}/voice/members")
    async def voice_members(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        if channel["type"] != 2:
            raise PlatformError(400, 12002, "not a voice channel")
        return []

    def perms_table(kind: str) -> dict[tuple[str, str], int]:
        return p.state.setdefault(f"perms:{kind}", {})

    @router.route("GET", "/channels/{channel_id}/members/{user_id}/permissions")
    async def get_member_perms(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        uid = req.params["user_id"]
        member_or_404(guild, uid)
        value = perms_table("member").get((channel["id"], uid), 4 if channel["private_type"] == 0 else 0)
        return {"channel_id": channel["id"], "user_id": uid, "permissions": str(value)}

    @router.route("PUT", "/channels/{channel_id}/members/{user_id}/permissions")
    async def put_member_perms(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        uid = req.params["user_id"]
        member_or_404(guild, uid)
        body = req.json_object(required=True)
        table = perms_table("member")
        cur = table.get((channel["id"], uid), 4 if channel["private_type"] == 0 else 0)
        add, remove = _perm_value(body.get("add"), "add"), _perm_value(body.get("remove"), "remove")
        table[(channel["id"], uid)] = (cur | add) & ~remove
        return None

    @router.route("GET", "/channels/{channel_id}/roles/{role_id}/permissions")
    async def get_role_perms(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        rid = req.params["role_id"]
        if rid not in guild.roles:
            raise PlatformError(404, 10001, f"unknown role {rid}")
        value = perms_table("role").get((channel["id"], rid), 5)
        return {"channel_id": channel["id"], "role_id": rid, "permissions": str(value)}

    @router.route("PUT", "/channels/{channel_id}/roles/{role_id}/permissions")
    async def put_role_perms(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        rid = req.params["role_id"]
        if rid not in guild.roles:
            raise PlatformError(404, 10001, f"unknown role {rid}")
        body = req.json_object(required=True)
        table = perms_table("role")
        cur = table.get((channel["id"], rid), 5)
        add, remove = _perm_value(body.get("add"), "add"), _perm_value(body.get("remove"), "remove")
        table[(channel["id"], rid)] = (cur | add) & ~remove
        return None
