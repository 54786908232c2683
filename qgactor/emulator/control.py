"""The control API under ``/_emulator/`` (HTTP, so tests in any language can drive it).

No authentication; JSON in and out; errors are ``{"code", "message"}`` like the platform's.

=======  ===========================  ==========================================================
method   path                         body / answer
=======  ===========================  ==========================================================
GET      /_emulator/info              URLs, appid, secret, public key, world ids
POST     /_emulator/messages          ``{scene, content, at_bot, user, channel|guild|group,
                                      mentions, attachments, extra}`` -> ``{t, id, d, sessions,
                                      message_id, event_id}``
POST     /_emulator/messages/burst    ``{count, scene, content, channels?, ...}`` -> first/last
                                      event ids; message i goes to ``channels[i % len]``
POST     /_emulator/events            ``{name, data, raw, shard_key, id}`` -> ``{t, id, d, sessions}``
POST     /_emulator/publish           a batch of events (see :mod:`.control_inject`)
POST     /_emulator/frames            a raw text frame to sessions (see :mod:`.control_inject`)
GET      /_emulator/events            recent envelopes
GET      /_emulator/outbox            query ``scene, reply_to, after, accepted(true|false|any),
                                      contains, target`` -> entries
GET      /_emulator/outbox/count      same filters -> ``{count}`` (cheap progress polling)
POST     /_emulator/outbox/wait       same filters + ``timeout`` -> first entry, or 408
DELETE   /_emulator/outbox            clear
GET      /_emulator/sessions          sessions, connections, session_start_limit
POST     /_emulator/sessions/wait     ``{count, timeout}`` -> sessions, or 408
POST     /_emulator/faults            ``{kind: drop|reconnect|invalid_session|close|stop_acks|
                                      resume_acks|rest|audit, ...}``; connections already
                                      closing are skipped (``closing`` counts them); aiming
                                      ``session_id`` at a closing one answers 409
DELETE   /_emulator/faults            clear every fault
POST     /_emulator/clock/advance     ``{seconds}`` moves the platform clock forward
POST     /_emulator/webhook           ``{url, validate}`` (op 13 first unless validate=false)
GET      /_emulator/webhook           delivery records
POST     /_emulator/webhook/wait      ``{timeout}`` waits until the delivery queue is empty
=======  ===========================  ==========================================================
"""

from __future__ import annotations

from typing import Any

import trio

from qgactor.qq.protocol import CLOSE_CODES

from .events import BuiltEvent, MessageSpec, build_message
from .control_inject import install as install_inject
from .control_inject import parse_event, select_connections
from .faults import RestFault
from .http import PlatformError, Request, Router, bad_body
from .platform import Platform
from .signing import public_key_bytes

__all__ = ["build_control_router"]

P = "/_emulator"


def _float(value: Any, name: str, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise bad_body(f"{name} must be a number") from None
    if f < 0 or f > 3600:
        raise bad_body(f"{name} must be between 0 and 3600")
    return f


def _filters(src: dict[str, Any]) -> dict[str, Any]:
    accepted: Any = src.get("accepted", True)
    if isinstance(accepted, str):
        accepted = {"true": True, "false": False, "any": None, "": True}.get(accepted.lower(), True)
    after = src.get("after", 0)
    try:
        after = int(after or 0)
    except (TypeError, ValueError):
        raise bad_body("after must be an integer") from None
    return {"scene": src.get("scene") or None, "reply_to": src.get("reply_to") or None,
            "after": after, "accepted": accepted, "contains": src.get("contains") or None,
            "target": src.get("target") or None}


async def _settle() -> None:
    """Let tasks already woken by received data run first (a gateway connection whose
    client has just gone away then lets go of its session before it is counted)."""
    await trio.sleep(0)
    await trio.sleep(0)


def build_control_router(p: Platform) -> Router:
    """The control API routes bound to ``p``."""
    r = Router()

    @r.route("GET", P + "/info")
    async def info(req: Request) -> Any:
        w = p.world
        return {
            "base_url": p.base_url, "api_url": p.base_url, "token_url": p.base_url + "/app/getAppAccessToken",
            "gateway_url": p.gateway_url, "appid": w.appid, "secret": w.secret, "legacy_token": w.legacy_token,
            "public_key": public_key_bytes(w.secret).hex(),
            "bot": w.bot.to_json(),
            "users": [{"id": u.id, "username": u.username, "openid": u.openid} for u in w.users.values()],
            "guilds": [{"id": g.id, "name": g.name, "channels": list(g.channels)} for g in w.guilds.values()],
            "groups": [{"group_openid": g.group_openid, "name": g.name,
                        "members": {m.member_openid: m.user_id for m in g.members.values()}}
                       for g in w.groups.values()],
        }

    async def _publish(built: BuiltEvent) -> dict[str, Any]:
        result = await p.publish(built.name, built.data, shard_key=built.shard_key, records=built.records)
        return result

    async def _inject(spec: MessageSpec) -> dict[str, Any]:
        built = build_message(spec, p.world, p.clock, p.ids)
        rec = built.records[0]
        if spec.scene in ("guild", "dm"):
            target = {"guild_id": rec.guild_id, "channel_id": rec.channel_id}
        else:
            target = {"group_openid": rec.group_openid, "openid": rec.user_openid}
        p.remember_message(rec.id, {"scene": spec.scene, "target": target, "time": rec.time,
                                    "from_bot": False, "object": built.data})
        result = await _publish(built)
        if spec.scene == "guild" and spec.at_bot and p.config.at_messages_also_message_create:
            also = await p.publish("MESSAGE_CREATE", built.data, shard_key=built.shard_key)
            result["sessions"] = result["sessions"] + also["sessions"]
        return result | {"message_id": rec.id, "event_id": result["id"], "scene": spec.scene}

    @r.route("POST", P + "/messages")
    async def inject_message(req: Request) -> Any:
        return await _inject(MessageSpec.from_json(req.json_object(required=True)))

    @r.route("POST", P + "/messages/burst")
    async def burst(req: Request) -> Any:
        body = req.json_object(required=True)
        count = body.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
            raise bad_body("count must be an integer between 1 and 1000000")
        channels = body.get("channels")
        if channels is not None and (not isinstance(channels, list) or not channels
                                     or not all(isinstance(c, str) and c for c in channels)):
            raise bad_body("channels must be a non-empty list of channel ids")
        template = {k: v for k, v in body.items() if k not in ("count", "channels")}
        spec = MessageSpec.from_json(template)
        first = last = None
        for i in range(count):
            spec.content = f"{template.get('content', 'burst')} {i}"
            if channels:
                spec.channel = channels[i % len(channels)]
            last = await _inject(spec)
            first = first or last
        assert first is not None and last is not None
        return {"count": count, "first_event_id": first["id"], "last_event_id": last["id"]}

    @r.route("POST", P + "/events")
    async def inject_event(req: Request) -> Any:
        spec = parse_event(p, req.json_object(required=True))
        return await p.publish(spec.name, spec.data, shard_key=spec.shard_key, event_id=spec.event_id)

    @r.route("GET", P + "/outbox")
    async def outbox(req: Request) -> Any:
        return [e.to_json() for e in p.outbox.query(**_filters(req.query))]

    @r.route("GET", P + "/outbox/count")
    async def outbox_count(req: Request) -> Any:
        return {"count": len(p.outbox.query(**_filters(req.query)))}

    @r.route("DELETE", P + "/outbox")
    async def clear_outbox(req: Request) -> Any:
        p.outbox.clear()
        return {}

    @r.route("POST", P + "/outbox/wait")
    async def wait_outbox(req: Request) -> Any:
        body = req.json_object()
        timeout = _float(body.get("timeout"), "timeout", 5.0)
        entry = await p.outbox.wait(timeout, **_filters(body))
        if entry is None:
            raise PlatformError(408, 408, f"no matching outbox entry within {timeout:g}s")
        return entry.to_json()

    @r.route("GET", P + "/sessions")
    async def sessions(req: Request) -> Any:
        await _settle()
        return {"sessions": [s.info() for s in p.sessions.sessions()],
                "connections": len(p.connections),
                "session_start_limit": p.session_start_limit()}

    @r.route("POST", P + "/sessions/wait")
    async def wait_sessions(req: Request) -> Any:
        body = req.json_object()
        count = int(body.get("count", 1))
        timeout = _float(body.get("timeout"), "timeout", 5.0)
        await _settle()
        with trio.move_on_after(timeout):
            while sum(1 for s in p.sessions.sessions() if s.connection is not None) < count:
                await trio.sleep(0.01)
            return {"sessions": [s.info() for s in p.sessions.sessions()]}
        raise PlatformError(408, 408, f"fewer than {count} connected sessions after {timeout:g}s")

    @r.route("GET", P + "/events")
    async def events(req: Request) -> Any:
        return list(p.events)

    @r.route("POST", P + "/clock/advance")
    async def advance(req: Request) -> Any:
        body = req.json_object(required=True)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise bad_body("seconds must be a non-negative number")
        p.clock.advance(float(seconds))
        return {"offset": p.clock.offset, "now": p.clock.now()}

    @r.route("POST", P + "/faults")
    async def fault(req: Request) -> Any:
        body = req.json_object(required=True)
        return apply_fault(p, body)

    @r.route("DELETE", P + "/faults")
    async def clear_faults(req: Request) -> Any:
        p.faults.clear()
        return {}

    @r.route("POST", P + "/webhook")
    async def set_webhook(req: Request) -> Any:
        body = req.json_object(required=True)
        url = body.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise bad_body("url must be an http(s) URL or null")
        result: dict[str, Any] = {"url": url}
        if url and body.get("validate", True):
            result["validation"] = await p.webhook.validate(url)
            if not result["validation"]["ok"]:
                raise PlatformError(400, 12002, "webhook validation failed: " + result["validation"]["detail"],
                                    data=result["validation"])
        p.webhook.url = url
        return result

    @r.route("GET", P + "/webhook")
    async def webhook_state(req: Request) -> Any:
        return {"url": p.webhook.url, "deliveries": [d.to_json() for d in list(p.webhook.deliveries)[-1000:]]}

    @r.route("POST", P + "/webhook/wait")
    async def webhook_wait(req: Request) -> Any:
        body = req.json_object()
        timeout = _float(body.get("timeout"), "timeout", 5.0)
        ok = await p.webhook.wait_idle(timeout)
        return {"idle": ok, "deliveries": [d.to_json() for d in list(p.webhook.deliveries)[-1000:]]}

    install_inject(r, p)
    return r


GATEWAY_FAULTS = ("drop", "reconnect", "invalid_session", "close", "stop_acks", "resume_acks")


def apply_fault(p: Platform, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one fault described by a control body; returns what it hit."""
    kind = body.get("kind")
    if kind == "rest":
        try:
            f = RestFault.from_json(body)
        except (ValueError, TypeError) as exc:
            raise bad_body(str(exc)) from None
        p.faults.rest.append(f)
        return {"kind": "rest", "active": len(p.faults.rest)}
    if kind == "audit":
        count = body.get("count", 1)
        result = body.get("result", "pass")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0 or result not in ("pass", "reject"):
            raise bad_body("audit needs count >= 0 and result 'pass' or 'reject'")
        p.faults.audit_next, p.faults.audit_result = count, result
        return {"kind": "audit", "count": count, "result": result}
    if kind not in GATEWAY_FAULTS:
        raise bad_body(f"kind must be one of rest, audit, {', '.join(GATEWAY_FAULTS)}")
    session_id, shard = body.get("session_id"), body.get("shard")
    if kind in ("stop_acks", "resume_acks"):
        on = kind == "stop_acks"
        if session_id:
            (p.faults.stop_acks_sessions.add if on else p.faults.stop_acks_sessions.discard)(session_id)
        else:
            p.faults.stop_acks = on
            if not on:
                p.faults.stop_acks_sessions.clear()
        return {"kind": kind, "session_id": session_id}
    targets, closing = select_connections(p, session_id, shard)
    hit = [c.session.session_id for c in targets if c.session]
    if kind == "close":
        code = body.get("code")
        if isinstance(code, bool) or not isinstance(code, int) or not (1000 <= code <= 4999):
            raise bad_body("code must be a websocket close code (e.g. 4009)")
        for conn in targets:
            conn.close(code, CLOSE_CODES[code].meaning if code in CLOSE_CODES else "closed by fault")
    for conn in targets:
        if kind == "drop":
            conn.close_now(1006)
        elif kind == "reconnect":
            conn.send_reconnect()
        elif kind == "invalid_session":
            conn.send_invalid_session()
    return {"kind": kind, "connections": len(targets), "sessions": hit, "closing": closing}

