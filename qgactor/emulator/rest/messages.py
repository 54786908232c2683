"""Guild channel messages, DMs, interactions and message settings (spec 6.4, 6.5)."""

from __future__ import annotations

from typing import Any

from ..http import PlatformError, Request, Router
from ..platform import Platform
from .common import channel_or_404, guild_or_404, int_arg, limit_arg, str_arg
from .sending import send_message

__all__ = ["install"]


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""

    def message_or_404(channel_id: str, message_id: str) -> dict[str, Any]:
        rec = p.messages.get(message_id)
        if rec is None or rec["target"].get("channel_id") != channel_id or rec.get("deleted"):
            raise PlatformError(404, 404, f"unknown message {message_id} in channel {channel_id}")
        return rec

    @router.route("POST", "/channels/{channel_id}/messages")
    async def post_message(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        return await send_message(p, req, "guild", {"guild_id": guild.id, "channel_id": channel["id"]})

    @router.route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def get_message(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        rec = message_or_404(req.params["channel_id"], req.params["message_id"])
        return {"message": rec["object"]}

    @router.route("GET", "/channels/{channel_id}/messages")
    async def list_messages(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        limit = limit_arg(req.query.get("limit"), default=20, hi=20)
        cid = req.params["channel_id"]
        msgs = [r["object"] for r in p.messages.values()
                if r["target"].get("channel_id") == cid and not r.get("deleted")]
        return msgs[-limit:]

    @router.route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def patch_message(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        rec = message_or_404(req.params["channel_id"], req.params["message_id"])
        if not rec.get("from_bot"):
            raise PlatformError(403, 50049, "only the bot's own messages can be edited")
        body = req.json_object(required=True)
        for k in ("markdown", "keyboard"):
            if k in body:
                rec["object"][k] = body[k]
        return rec["object"]

    @router.route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def delete_message(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        rec = message_or_404(req.params["channel_id"], req.params["message_id"])
        rec["deleted"] = True
        return {}

    @router.route("GET", "/guilds/{guild_id}/message/setting")
    async def message_setting(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        return {"disable_create_dm": False, "disable_push_msg": False,
                "channel_ids": list(guild.channels), "channel_push_max_num": 3}

    @router.route("POST", "/users/@me/dms")
    async def create_dm(req: Request) -> Any:
        body = req.json_object(required=True)
        recipient = str_arg(body, "recipient_id", required=True)
        source = str_arg(body, "source_guild_id", required=True)
        guild_or_404(p, source or "")
        user = p.world.user(recipient)
        if user is None:
            raise PlatformError(404, 10001, f"unknown user {recipient}")
        s = p.world.dm_session(user, source or "", int(p.clock.now()))
        return {"guild_id": s.guild_id, "channel_id": s.channel_id, "create_time": str(s.create_time)}

    def dm_or_404(guild_id: str) -> Any:
        s = p.world.dms.get(guild_id)
        if s is None:
            raise PlatformError(404, 304032, f"DM session {guild_id} not found; create it with POST /users/@me/dms")
        return s

    @router.route("POST", "/dms/{guild_id}/messages")
    async def post_dm(req: Request) -> Any:
        s = dm_or_404(req.params["guild_id"])
        return await send_message(p, req, "dm", {"guild_id": s.guild_id, "channel_id": s.channel_id,
                                                  "source_guild_id": s.source_guild_id})

    @router.route("DELETE", "/dms/{guild_id}/messages/{message_id}")
    async def delete_dm(req: Request) -> Any:
        s = dm_or_404(req.params["guild_id"])
        rec = p.messages.get(req.params["message_id"])
        if rec is None or rec["target"].get("guild_id") != s.guild_id:
            raise PlatformError(404, 304033, "unknown DM message")
        if not rec.get("from_bot"):
            raise PlatformError(403, 306002, "only the bot's own DMs can be recalled")
        rec["deleted"] = True
        return {}

    @router.route("PUT", "/interactions/{interaction_id}")
    async def ack_interaction(req: Request) -> Any:
        body = req.json_object()
        code = int_arg(body.get("code", 0), "code", default=0, lo=0, hi=5)
        p.state["interactions"][req.params["interaction_id"]] = code
        return None

    @router.route("POST", "/channels/{channel_id}/settingguide")
    async def channel_setting_guide(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        body = req.json_object()
        return {"id": p.ids.guild_message(), "channel_id": channel["id"], "guild_id": guild.id,
                "content": body.get("content") or "", "timestamp": p.clock.rfc3339(),
                "author": p.world.bot.to_json()}

    @router.route("POST", "/dms/{guild_id}/settingguide")
    async def dm_setting_guide(req: Request) -> Any:
        s = dm_or_404(req.params["guild_id"])
        body = req.json_object()
        return {"id": p.ids.guild_message(), "channel_id": s.channel_id, "guild_id": s.guild_id,
                "content": body.get("content") or "", "timestamp": p.clock.rfc3339(),
                "author": p.world.bot.to_json()}
