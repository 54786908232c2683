"""Group and C2C messages, rich-media upload, recall and group members (spec 6.6, 6.7)."""

from __future__ import annotations

import hashlib
from urllib.parse import quote
from typing import Any

from ..http import PlatformError, Request, Router
from ..platform import Platform
from .common import int_arg
from .sending import send_message

__all__ = ["install"]


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""

    def group_or_404(group_openid: str) -> Any:
        group = p.world.groups.get(group_openid)
        if group is None:
            raise PlatformError(404, 10004, f"unknown group {group_openid}")
        return group

    def user_or_404(openid: str) -> Any:
        user = next((u for u in p.world.users.values() if u.openid == openid), None)
        if user is None:
            raise PlatformError(404, 10001, f"unknown user openid {openid}")
        return user

    @router.route("POST", "/v2/groups/{group_openid}/messages")
    async def post_group(req: Request) -> Any:
        group = group_or_404(req.params["group_openid"])
        return await send_message(p, req, "group", {"group_openid": group.group_openid})

    @router.route("POST", "/v2/users/{openid}/messages")
    async def post_c2c(req: Request) -> Any:
        user = user_or_404(req.params["openid"])
        return await send_message(p, req, "c2c", {"openid": user.openid})

    async def upload(req: Request, kind: str, target: str) -> Any:
        body = req.json_object(required=True)
        file_type = int_arg(body.get("file_type"), "file_type", lo=1, hi=4)
        url, data = body.get("url"), body.get("file_data")
        if not (isinstance(url, str) and url) and not (isinstance(data, str) and data) \
                and "upload_id" not in body:
            raise PlatformError(400, 12002, "request body invalid: give url (or file_data)")
        digest = hashlib.sha256(f"{kind}:{target}:{url or data}:{p.ids.next()}".encode()).hexdigest()
        file_info = f"EMU{kind.upper()}{digest[:48]}"
        p.state["files"][file_info] = {"kind": kind, "file_type": file_type, "target": target}
        out: dict[str, Any] = {"file_uuid": digest[:32], "file_info": file_info, "ttl": 0 if file_type == 4 else 3600}
        if body.get("srv_send_msg") in (True, "true", 1):
            fake = Request("POST", req.path, {}, req.headers,
                           b'{"msg_type": 7, "content": " ", "media": {"file_info": "%s"}}' % file_info.encode())
            sent = await send_message(p, fake, kind, {"group_openid": target} if kind == "group" else {"openid": target})
            out["id"] = sent["id"]
        return out

    @router.route("POST", "/v2/groups/{group_openid}/files")
    async def group_files(req: Request) -> Any:
        return await upload(req, "group", group_or_404(req.params["group_openid"]).group_openid)

    @router.route("POST", "/v2/users/{openid}/files")
    async def c2c_files(req: Request) -> Any:
        return await upload(req, "c2c", user_or_404(req.params["openid"]).openid)

    async def recall(scene: str, target_key: str, target: str, message_id: str) -> Any:
        rec = p.messages.get(message_id)
        if rec is None or rec["scene"] != scene:
            raise PlatformError(404, 306007 if scene == "group" else 306009, f"message {message_id} not found here")
        if rec["target"].get(target_key) != target:
            raise PlatformError(400, 306007 if scene == "group" else 306009, "message belongs to another target")
        if not rec.get("from_bot"):
            raise PlatformError(400, 306008, "only messages sent by this bot can be recalled")
        if p.clock.now() - rec["time"] > p.config.recall_window:
            raise PlatformError(400, 306011, f"past the recall window ({p.config.recall_window:g}s)")
        rec["deleted"] = True
        return {}

    @router.route("DELETE", "/v2/groups/{group_openid}/messages/{message_id}")
    async def recall_group(req: Request) -> Any:
        gid = group_or_404(req.params["group_openid"]).group_openid
        return await recall("group", "group_openid", gid, req.params["message_id"])

    @router.route("DELETE", "/v2/users/{openid}/messages/{message_id}")
    async def recall_c2c(req: Request) -> Any:
        oid = user_or_404(req.params["openid"]).openid
        return await recall("c2c", "openid", oid, req.params["message_id"])

    @router.route("POST", "/v2/generate_url_link")
    async def url_link(req: Request) -> Any:
        # qg-botsdk only (UNVERIFIED, spec 6.7): a share link for the bot
        body = req.json_object()
        data = body.get("callback_data")
        if data is not None and not isinstance(data, str):
            raise PlatformError(400, 12002, "request body invalid: callback_data must be a string")
        url = f"https://qun.qq.com/qunpro/robot/share?robot_appid={p.world.appid}"
        return {"url": url + (f"&callback_data={quote(data)}" if data else "")}

    @router.route("POST", "/v2/groups/{group_openid}/members")
    async def group_members(req: Request) -> Any:
        group = group_or_404(req.params["group_openid"])
        body = req.json_object()
        limit = int_arg(body.get("limit"), "limit", default=20, lo=1, hi=500)
        start = int_arg(body.get("start_index"), "start_index", default=0, lo=0)
        members = list(group.members.values())
        page = members[start:start + limit]
        out: dict[str, Any] = {"members": [{"member_openid": m.member_openid, "join_timestamp": 1704081600}
                                           for m in page]}
        if start + limit < len(members):
            out["next_index"] = start + limit
        return out
