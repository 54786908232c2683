"""Identify and Resume (spec 3.3-3.5): what the gateway checks before a session starts or
continues, and the close code for each refusal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from qgactor.qq.protocol import Intents, Opcode

from .sessions import GatewaySession

if TYPE_CHECKING:
    from .gateway import GatewayConnection

__all__ = ["identify", "resume", "KNOWN_INTENTS"]

log = logging.getLogger(__name__)

#: Every intent bit the platform knows (others close with 4013).
KNOWN_INTENTS = 0
for _bit in Intents:
    KNOWN_INTENTS |= int(_bit)



def _authenticate(conn: GatewayConnection, d: Any, what: str, *, allow_bare: bool = False) -> bool:
    """The checks Identify and Resume share: not authenticated yet (else 4005), ``d`` an object
    (else 4002), a valid token (else 4004). Closes the connection and returns False on failure."""
    if conn.session is not None:
        conn.close(4005, "already authenticated")
        return False
    if not isinstance(d, dict):
        conn.close(4002, f"invalid payload: {what} d must be an object")
        return False
    if not conn.platform.tokens.check_gateway_token(d.get("token"), allow_bare=allow_bare):
        conn.close(4004, "authentication failed: invalid or expired token")
        return False
    return True

def identify(conn: GatewayConnection, d: Any) -> None:
    """Handle Identify (op 2): validate token, intents and shard, start a session, send READY."""
    p = conn.platform
    if not _authenticate(conn, d, "Identify"):
        return
    intents = d.get("intents")
    if isinstance(intents, bool) or not isinstance(intents, int) or intents < 0 or intents & ~KNOWN_INTENTS:
        conn.close(4013, "invalid intents")
        return
    allowed = p.config.allowed_intents
    if allowed is not None and intents & ~allowed:
        conn.close(4014, "intents not authorised for this bot")
        return
    shard = d.get("shard", [0, 1])
    if shard is None:
        shard = [0, 1]
    if (not isinstance(shard, list) or len(shard) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
            or not (1 <= shard[1] <= p.config.max_shards and 0 <= shard[0] < shard[1])):
        conn.close(4010, "invalid shard")
        return
    if not p.take_session_start():
        conn.close(p.config.session_limit_close_code, "session start limit exhausted")
        return
    session = GatewaySession(p.ids.uuid(), shard[0], shard[1], intents, max(1, p.config.replay_buffer))
    p.sessions.add(session)
    conn.attach(session)
    ready = {"version": 1, "session_id": session.session_id,
             "user": {"id": p.world.bot.id, "username": p.world.bot.username, "bot": True,
                      "status": 1, "avatar": p.world.bot.avatar},
             "shard": [shard[0], shard[1]]}
    conn.push(session.frame("READY", ready, None, buffer=False))
    log.info("gateway: session %s identified shard %s intents %d", session.session_id, shard, intents)

def resume(conn: GatewayConnection, d: Any) -> None:
    """Handle Resume (op 6): validate, replay every buffered dispatch after ``seq``, send RESUMED."""
    p = conn.platform
    if not _authenticate(conn, d, "Resume", allow_bare=True):
        return
    session = p.sessions.get(d.get("session_id"))
    if session is None:
        if p.config.resume_unknown_session == "4006":
            conn.close(4006, "invalid session id, cannot resume; identify")
        else:
            conn.push({"op": int(Opcode.INVALID_SESSION), "d": False})
        return
    seq = d.get("seq", 0)
    if isinstance(seq, str) and seq.isdigit():
        seq = int(seq)
    if seq is None:
        seq = 0
    if isinstance(seq, bool) or not isinstance(seq, int):
        conn.close(4002, "invalid payload: Resume seq must be an integer")
        return
    if not session.can_resume_from(seq):
        p.sessions.invalidate(session)
        conn.close(4007, f"invalid seq {seq}: cannot resume; identify")
        return
    old = session.connection
    if old is not None and old is not conn:
        old.session = None
        old.close(4009, "session resumed elsewhere")
    conn.attach(session)
    # replay and RESUMED are queued without awaiting, so no new event can interleave
    for text in session.replay_after(seq):
        conn.push(text)
    conn.push(session.frame("RESUMED", "", None, buffer=False))
    log.info("gateway: session %s resumed from seq %d", session.session_id, seq)
