"""Control routes that push input at the bot in bulk or raw: batch publishing of events and
injection of arbitrary websocket text frames (bad JSON, unknown opcodes) into sessions.

=======  ===========================  ==========================================================
method   path                         body / answer
=======  ===========================  ==========================================================
POST     /_emulator/publish           ``{events: [{name, data, raw, shard_key, id}, ...]}`` or
                                      ``{count, template: {name, data, raw, shard_key, id}}``
                                      (``{i}`` in template strings becomes the index) ->
                                      ``{count, first_event_id, last_event_id, deliveries}``
POST     /_emulator/frames            ``{text, session_id, shard}`` -> ``{connections,
                                      sessions, closing}``
=======  ===========================  ==========================================================
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from .events import default_event
from .gateway import GatewayConnection
from .http import PlatformError, Request, Router, bad_body
from .platform import Platform

__all__ = ["install", "EventSpec", "parse_event", "select_connections", "MAX_BATCH"]

P = "/_emulator"

#: Most events one ``POST /_emulator/publish`` accepts.
MAX_BATCH = 1_000_000


@attrs.frozen
class EventSpec:
    """One event to publish: name, ``d`` payload, shard key and optional envelope id."""

    name: str
    data: Any
    shard_key: Any
    event_id: str | None


def parse_event(p: Platform, body: dict[str, Any], where: str = "") -> EventSpec:
    """Validate one event description (control API form); raises 400 :class:`PlatformError`.

    ``data`` (or ``d``) is merged over a realistic default payload unless ``raw`` is true;
    the shard key defaults to the payload's ``guild_id``.
    """
    at = f"{where}: " if where else ""
    name = body.get("name") or body.get("t")
    if not isinstance(name, str) or not name.isupper():
        raise bad_body(f"{at}name must be an event name like GUILD_MEMBER_ADD")
    data = body.get("data", body.get("d"))
    if body.get("raw"):
        d: Any = data if data is not None else {}
    else:
        if data is not None and not isinstance(data, dict):
            raise bad_body(f"{at}data must be an object (or pass raw=true)")
        d = default_event(name, p.world, p.clock, p.ids) | (data or {})
    shard_key = body.get("shard_key")
    if shard_key is None and isinstance(d, dict):
        shard_key = d.get("guild_id")
        if shard_key is None and isinstance(d.get("message"), dict):
            shard_key = d["message"].get("guild_id")
    event_id = body.get("id", body.get("event_id"))
    if event_id is not None and not isinstance(event_id, str):
        raise bad_body(f"{at}id must be a string (the envelope id) or absent")
    return EventSpec(name, d, shard_key, event_id)


def _fill(value: Any, index: str) -> Any:
    """``value`` with ``{i}`` replaced by ``index`` in every string (deep)."""
    if isinstance(value, str):
        return value.replace("{i}", index)
    if isinstance(value, dict):
        return {k: _fill(v, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, index) for v in value]
    return value


def _batch(p: Platform, body: dict[str, Any]) -> list[dict[str, Any]] | tuple[int, dict[str, Any]]:
    events, count, template = body.get("events"), body.get("count"), body.get("template")
    if events is not None:
        if not isinstance(events, list) or not events or len(events) > MAX_BATCH:
            raise bad_body(f"events must be a non-empty list of at most {MAX_BATCH} event objects")
        for n, ev in enumerate(events):
            if not isinstance(ev, dict):
                raise bad_body(f"events[{n}] must be an object like {{name, data}}")
        return events
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise bad_body(f"give events: [...] or count (1..{MAX_BATCH}) with a template")
    if not isinstance(template, dict):
        raise bad_body("template must be an event object like {name, data}")
    return count, template


def select_connections(p: Platform, session_id: Any, shard: Any) -> tuple[list[GatewayConnection], int]:
    """Open connections matching ``session_id`` / ``shard`` (``None`` = any), and how many
    matching ones were skipped because they are already closing.

    Raises 409 :class:`PlatformError` when ``session_id`` names a session whose only
    connection is closing (aim again once the client has reconnected).
    """
    targets: list[GatewayConnection] = []
    closing = 0
    for conn in list(p.connections):
        s = conn.session
        if session_id and (s is None or s.session_id != session_id):
            continue
        if shard is not None and (s is None or s.shard_id != shard):
            continue
        if conn.state != "open":
            closing += 1
            continue
        targets.append(conn)
    if session_id and not targets and closing:
        raise PlatformError(409, 409, f"session {session_id} is closing; wait until the client has "
                            "reconnected (see GET /_emulator/sessions), then aim again")
    return targets, closing


def install(r: Router, p: Platform) -> None:
    """Register ``/_emulator/publish`` and ``/_emulator/frames`` on the control router."""

    @r.route("POST", P + "/publish")
    async def publish(req: Request) -> Any:
        batch = _batch(p, req.json_object(required=True))
        specs: list[EventSpec]
        if isinstance(batch, list):
            # validate everything first: a bad event publishes nothing
            specs = [parse_event(p, ev, f"events[{n}]") for n, ev in enumerate(batch)]
        else:
            count, template = batch
            parse_event(p, template, "template")
            templated = "{i}" in json.dumps(template, ensure_ascii=False)
            specs = [parse_event(p, _fill(template, str(i)) if templated else template, "template")
                     for i in range(count)]
        first = last = None
        deliveries = 0
        for spec in specs:
            result = await p.publish(spec.name, spec.data, shard_key=spec.shard_key, event_id=spec.event_id)
            first = first or result["id"]
            last = result["id"]
            deliveries += len(result["sessions"])
        return {"count": len(specs), "first_event_id": first, "last_event_id": last, "deliveries": deliveries}

    @r.route("POST", P + "/frames")
    async def frames(req: Request) -> Any:
        body = req.json_object(required=True)
        text = body.get("text")
        if not isinstance(text, str):
            raise bad_body("text must be a string: the frame to send as is (e.g. 'not json' or "
                           "'{\"op\": 42}')")
        targets, closing = select_connections(p, body.get("session_id"), body.get("shard"))
        if not targets and body.get("session_id"):
            raise PlatformError(404, 404, f"no open connection carries session {body['session_id']}")
        sent = [c for c in targets if c.send_raw(text)]
        return {"connections": len(sent), "sessions": [c.session.session_id for c in sent if c.session],
                "closing": closing}
