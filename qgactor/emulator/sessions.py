"""Gateway sessions: per-session sequence numbers, replay buffers, intent and shard routing.

A session outlives its websocket: events routed to a disconnected (but resumable) session
are numbered and buffered, so a Resume replays exactly the events after the client's seq.
"""

from __future__ import annotations

import json.encoder
import logging
from collections import deque
from typing import TYPE_CHECKING, Any, Iterator

import attrs
import trio

from qgactor.qq.protocol import EVENT_INTENTS, Opcode

from .http import dump_json

_DISPATCH = int(Opcode.DISPATCH)
#: a str as a JSON string literal, as ``dump_json`` writes it (non-ASCII kept)
_quote = json.encoder.encode_basestring

if TYPE_CHECKING:
    from .gateway import GatewayConnection

__all__ = ["GatewaySession", "SessionRegistry", "Close", "Outgoing", "shard_for"]

log = logging.getLogger(__name__)


@attrs.frozen
class Close:
    """Ask a connection's writer to close the websocket with ``code`` (1006 = drop)."""

    code: int
    reason: str = ""


Outgoing = str | Close


def shard_for(guild_id: Any, shard_count: int) -> int:
    """The shard of an event: ``(guild_id >> 22) % shards``; non-guild events go to 0."""
    try:
        gid = int(guild_id)
    except (TypeError, ValueError):
        return 0
    return (gid >> 22) % shard_count if shard_count > 0 else 0


@attrs.define(slots=True, eq=False)
class GatewaySession:
    """One identified gateway session (survives reconnects until invalidated)."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    replay_limit: int
    seq: int = 0
    buffer: deque[tuple[int, str]] = attrs.field(init=False)
    connection: GatewayConnection | None = None
    """The websocket currently carrying this session (``None`` while disconnected)."""
    disconnected_at: float | None = None
    alive: bool = True
    dispatched: int = 0
    connection_no: int = 0
    trimmed_upto: int = 0

    def __attrs_post_init__(self) -> None:
        self.buffer = deque(maxlen=self.replay_limit)

    def accepts(self, name: str, route_shard_key: Any) -> bool:
        """True if this session subscribes ``name`` and owns the event's shard."""
        bit = EVENT_INTENTS.get(name)
        if bit is not None and bit and not (self.intents & int(bit)):
            return False
        return shard_for(route_shard_key, self.shard_count) == self.shard_id

    def frame(self, name: str, data: Any, event_id: str | None, *, buffer: bool = True,
              data_json: str | None = None) -> str:
        """Number a dispatch with the next ``s`` and return its JSON text (buffered for replay).

        ``data_json`` is ``data`` already encoded (an event going to several sessions is
        encoded once); the text is the same as encoding the whole payload object.
        """
        self.seq += 1
        if data_json is None:
            data_json = dump_json(data)
        text = (f'{{"op": {_DISPATCH}, "s": {self.seq}, "t": {_quote(name)}, "d": {data_json}'
                + (f', "id": {_quote(event_id)}}}' if event_id is not None else "}"))
        if buffer:
            if len(self.buffer) == self.buffer.maxlen:
                self.trimmed_upto = self.buffer[0][0]
            self.buffer.append((self.seq, text))
            self.dispatched += 1
        return text

    def can_resume_from(self, seq: int) -> bool:
        """True if every dispatch after ``seq`` is still buffered (else Resume gets 4007)."""
        return self.trimmed_upto <= seq <= self.seq

    def replay_after(self, seq: int) -> Iterator[str]:
        """Buffered dispatch texts with ``s > seq`` in order."""
        return (text for s, text in self.buffer if s > seq)

    def info(self) -> dict[str, Any]:
        """A JSON summary for the control API."""
        return {
            "session_id": self.session_id, "shard": [self.shard_id, self.shard_count],
            "intents": self.intents, "seq": self.seq, "connected": self.connection is not None,
            "alive": self.alive, "dispatched": self.dispatched, "buffered": len(self.buffer),
            "connections": self.connection_no,
        }


class SessionRegistry:
    """All gateway sessions of the emulator, and the routing of events to them."""

    def __init__(self, resume_window: float) -> None:
        self._sessions: dict[str, GatewaySession] = {}
        self._resume_window = resume_window

    def add(self, session: GatewaySession) -> None:
        """Register a new session; disconnected sessions of the same shard are dropped."""
        for s in list(self._sessions.values()):
            if (s.connection is None and s.shard_id == session.shard_id
                    and s.shard_count == session.shard_count):
                self.invalidate(s)
        self._sessions[session.session_id] = session

    def get(self, session_id: Any) -> GatewaySession | None:
        """The live session ``session_id`` (``None`` if unknown, invalid or expired)."""
        if not isinstance(session_id, str):
            return None
        s = self._sessions.get(session_id)
        if s is None or not s.alive:
            return None
        if s.connection is None and s.disconnected_at is not None:
            if trio.current_time() - s.disconnected_at > self._resume_window:
                self.invalidate(s)
                return None
        return s

    def invalidate(self, session: GatewaySession) -> None:
        """Make ``session`` non-resumable and forget it."""
        session.alive = False
        self._sessions.pop(session.session_id, None)

    def sessions(self) -> list[GatewaySession]:
        """All live sessions."""
        return list(self._sessions.values())

    def targets(self, name: str, shard_key: Any) -> list[GatewaySession]:
        """Sessions that should receive event ``name`` (intents, shard, resumability)."""
        out = []
        for s in list(self._sessions.values()):
            if s.connection is None and s.disconnected_at is not None \
                    and trio.current_time() - s.disconnected_at > self._resume_window:
                self.invalidate(s)
                continue
            if s.accepts(name, shard_key):
                out.append(s)
        return out
