"""The sans-I/O gateway state machine of one shard (spec sections 3.3-3.8).

:class:`GatewayMachine` holds one shard's session (session id, last ``s``, heartbeat
schedule, duplicate windows) across connections. Its I/O wrapper feeds it what happened —
a connection opened, a text frame arrived, the socket closed with a code, time passed, a token
is ready — and acts on the outputs it returns (see :mod:`qgactor.qq.gateway_events`): frames
to send, events to dispatch, connections to close, reconnects to schedule, fatal stops.

It performs no I/O, reads no clock (every input carries ``now``) and never raises on anything
the wire sends: bad frames come out as :class:`~qgactor.qq.gateway_events.BadFrame`. Each
``(state, input)`` pair is defined; inputs that make no sense in a state (a token after the
socket closed, a second close report) return no outputs.

Recovery rules (spec 3.8, ``qgactor.qq.protocol.CLOSE_CODES``):

- op 7 Reconnect, a zombie connection (no ACK for the previous heartbeat), an abrupt drop,
  close 4008/4009 or any non-gateway close code: reconnect and Resume (Identify when no
  session exists yet).
- op 9 Invalid Session, close 4006, 4007, 4000, 4003, 4005 and 4900-4913: drop the session and
  Identify afresh.
- close 4004: fetch a fresh token first (``NeedToken(refresh=True)``), then Identify.
- close 4001, 4002, 4010-4014, 4914, 4915: stop (:class:`Fatal` with what the user must fix).
"""

from __future__ import annotations

import logging
import random
from typing import Any

import attrs

from qgactor.qq.gateway_config import (
    FATAL_ADVICE,
    RESUME_CLOSE_CODE,
    BackoffPolicy,
    GatewayConfig,
    GatewayStats,
)
from qgactor.qq.gateway_dedup import Deduplicator
from qgactor.qq.gateway_events import (
    BadFrame,
    CloseConnection,
    Dispatch,
    Duplicate,
    Fatal,
    GatewayOutput,
    GatewayState,
    NeedToken,
    Reconnect,
    SendFrame,
    SessionStarted,
)
from qgactor.qq.gateway_frames import (
    Envelope,
    heartbeat_frame,
    identify_frame,
    parse_envelope,
    resume_frame,
)
from qgactor.qq.protocol import CLOSE_CODES, Opcode

__all__ = ["GatewayMachine", "GatewayConfig", "BackoffPolicy", "GatewayStats", "FATAL_ADVICE", "RESUME_CLOSE_CODE"]

logger = logging.getLogger(__name__)

# module constants for the per-frame path (attribute lookups on enum classes cost per frame)
_DISCONNECTED = GatewayState.DISCONNECTED
_STOPPED = GatewayState.STOPPED
_AWAITING_HELLO = GatewayState.AWAITING_HELLO
_AWAITING_TOKEN = GatewayState.AWAITING_TOKEN
_IDENTIFYING = GatewayState.IDENTIFYING
_CLOSING = GatewayState.CLOSING
_OP_DISPATCH = int(Opcode.DISPATCH)
_SESSION_EVENTS = ("READY", "RESUMED")


class GatewayMachine:
    """One shard's gateway session as an explicit state machine (see the module docstring).

    Read-only attributes: ``state`` (:class:`GatewayState`), ``session_id``, ``seq`` (last
    ``s``), ``heartbeat_interval`` (seconds), ``latency`` (last heartbeat round trip),
    ``stats`` (:class:`GatewayStats`), ``fatal`` (the :class:`Fatal` that stopped it, if any),
    ``generation`` (increments per connection). No method raises on wire input.
    """

    def __init__(self, config: GatewayConfig, *, rng: random.Random | None = None) -> None:
        """Create a machine in ``DISCONNECTED`` with no session."""
        self.config = config
        self.state = GatewayState.DISCONNECTED
        self.session_id: str | None = None
        self.seq: int | None = None
        self.heartbeat_interval: float | None = None
        self.latency: float | None = None
        self.stats = GatewayStats()
        self.fatal: Fatal | None = None
        self.generation = 0
        self.user: Any = None
        self._rng = rng or random.Random()
        self._dedup = Deduplicator(config.dedup_capacity)
        self._next_heartbeat: float | None = None
        self._heartbeat_sent_at: float | None = None
        self._ack_pending = False
        self._opened_at = 0.0
        self._failures = 0
        self._reached_live = False
        self._refresh_token = False
        self._planned_resume: bool | None = None
        self._planned_reason = ""
        self._seq_before: int | None = None  # seq before the last dispatch frame

    # ----------------------------------------------------------------- introspection
    @property
    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has work (heartbeat or handshake timeout), or ``None``."""
        if self.state is GatewayState.AWAITING_HELLO:
            return self._opened_at + self.config.handshake_timeout
        if self.state in (GatewayState.IDENTIFYING, GatewayState.RESUMING, GatewayState.CONNECTED):
            return self._next_heartbeat
        return None

    @property
    def can_resume(self) -> bool:
        """True when a session id is stored, so the next connection will Resume."""
        return self.session_id is not None

    def status(self) -> dict[str, Any]:
        """A plain-dict summary for status/progress displays (no secrets)."""
        return {
            "shard": list(self.config.shard),
            "state": self.state.value,
            "session_id": self.session_id,
            "seq": self.seq,
            "heartbeat_interval": self.heartbeat_interval,
            "latency": self.latency,
            "fatal": self.fatal.message if self.fatal else None,
            **attrs.asdict(self.stats),
        }

    # ----------------------------------------------------------------- inputs
    def connection_opened(self, now: float) -> list[GatewayOutput]:
        """A new websocket is open; expect Hello. In ``STOPPED`` repeats the :class:`Fatal`."""
        if self.state is GatewayState.STOPPED:
            return [self.fatal] if self.fatal else []
        self.state = GatewayState.AWAITING_HELLO
        self.generation += 1
        self.stats.connects += 1
        self._opened_at = now
        self._ack_pending = False
        self._next_heartbeat = None
        self._reached_live = False
        self._planned_resume = None
        return []

    def connect_failed(self, now: float, reason: str = "connect failed") -> list[GatewayOutput]:
        """Opening the websocket failed; returns a backed-off :class:`Reconnect`."""
        if self.state is GatewayState.STOPPED:
            return [self.fatal] if self.fatal else []
        self.state = GatewayState.DISCONNECTED
        return [self._schedule_reconnect(self.can_resume, reason)]

    def token_available(self, token: str) -> list[GatewayOutput]:
        """Send Identify or Resume with ``token`` (e.g. ``"QQBot …"``); only in ``AWAITING_TOKEN``."""
        if self.state is not GatewayState.AWAITING_TOKEN:
            return []
        self._refresh_token = False
        if self.session_id is not None:
            self.state = GatewayState.RESUMING
            self.stats.resumes += 1
            text = resume_frame(token, self.session_id, self.seq or 0)
            return [SendFrame(int(Opcode.RESUME), text)]
        self.state = GatewayState.IDENTIFYING
        self.stats.identifies += 1
        text = identify_frame(token, self.config.intents, self.config.shard, self.config.properties)
        return [SendFrame(int(Opcode.IDENTIFY), text)]

    def receive(self, raw: str | bytes, now: float) -> list[GatewayOutput]:
        """Handle one frame from the wire; never raises."""
        self.stats.frames += 1
        state = self.state
        if state is _DISCONNECTED or state is _STOPPED:
            return [self._bad(f"frame received while {state.value}", raw)]
        env = parse_envelope(raw, max_size=self.config.max_frame_size)
        if env.__class__ is BadFrame:
            return [self._count_bad(env)]  # type: ignore[arg-type]
        op = env.op  # type: ignore[union-attr]
        if state is _AWAITING_HELLO:
            if op != Opcode.HELLO:
                return [self._bad(f"expected Hello (op 10), got op {op}", raw)]
            return self._on_hello(env, raw, now)  # type: ignore[arg-type]
        if op == _OP_DISPATCH:
            return self._on_dispatch(env, raw)  # type: ignore[arg-type]
        if op == Opcode.HEARTBEAT_ACK:
            self._ack_pending = False
            self.stats.heartbeat_acks += 1
            if self._heartbeat_sent_at is not None:
                self.latency = max(0.0, now - self._heartbeat_sent_at)
            return []
        if op == Opcode.HEARTBEAT:
            if self.state in (GatewayState.AWAITING_TOKEN, GatewayState.CLOSING):
                return []
            return [self._send_heartbeat(now)]
        if op == Opcode.RECONNECT:
            self.stats.reconnect_requests += 1
            return self._plan_close(True, "server asked to reconnect (op 7)")
        if op == Opcode.INVALID_SESSION:
            self.stats.invalid_sessions += 1
            self._drop_session()
            return self._plan_close(False, "invalid session (op 9): identifying afresh")
        return [self._bad(f"unexpected opcode {op} from the server in state {self.state.value}", raw)]

    def tick(self, now: float, *, acks_readable: bool = True) -> list[GatewayOutput]:
        """Time passed: send a due heartbeat, or close a zombie connection / stalled handshake.

        Pass ``acks_readable=False`` while the wrapper is deliberately not reading the socket
        (backpressure from a slow dispatcher): an unacknowledged heartbeat then is not taken as
        a zombie connection, since its ACK may sit unread behind queued events.
        """
        if self.state is GatewayState.AWAITING_HELLO:
            if now >= self._opened_at + self.config.handshake_timeout:
                return self._plan_close(self.can_resume, "no Hello within the handshake timeout")
            return []
        if self.state not in (GatewayState.IDENTIFYING, GatewayState.RESUMING, GatewayState.CONNECTED):
            return []
        if self._next_heartbeat is None or now < self._next_heartbeat:
            return []
        if self._ack_pending and acks_readable:
            self.stats.zombies += 1
            return self._plan_close(True, "zombie connection: the last heartbeat was not acknowledged")
        return [self._send_heartbeat(now)]

    def connection_closed(self, code: int | None, now: float, reason: str = "") -> list[GatewayOutput]:
        """The socket closed (``code`` as received, ``None`` for an abrupt drop); decide what next."""
        if self.state in (GatewayState.DISCONNECTED, GatewayState.STOPPED):
            return []
        self.stats.last_close_code = code
        self._next_heartbeat = None
        self._ack_pending = False
        if self.state is GatewayState.CLOSING and self._planned_resume is not None:
            resume, why = self._planned_resume, self._planned_reason
            self._planned_resume = None
            self.state = GatewayState.DISCONNECTED
            return [self._schedule_reconnect(resume and self.can_resume, why)]
        self.state = GatewayState.DISCONNECTED
        info = CLOSE_CODES.get(code) if code is not None else None
        desc = f"closed with {code}" + (f" ({info.meaning})" if info else "") + (f": {reason}" if reason else "")
        if info is None or info.can_resume:
            return [self._schedule_reconnect(self.can_resume, desc)]
        if info.refresh_token:
            self._refresh_token = True
            self._drop_session()
            return [self._schedule_reconnect(False, desc + "; refreshing the token")]
        if info.can_identify:
            self._drop_session()
            return [self._schedule_reconnect(False, desc + "; identifying afresh")]
        advice = FATAL_ADVICE.get(code, info.meaning) if code is not None else info.meaning
        self.fatal = Fatal(code, f"gateway closed with {code} ({info.meaning}): {advice}")
        self.state = GatewayState.STOPPED
        return [self.fatal]

    def undelivered(self, dispatch: Dispatch) -> list[GatewayOutput]:
        """The wrapper could not hand ``dispatch``, the last :class:`Dispatch` it got, to the
        application (it was stopped while waiting for the dispatcher): forget it, so that the
        next Resume asks the platform to replay it and the replay is not taken for a duplicate.
        Ignored for any other dispatch. Returns no outputs; never raises."""
        if dispatch.seq is None or dispatch.seq != self.seq:
            return []
        self.seq = self._seq_before
        self._dedup.forget(dispatch.name, dispatch.data, dispatch.seq, dispatch.event_id)
        self.stats.dispatched -= 1
        return []

    def stop(self, message: str) -> list[GatewayOutput]:
        """The wrapper gives up for a reason outside the wire (e.g. rejected credentials).

        Enters ``STOPPED`` with ``Fatal(None, message)`` (kept if already stopped) and returns it.
        """
        if self.fatal is None:
            self.fatal = Fatal(None, message)
        self.state = GatewayState.STOPPED
        self._next_heartbeat = None
        return [self.fatal]

    def reset(self) -> list[GatewayOutput]:
        """Leave ``STOPPED`` (after the user fixed the cause): back to ``DISCONNECTED``, no session."""
        self._drop_session()
        self.fatal = None
        self.state = GatewayState.DISCONNECTED
        self._failures = 0
        return []

    # ----------------------------------------------------------------- helpers
    def _on_hello(self, env: Envelope, raw: str | bytes, now: float) -> list[GatewayOutput]:
        out: list[GatewayOutput] = []
        interval = env.d.get("heartbeat_interval") if isinstance(env.d, dict) else None
        if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0:
            self.heartbeat_interval = interval / 1000.0
        else:
            self.heartbeat_interval = self.config.default_heartbeat_interval
            out.append(self._bad("Hello without a positive heartbeat_interval; using the default", raw))
        self._next_heartbeat = now + self.heartbeat_interval
        self.state = GatewayState.AWAITING_TOKEN
        out.append(NeedToken(refresh=self._refresh_token, identify=self.session_id is None))
        return out

    def _on_dispatch(self, env: Envelope, raw: str | bytes) -> list[GatewayOutput]:
        name = env.t or ""
        state = self.state
        if state is _AWAITING_TOKEN:
            return [self._bad(f"dispatch {name} before Identify/Resume was sent", raw)]
        if state is _CLOSING and name in _SESSION_EVENTS:
            return [self._bad(f"{name} while closing this connection; ignored", raw)]
        out: list[GatewayOutput] = []
        seq = self._seq_before = self.seq
        s = env.s
        if name not in _SESSION_EVENTS:  # the common case: an ordinary event
            if state is _IDENTIFYING:
                return [self._bad(f"dispatch {name} before READY", raw)]
            if s is not None and s > 0 and (seq is None or s > seq):  # _record_seq, inlined
                self.seq = s
        elif name == "READY":
            d = env.d
            sid = d.get("session_id") if isinstance(d, dict) else None
            if not isinstance(sid, str) or not sid:
                return [self._bad("READY without a session_id", raw)]
            self.session_id = sid
            self.seq = self._seq_before = None  # a new session: the old seq means nothing
            self.user = d.get("user")
            self._dedup.new_session()
            self._record_seq(env.s)
            self._went_live()
            out.append(SessionStarted(sid, False, self.config.shard, self.user))
        elif state is _IDENTIFYING:
            return [self._bad(f"dispatch {name} before READY", raw)]
        else:  # RESUMED
            self._record_seq(s)
            if state is GatewayState.RESUMING:
                self._went_live()
                out.append(SessionStarted(self.session_id or "", True, self.config.shard, self.user))
        d, event_id = env.d, env.id
        validate = self.config.validate
        if validate is not None and name not in _SESSION_EVENTS:
            try:
                validate(name, d)
            except Exception as exc:  # a validator's failure is the frame's fault, never ours
                return [*out, self._bad(f"dispatch {name} failed to parse: {exc!r}", raw)]
        matched = self._dedup.check(name, d, s, event_id)
        stats = self.stats
        if matched is not None:
            stats.duplicates += 1
            out.append(Duplicate(name, s, matched))
            return out
        stats.dispatched += 1
        out.append(Dispatch(name, d, s, event_id))
        return out

    def _record_seq(self, s: int | None) -> None:
        if s is not None and s > 0 and (self.seq is None or s > self.seq):
            self.seq = s

    def _went_live(self) -> None:
        self.state = GatewayState.CONNECTED
        self._failures = 0
        self._reached_live = True

    def _send_heartbeat(self, now: float) -> SendFrame:
        self._ack_pending = True
        self._heartbeat_sent_at = now
        self.stats.heartbeats += 1
        interval = self.heartbeat_interval or self.config.default_heartbeat_interval
        self._next_heartbeat = now + interval
        return SendFrame(int(Opcode.HEARTBEAT), heartbeat_frame(self.seq))

    def _plan_close(self, resume: bool, reason: str) -> list[GatewayOutput]:
        self.state = GatewayState.CLOSING
        self._planned_resume = resume
        self._planned_reason = reason
        self._next_heartbeat = None
        return [CloseConnection(RESUME_CLOSE_CODE if resume else 1000, reason, resume)]

    def _drop_session(self) -> None:
        self.session_id = None
        self.seq = None
        self._dedup.new_session()

    def _schedule_reconnect(self, resume: bool, reason: str) -> Reconnect:
        self.stats.reconnects += 1
        if self._reached_live:
            self._failures = 0
        self._reached_live = False
        self._failures += 1
        if resume and self._failures == 1:
            delay = 0.0
        else:
            delay = self.config.backoff.delay(self._failures, self._rng)
        return Reconnect(delay, resume, reason)

    def _bad(self, reason: str, raw: str | bytes) -> BadFrame:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return self._count_bad(BadFrame(reason, text[:2000]))

    def _count_bad(self, bad: BadFrame) -> BadFrame:
        self.stats.bad_frames += 1
        return bad
