"""The shared path of every send endpoint: validate, apply the passive-reply rules,
build the platform's answer, remember the message and record the outbox entry."""

from __future__ import annotations

from typing import Any

from ..http import PlatformError, Request, Response, json_response
from ..platform import Platform
from ..replies import Inbound

__all__ = ["send_message", "GUILD_BODY_FIELDS"]

GUILD_BODY_FIELDS = ("content", "embed", "ark", "image", "file_image", "markdown")
MSG_TYPES = {0, 1, 2, 3, 4, 5, 6, 7}
_NEEDS = {2: "markdown", 3: "ark", 4: "embed", 7: "media"}  # msg_type -> the object it needs


def _validate_guild(body: dict[str, Any]) -> None:
    if not any(body.get(k) not in (None, "", {}, []) for k in GUILD_BODY_FIELDS):
        raise PlatformError(400, 50006, "消息为空 (empty message): give content, embed, ark, image, file_image or markdown")
    for k in ("embed", "ark", "markdown", "keyboard", "message_reference"):
        if body.get(k) is not None and not isinstance(body[k], dict):
            raise PlatformError(400, 12002, f"request body invalid: {k} must be an object")
    if body.get("content") is not None and not isinstance(body["content"], str):
        raise PlatformError(400, 12002, "request body invalid: content must be a string")


def _validate_open(body: dict[str, Any]) -> None:
    mt = body.get("msg_type")
    if isinstance(mt, str) and mt.isdigit():
        mt = body["msg_type"] = int(mt)
    if mt is None:
        raise PlatformError(400, 12002, "request body invalid: msg_type is required (0 text, 2 markdown, 3 ark, 4 embed, 7 media)")
    if isinstance(mt, bool) or not isinstance(mt, int) or mt not in MSG_TYPES:
        raise PlatformError(400, 12002, f"request body invalid: unknown msg_type {mt!r}")
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise PlatformError(400, 12002, "request body invalid: content must be a string")
    need = _NEEDS.get(mt)
    if need is not None:
        if not isinstance(body.get(need), dict):
            raise PlatformError(400, 12002, f"request body invalid: msg_type {mt} needs a {need} object")
        if mt == 7 and not isinstance(body["media"].get("file_info"), str):
            raise PlatformError(400, 12002, "request body invalid: media.file_info (from the files API) is required")
    elif mt == 0 and not (content or "").strip():
        raise PlatformError(400, 50006, "消息为空 (empty message): content is required for msg_type 0")


async def send_message(p: Platform, req: Request, scene: str, target: dict[str, str | None]) -> Any:
    """Handle a send in ``scene`` to ``target``; returns the JSON answer or raises."""
    now = p.clock.now()
    body: Any = None
    msg_seq = None
    guild_like = scene == "guild" or scene == "dm"
    try:
        body = req.json_object(required=True)
        if guild_like:
            _validate_guild(body)
        else:
            _validate_open(body)
            if body.get("msg_type") == 7:
                _check_media(p, scene, body["media"]["file_info"])
        if guild_like and p.config.require_online and \
                not any(s.connection is not None for s in p.sessions.sessions()):
            raise PlatformError(400, 304018, "SESSION_NOT_EXIST: the bot must be connected to the gateway to send")
        rec, msg_seq = p.ledger.check(scene, target, body, now)
    except PlatformError as exc:
        p.outbox.append(scene, target, req.method, req.path, body, msg_seq, None, now, exc.status,
                        {"code": exc.code, "message": exc.message}, False)
        raise
    p.ledger.commit(rec, msg_seq)
    if guild_like:
        if p.faults.audit_next > 0:
            return await _under_audit(p, req, scene, target, body, rec, now)
        msg_id = p.ids.guild_message()
        channel_id = target.get("channel_id")
        seq = p.world.next_channel_seq(str(channel_id))
        embed = body.get("embed")
        answer: dict[str, Any] = {
            "id": msg_id, "channel_id": channel_id, "guild_id": target.get("guild_id"),
            "content": body.get("content") or "", "timestamp": p.clock.rfc3339(now), "tts": False,
            "mention_everyone": False, "author": p.world.bot.to_json(), "embeds": [embed] if embed else [],
            "pinned": False, "type": 0, "flags": 0, "seq": seq, "seq_in_channel": str(seq),
        }
        if body.get("message_reference"):
            answer["message_reference"] = body["message_reference"]
        if scene == "dm":
            answer["direct_message"] = True
            answer["src_guild_id"] = target.get("source_guild_id")
        stored = answer
    else:
        msg_id = p.ids.open_message()
        answer = {"id": msg_id, "timestamp": int(now)}
        stored = {"id": msg_id, "content": body.get("content")}
    p.remember_message(msg_id, {"scene": scene, "target": target, "time": now, "from_bot": True,
                                "object": stored})
    p.ledger.record(Inbound(msg_id, "message", scene, now, "BOT_MESSAGE", target.get("guild_id"),
                            target.get("channel_id"), target.get("group_openid"), target.get("openid"),
                            from_bot=True))
    p.outbox.append(scene, target, req.method, req.path, body, msg_seq, rec, now, 200, answer, True)
    return answer


def _check_media(p: Platform, scene: str, file_info: str) -> None:
    info = p.state["files"].get(file_info)
    if info is None:
        raise PlatformError(400, 304082, "upload media info fail: file_info was not issued by the files API")
    if info["kind"] != scene:
        raise PlatformError(400, 304082, f"upload media info fail: a {info['kind']} file_info cannot be "
                            f"sent in {scene}; upload it to a {scene} target")


async def _under_audit(p: Platform, req: Request, scene: str, target: dict[str, str | None],
                       body: dict[str, Any], rec: Inbound | None, now: float) -> Response:
    """Answer 202 + 304023/304024 and fire MESSAGE_AUDIT_PASS/REJECT (spec 6.1, 4.3)."""
    p.faults.audit_next -= 1
    audit_id = p.ids.uuid()
    passive = bool(body.get("msg_id") or body.get("event_id"))
    code, text = (304024, "reply message is waiting for audit now") if passive else \
        (304023, "push message is waiting for audit now")
    answer = {"code": code, "message": text, "data": {"message_audit": {"audit_id": audit_id}}}
    p.outbox.append(scene, target, req.method, req.path, body, None, rec, now, 202, answer, True)
    ts = p.clock.rfc3339(now)
    event: dict[str, Any] = {"audit_id": audit_id, "audit_time": ts, "create_time": ts,
                             "guild_id": target.get("guild_id"), "channel_id": target.get("channel_id")}
    if p.faults.audit_result == "pass":
        msg_id = p.ids.guild_message()
        event["message_id"] = msg_id
        obj = {"id": msg_id, "channel_id": target.get("channel_id"), "guild_id": target.get("guild_id"),
               "content": body.get("content") or "", "timestamp": ts, "author": p.world.bot.to_json()}
        p.remember_message(msg_id, {"scene": scene, "target": target, "time": now, "from_bot": True,
                                    "object": obj})
        await p.publish("MESSAGE_AUDIT_PASS", event, shard_key=target.get("guild_id"))
    else:
        await p.publish("MESSAGE_AUDIT_REJECT", event, shard_key=target.get("guild_id"))
    return json_response(answer, 202)

