"""Parsing and building gateway/webhook payload envelopes (spec 3.2, 3.3).

:func:`parse_envelope` turns raw text from the wire into an :class:`Envelope` or a
:class:`~qgactor.qq.gateway_events.BadFrame` saying what is wrong; it never raises.
The ``*_frame`` builders produce the JSON text of the frames a client sends.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from qgactor.qq.gateway_events import BadFrame
from qgactor.qq.protocol import EVENT_INTENTS, Opcode

__all__ = [
    "Envelope",
    "parse_envelope",
    "identify_frame",
    "resume_frame",
    "heartbeat_frame",
    "DEFAULT_MAX_FRAME",
    "KNOWN_OPCODES",
]

#: Default largest accepted frame, in characters (1 MiB). Larger frames become BadFrame.
DEFAULT_MAX_FRAME = 1 << 20

#: Opcodes defined by the spec (3.3).
KNOWN_OPCODES = frozenset(int(op) for op in Opcode)

_RAW_LIMIT = 2000  # characters of a bad frame kept for the log


@attrs.frozen
class Envelope:
    """One well-formed payload: opcode, data, and for dispatches the name, seq and event id."""

    op: int
    d: Any
    s: int | None = None
    t: str | None = None
    id: str | None = None


def _clip(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return raw if len(raw) <= _RAW_LIMIT else raw[:_RAW_LIMIT] + f"...(+{len(raw) - _RAW_LIMIT} chars)"


def parse_envelope(raw: str | bytes, *, max_size: int = DEFAULT_MAX_FRAME) -> Envelope | BadFrame:
    """Parse one frame; return an :class:`Envelope`, or a :class:`BadFrame` with the reason.

    Checks, in order: size (``max_size`` characters/bytes), UTF-8, JSON, the envelope being an
    object, ``op`` being a known integer opcode, ``s`` an integer or null, ``id`` a string or
    null, and for op 0: ``t`` a known event name and ``d`` an object (``RESUMED`` may carry any
    ``d``, documented as ``""``). Never raises.
    """
    if len(raw) > max_size:
        return BadFrame(f"oversized frame: {len(raw)} > {max_size}", _clip(raw))
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return BadFrame(f"invalid JSON: {exc}", _clip(raw))
    if not isinstance(obj, dict):
        return BadFrame(f"payload is a JSON {type(obj).__name__}, not an object", _clip(raw))
    op = obj.get("op")
    if not isinstance(op, int) or isinstance(op, bool):
        return BadFrame("missing or non-integer 'op'", _clip(raw))
    if op not in KNOWN_OPCODES:
        return BadFrame(f"unknown opcode {op}", _clip(raw))
    s = obj.get("s")
    if s is not None and (not isinstance(s, int) or isinstance(s, bool)):
        return BadFrame(f"non-integer 's': {s!r}", _clip(raw))
    event_id = obj.get("id")
    if event_id is not None and not isinstance(event_id, str):
        if isinstance(event_id, int) and not isinstance(event_id, bool):
            event_id = str(event_id)
        else:
            return BadFrame(f"non-string 'id': {event_id!r}", _clip(raw))
    d = obj.get("d")
    t = obj.get("t")
    if op == Opcode.DISPATCH:
        if not isinstance(t, str):
            return BadFrame("dispatch without a string event name 't'", _clip(raw))
        if t not in EVENT_INTENTS:
            return BadFrame(f"unknown event name {t!r}", _clip(raw))
        if t != "RESUMED" and not isinstance(d, dict):
            return BadFrame(f"dispatch {t} data is a {type(d).__name__}, not an object", _clip(raw))
    elif t is not None and not isinstance(t, str):
        t = None
    return Envelope(op=op, d=d, s=s, t=t, id=event_id)


def identify_frame(token: str, intents: int, shard: tuple[int, int], properties: dict[str, str] | None = None) -> str:
    """JSON text of op 2 Identify (spec 3.3). ``token`` is e.g. ``"QQBot <access token>"``."""
    d: dict[str, Any] = {"token": token, "intents": int(intents), "shard": [shard[0], shard[1]]}
    if properties:
        d["properties"] = properties
    return json.dumps({"op": int(Opcode.IDENTIFY), "d": d}, separators=(",", ":"))


def resume_frame(token: str, session_id: str, seq: int) -> str:
    """JSON text of op 6 Resume with the stored session id and last ``seq`` (spec 3.3)."""
    d = {"token": token, "session_id": session_id, "seq": seq}
    return json.dumps({"op": int(Opcode.RESUME), "d": d}, separators=(",", ":"))


def heartbeat_frame(seq: int | None) -> str:
    """JSON text of op 1 Heartbeat carrying the last received ``s`` (``null`` if none)."""
    return json.dumps({"op": int(Opcode.HEARTBEAT), "d": seq}, separators=(",", ":"))
