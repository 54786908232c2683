"""Announces, pins, schedules, reactions, audio, forum threads and API permissions (spec 6.8)."""

from __future__ import annotations

import json
from typing import Any

from ..http import PlatformError, Request, Router, bad_body
from ..platform import Platform
from .common import channel_or_404, guild_or_404, int_arg, limit_arg, str_arg

__all__ = ["install"]

API_LIST = [
    ("/guilds/{guild_id}/members/{user_id}", "DELETE", "删除频道成员"),
    ("/guilds/{guild_id}/roles", "GET", "获取频道身份组列表"),
    ("/channels/{channel_id}/messages", "POST", "发送消息"),
    ("/guilds/{guild_id}/mute", "PATCH", "禁言全员"),
    ("/channels/{channel_id}/pins/{message_id}", "PUT", "添加精华消息"),
    ("/channels/{channel_id}/schedules", "POST", "创建日程"),
]


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""
    _announces(router, p)
    _pins(router, p)
    _schedules(router, p)
    _reactions(router, p)
    _audio_forum_perms(router, p)


def _announces(router: Router, p: Platform) -> None:
    @router.route("POST", "/guilds/{guild_id}/announces")
    async def post_announce(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        body = req.json_object()
        mid, cid = str_arg(body, "message_id"), str_arg(body, "channel_id")
        if mid and not cid:
            raise bad_body("channel_id is required with message_id")
        if cid:
            channel_or_404(p, cid)
        recs = body.get("recommend_channels") or []
        if not isinstance(recs, list) or len(recs) > 3:
            raise PlatformError(400, 501012, "recommend_channels: at most 3 channels")
        ann = {"guild_id": guild.id, "channel_id": cid or "", "message_id": mid or "",
               "announces_type": int_arg(body.get("announces_type"), "announces_type", default=0, lo=0, hi=1),
               "recommend_channels": recs}
        p.state["announces"][guild.id] = ann
        return ann

    @router.route("DELETE", "/guilds/{guild_id}/announces/{message_id}")
    async def delete_announce(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        cur = p.state["announces"].get(guild.id)
        mid = req.params["message_id"]
        if mid == "all" or (cur and cur["message_id"] == mid):
            p.state["announces"].pop(guild.id, None)
        return None

    @router.route("POST", "/channels/{channel_id}/announces")
    async def post_channel_announce(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        body = req.json_object(required=True)
        ann = {"guild_id": guild.id, "channel_id": channel["id"], "message_id": str_arg(body, "message_id", required=True)}
        p.state["announces"][guild.id] = ann | {"announces_type": 0, "recommend_channels": []}
        return ann

    @router.route("DELETE", "/channels/{channel_id}/announces/{message_id}")
    async def delete_channel_announce(req: Request) -> Any:
        guild, _ = channel_or_404(p, req.params["channel_id"])
        p.state["announces"].pop(guild.id, None)
        return None


def _pins(router: Router, p: Platform) -> None:
    def pins_of(channel_id: str) -> list[str]:
        return p.state["pins"].setdefault(channel_id, [])

    def pins_json(guild_id: str, channel_id: str) -> dict[str, Any]:
        return {"guild_id": guild_id, "channel_id": channel_id, "message_ids": list(pins_of(channel_id))}

    @router.route("PUT", "/channels/{channel_id}/pins/{message_id}")
    async def pin(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        mid = req.params["message_id"]
        rec = p.messages.get(mid)
        if rec is None or rec["target"].get("channel_id") != channel["id"]:
            raise PlatformError(404, 501001, f"message {mid} not found in this channel")
        pins = pins_of(channel["id"])
        if mid not in pins:
            if len(pins) >= 20:
                raise PlatformError(400, 501013, "too many pinned messages (max 20)")
            pins.append(mid)
        return pins_json(guild.id, channel["id"])

    @router.route("DELETE", "/channels/{channel_id}/pins/{message_id}")
    async def unpin(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        pins = pins_of(channel["id"])
        mid = req.params["message_id"]
        if mid == "all":
            pins.clear()
        elif mid in pins:
            pins.remove(mid)
        return None

    @router.route("GET", "/channels/{channel_id}/pins")
    async def get_pins(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        return pins_json(guild.id, channel["id"])


def _schedules(router: Router, p: Platform) -> None:
    def table(channel_id: str) -> dict[str, dict[str, Any]]:
        return p.state["schedules"].setdefault(channel_id, {})

    def parse(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        s = body.get("schedule")
        if not isinstance(s, dict):
            raise bad_body('expected {"schedule": {...}}')
        out = dict(current or {})
        if current is None or "name" in s:
            out["name"] = str_arg(s, "name", required=True)
        out["description"] = s.get("description", out.get("description", "")) or ""
        for k in ("start_timestamp", "end_timestamp"):
            if current is None or k in s:
                out[k] = str(int_arg(s.get(k), k, lo=0))
        if int(out["end_timestamp"]) < int(out["start_timestamp"]):
            raise bad_body("end_timestamp must not be before start_timestamp")
        out["jump_channel_id"] = str_arg(s, "jump_channel_id") or out.get("jump_channel_id", "0")
        # botpy sends reminder_id instead of remind_type (spec 8.9)
        rt = s.get("remind_type", s.get("reminder_id"))
        out["remind_type"] = str(int_arg(rt, "remind_type", default=int(out.get("remind_type", 0)), lo=0, hi=5))
        return out

    @router.route("GET", "/channels/{channel_id}/schedules")
    async def list_schedules(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        body = req.json_object()  # JSON body on GET is tolerated (spec 8.9)
        since = body.get("since", req.query.get("since"))
        since_ms = int_arg(since, "since", default=0, lo=0)
        return [s for s in table(channel["id"]).values() if int(s["end_timestamp"]) >= since_ms]

    @router.route("GET", "/channels/{channel_id}/schedules/{schedule_id}")
    async def get_schedule(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        s = table(channel["id"]).get(req.params["schedule_id"])
        if s is None:
            raise PlatformError(404, 404, f"unknown schedule {req.params['schedule_id']}")
        return s

    @router.route("POST", "/channels/{channel_id}/schedules")
    async def create_schedule(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        s = parse(req.json_object(required=True), None)
        s["id"] = p.ids.numeric()
        s["creator"] = p.world.member_json(guild, p.world.bot.id)
        table(channel["id"])[s["id"]] = s
        return s

    @router.route("PATCH", "/channels/{channel_id}/schedules/{schedule_id}")
    async def patch_schedule(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        t = table(channel["id"])
        cur = t.get(req.params["schedule_id"])
        if cur is None:
            raise PlatformError(404, 404, f"unknown schedule {req.params['schedule_id']}")
        t[cur["id"]] = parse(req.json_object(required=True), cur)
        return t[cur["id"]]

    @router.route("DELETE", "/channels/{channel_id}/schedules/{schedule_id}")
    async def delete_schedule(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        if table(channel["id"]).pop(req.params["schedule_id"], None) is None:
            raise PlatformError(404, 404, f"unknown schedule {req.params['schedule_id']}")
        return None


def _reactions(router: Router, p: Platform) -> None:
    path = "/channels/{channel_id}/messages/{message_id}/reactions/{type}/{id}"

    def key(req: Request) -> tuple[str, str, str, str]:
        _, channel = channel_or_404(p, req.params["channel_id"])
        etype = req.params["type"]
        if etype not in ("1", "2"):
            raise PlatformError(400, 620001, "emoji type must be 1 (system) or 2 (emoji)")
        return channel["id"], req.params["message_id"], etype, req.params["id"]

    @router.route("PUT", path)
    async def react(req: Request) -> Any:
        k = key(req)
        users = p.state["reactions"].setdefault(k, [])
        if p.world.bot.id in users:
            raise PlatformError(400, 620003, "already reacted with this emoji")
        users.append(p.world.bot.id)
        return None

    @router.route("DELETE", path)
    async def unreact(req: Request) -> Any:
        users = p.state["reactions"].get(key(req), [])
        if p.world.bot.id not in users:
            raise PlatformError(400, 620004, "not reacted with this emoji")
        users.remove(p.world.bot.id)
        return None

    @router.route("GET", path)
    async def reaction_users(req: Request) -> Any:
        users = p.state["reactions"].get(key(req), [])
        limit = limit_arg(req.query.get("limit"), default=20, hi=50)
        start = int_arg(req.query.get("cookie") or 0, "cookie", lo=0)
        page = users[start:start + limit]
        out = []
        for uid in page:
            u = p.world.user(uid)
            out.append({"id": uid, "username": u.username if u else "", "avatar": u.avatar if u else ""})
        end = start + limit >= len(users)
        return {"users": out, "cookie": "" if end else str(start + limit), "is_end": end}


def _audio_forum_perms(router: Router, p: Platform) -> None:
    @router.route("POST", "/channels/{channel_id}/audio")
    async def audio(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        body = req.json_object(required=True)
        int_arg(body.get("status"), "status", lo=0, hi=3)
        return {}

    @router.route("PUT", "/channels/{channel_id}/mic")
    async def mic_on(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        return {}

    @router.route("DELETE", "/channels/{channel_id}/mic")
    async def mic_off(req: Request) -> Any:
        channel_or_404(p, req.params["channel_id"])
        return {}

    def threads(channel_id: str) -> dict[str, dict[str, Any]]:
        return p.state["threads"].setdefault(channel_id, {})

    @router.route("GET", "/channels/{channel_id}/threads")
    async def list_threads(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        return {"threads": list(threads(channel["id"]).values()), "is_finish": 1}

    @router.route("GET", "/channels/{channel_id}/threads/{thread_id}")
    async def get_thread(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        t = threads(channel["id"]).get(req.params["thread_id"])
        if t is None:
            raise PlatformError(404, 503001, f"unknown thread {req.params['thread_id']}")
        return {"thread": t}

    @router.route("PUT", "/channels/{channel_id}/threads")
    async def put_thread(req: Request) -> Any:
        guild, channel = channel_or_404(p, req.params["channel_id"])
        if channel["type"] != 10007:
            raise PlatformError(400, 503002, "not a forum channel")
        body = req.json_object(required=True)
        title = str_arg(body, "title", required=True)
        content = body.get("content")
        if content is None:
            raise bad_body("content is required")
        fmt = int_arg(body.get("format"), "format", default=1, lo=1, hi=4)
        tid = p.ids.uuid()
        now = p.clock.now()
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        threads(channel["id"])[tid] = {
            "guild_id": guild.id, "channel_id": channel["id"], "author_id": p.world.bot.id,
            "thread_info": {"thread_id": tid, "title": title, "content": text, "date_time": p.clock.rfc3339(now),
                            "format": fmt}}
        return {"task_id": tid, "create_time": str(int(now))}

    @router.route("DELETE", "/channels/{channel_id}/threads/{thread_id}")
    async def delete_thread(req: Request) -> Any:
        _, channel = channel_or_404(p, req.params["channel_id"])
        if threads(channel["id"]).pop(req.params["thread_id"], None) is None:
            raise PlatformError(404, 503001, f"unknown thread {req.params['thread_id']}")
        return None

    @router.route("GET", "/guilds/{guild_id}/api_permission")
    async def api_permission(req: Request) -> Any:
        guild_or_404(p, req.params["guild_id"])
        return {"apis": [{"path": a, "method": m, "desc": d, "auth_status": 1} for a, m, d in API_LIST]}

    @router.route("POST", "/guilds/{guild_id}/api_permission/demand")
    async def demand(req: Request) -> Any:
        guild = guild_or_404(p, req.params["guild_id"])
        body = req.json_object(required=True)
        cid = str_arg(body, "channel_id", required=True)
        channel_or_404(p, cid or "")
        ident = body.get("api_identify")
        if not isinstance(ident, dict) or not ident.get("path") or not ident.get("method"):
            raise bad_body("api_identify must be {path, method}")
        used = p.state["demands"].get(guild.id, 0)
        if used >= 3:
            raise PlatformError(400, 610010, "api permission demand limit (3 per day) reached")
        p.state["demands"][guild.id] = used + 1
        return {"guild_id": guild.id, "channel_id": cid, "api_identify": ident,
                "title": f"机器人申请{ident['method']} {ident['path']}", "desc": body.get("desc", "")}
