"""The websocket gateway (spec 3): Hello, Identify/READY, Resume/RESUMED, heartbeats, closes.

One :class:`GatewayConnection` per websocket. Its frames go through one ordered channel
(dispatches, ACKs, close requests), written by a single writer task; a watchdog closes the
socket with 4009 when heartbeats stop.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import trio

from qgactor.qq.protocol import CLOSE_CODES, Intents, Opcode

from .sessions import Close, GatewaySession, Outgoing

if TYPE_CHECKING:
    from .platform import Platform

__all__ = ["GatewayConnection", "serve_gateway", "KNOWN_INTENTS"]

log = logging.getLogger(__name__)

#: Every intent bit the platform knows (others close with 4013).
KNOWN_INTENTS = 0
for _bit in Intents:
    KNOWN_INTENTS |= int(_bit)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def serve_gateway(platform: Platform, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """ASGI websocket handler of ``/websocket``."""
    first = await receive()
    if first.get("type") != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    conn = GatewayConnection(platform, receive, send)
    await conn.run()


async def _abort_transport(send: Send) -> bool:
    """Close the TCP connection without a close frame (a network drop).

    ASGI has no way to do this, so this reaches into hypercorn's h11 protocol objects
    (``WSStream.send`` -> ``H11Protocol.send`` = the TCP server's sender). Returns False
    when the structure is not the expected one; the caller then sends a close frame.
    """
    try:
        from hypercorn.events import Closed

        protocol = send.__self__.send.__self__  # type: ignore[attr-defined]
        sender = protocol.send
    except (AttributeError, ImportError):
        return False
    try:
        await sender(Closed())
    except Exception:  # the connection may already be gone
        log.debug("gateway: transport abort failed", exc_info=True)
    return True


class GatewayConnection:
    """One websocket connection to the gateway."""

    def __init__(self, platform: Platform, receive: Receive, send: Send) -> None:
        self.platform = platform
        self._receive = receive
        self._send = send
        cfg = platform.config
        self.out, self._out_recv = trio.open_memory_channel[Outgoing](cfg.replay_buffer + 10_000)
        self.session: GatewaySession | None = None
        self.hb_deadline = 0.0
        self.close_code: int | None = None  # the server's close code, if the server closed
        self.heartbeats = 0
        self.closing = False
        self._nursery: trio.Nursery | None = None

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        self.platform.connections.add(self)
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self.hb_deadline = trio.current_time() + self.platform.config.heartbeat_timeout_seconds()
                self.push({"op": int(Opcode.HELLO),
                           "d": {"heartbeat_interval": self.platform.config.heartbeat_interval_ms}})
                nursery.start_soon(self._writer)
                nursery.start_soon(self._watchdog)
                await self._reader()
                nursery.cancel_scope.cancel()
        finally:
            self.platform.connections.discard(self)
            self._detach(self.close_code)
            self.out.close()

    def _detach(self, code: int | None) -> None:
        session, self.session = self.session, None
        if session is None or session.connection is not self.out:
            return
        session.connection = None
        session.disconnected_at = trio.current_time()
        info = CLOSE_CODES.get(code) if code is not None else None
        if info is not None and not info.can_resume:
            self.platform.sessions.invalidate(session)

    def push(self, payload: dict[str, Any] | str) -> None:
        """Queue a frame (dict or JSON text) in order."""
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        try:
            self.out.send_nowait(text)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            log.warning("gateway connection backlog full or closed; frame dropped, closing 4008")
            self.close_now(4008, "too many queued frames")

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (``1006`` drops the connection).

        Frames the client sends after this are ignored.
        """
        self.closing = True
        try:
            self.out.send_nowait(Close(code, reason))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.close_now(code, reason)

    def close_now(self, code: int, reason: str = "") -> None:
        """Close at once, skipping queued frames."""
        self.closing = True
        if self._nursery is not None and self.close_code is None:
            self.close_code = code
            self._nursery.start_soon(self._do_close, code, reason)

    async def _do_close(self, code: int, reason: str) -> None:
        self.close_code = code
        if code == 1006:
            log.info("gateway: dropping connection (fault)")
            if await _abort_transport(self._send):
                assert self._nursery is not None
                self._nursery.cancel_scope.cancel()
                return
        with trio.move_on_after(2.0) as scope:
            await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})
        if scope.cancelled_caught:
            # the peer does not read (the socket buffer is full): drop the connection instead
            log.info("gateway: close frame %d could not be sent in time; dropping", code)
            await _abort_transport(self._send)
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    async def _writer(self) -> None:
        async for item in self._out_recv:
            if isinstance(item, Close):
                await self._do_close(item.code, item.reason)
                return
            await self._send({"type": "websocket.send", "text": item})

    async def _watchdog(self) -> None:
        while True:
            await trio.sleep_until(self.hb_deadline)
            if trio.current_time() >= self.hb_deadline:
                log.info("gateway: no heartbeat within %.3gs, closing 4009",
                         self.platform.config.heartbeat_timeout_seconds())
                # close at once: queued frames stay in the session's replay buffer
                self.close_now(4009, "heartbeat timeout: connection expired, resume")
                return

    async def _reader(self) -> None:
        while True:
            message = await self._receive()
            kind = message.get("type")
            if kind == "websocket.disconnect":
                # a client-chosen close code never invalidates the session: only the
                # platform's own closes follow the close-code table
                return
            if kind != "websocket.receive":
                continue
            raw = message.get("text")
            if raw is None:
                data = message.get("bytes") or b""
                try:
                    raw = data.decode("utf-8")
                except UnicodeDecodeError:
                    self.close(4002, "invalid payload: frames must be UTF-8 JSON")
                    continue
            self._handle(raw)

    # ------------------------------------------------------------------ frames
    def _handle(self, raw: str) -> None:
        if self.closing:
            return
        try:
            frame = json.loads(raw)
        except json.JSONDecodeError:
            self.close(4002, "invalid payload: not JSON")
            return
        if not isinstance(frame, dict) or isinstance(frame.get("op"), bool) or not isinstance(frame.get("op"), int):
            self.close(4002, "invalid payload: expected an object with an integer op")
            return
        op = frame["op"]
        if op == Opcode.HEARTBEAT:
            self._heartbeat()
        elif op == Opcode.IDENTIFY:
            self._identify(frame.get("d"))
        elif op == Opcode.RESUME:
            self._resume(frame.get("d"))
        else:
            self.close(4001, f"invalid opcode {op}")

    def _heartbeat(self) -> None:
        self.heartbeats += 1
        self.hb_deadline = trio.current_time() + self.platform.config.heartbeat_timeout_seconds()
        sid = self.session.session_id if self.session else None
        if not self.platform.faults.acks_stopped(sid):
            self.push('{"op": 11}')

    def _identify(self, d: Any) -> None:
        p = self.platform
        if self.session is not None:
            self.close(4005, "already authenticated")
            return
        if not isinstance(d, dict):
            self.close(4002, "invalid payload: Identify d must be an object")
            return
        if not p.tokens.check_gateway_token(d.get("token")):
            self.close(4004, "authentication failed: invalid or expired token")
            return
        intents = d.get("intents")
        if isinstance(intents, bool) or not isinstance(intents, int) or intents < 0 or intents & ~KNOWN_INTENTS:
            self.close(4013, "invalid intents")
            return
        allowed = p.config.allowed_intents
        if allowed is not None and intents & ~allowed:
            self.close(4014, "intents not authorised for this bot")
            return
        shard = d.get("shard", [0, 1])
        if shard is None:
            shard = [0, 1]
        if (not isinstance(shard, list) or len(shard) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
                or not (1 <= shard[1] <= p.config.max_shards and 0 <= shard[0] < shard[1])):
            self.close(4010, "invalid shard")
            return
        if not p.take_session_start():
            self.close(p.config.session_limit_close_code, "session start limit exhausted")
            return
        session = GatewaySession(p.ids.uuid(), shard[0], shard[1], intents, max(1, p.config.replay_buffer))
        p.sessions.add(session)
        self._attach(session)
        ready = {"version": 1, "session_id": session.session_id,
                 "user": {"id": p.world.bot.id, "username": p.world.bot.username, "bot": True,
                          "status": 1, "avatar": p.world.bot.avatar},
                 "shard": [shard[0], shard[1]]}
        self.push(session.frame("READY", ready, None, buffer=False))
        log.info("gateway: session %s identified shard %s intents %d", session.session_id, shard, intents)

    def _resume(self, d: Any) -> None:
        p = self.platform
        if self.session is not None:
            self.close(4005, "already authenticated")
            return
        if not isinstance(d, dict):
            self.close(4002, "invalid payload: Resume d must be an object")
            return
        if not p.tokens.check_gateway_token(d.get("token"), allow_bare=True):
            self.close(4004, "authentication failed: invalid or expired token")
            return
        session = p.sessions.get(d.get("session_id"))
        if session is None:
            if p.config.resume_unknown_session == "4006":
                self.close(4006, "invalid session id, cannot resume; identify")
            else:
                self.push({"op": int(Opcode.INVALID_SESSION), "d": False})
            return
        seq = d.get("seq", 0)
        if isinstance(seq, str) and seq.isdigit():
            seq = int(seq)
        if seq is None:
            seq = 0
        if isinstance(seq, bool) or not isinstance(seq, int):
            self.close(4002, "invalid payload: Resume seq must be an integer")
            return
        if not session.can_resume_from(seq):
            p.sessions.invalidate(session)
            self.close(4007, f"invalid seq {seq}: cannot resume; identify")
            return
        old = p.connection_of(session)
        if old is not None and old is not self:
            old.session = None
            old.close(4009, "session resumed elsewhere")
        self._attach(session)
        # replay and RESUMED are queued without awaiting, so no new event can interleave
        for text in session.replay_after(seq):
            self.push(text)
        self.push(session.frame("RESUMED", "", None, buffer=False))
        log.info("gateway: session %s resumed from seq %d", session.session_id, seq)

    def _attach(self, session: GatewaySession) -> None:
        self.session = session
        session.connection = self.out
        session.connection_no += 1
        session.disconnected_at = None

    # ------------------------------------------------------------------ faults
    def send_reconnect(self) -> None:
        """Send op 7 and close with 4009 if the client does not close in time."""
        self.push({"op": int(Opcode.RECONNECT)})
        if self._nursery is not None:
            self._nursery.start_soon(self._close_later, self.platform.config.reconnect_close_after)

    async def _close_later(self, delay: float) -> None:
        await trio.sleep(delay)
        self.close(4009, "reconnect requested (op 7)")

    def send_invalid_session(self) -> None:
        """Send op 9 and invalidate the session; the client must Identify again."""
        if self.session is not None:
            self.platform.sessions.invalidate(self.session)
            self.session = None
        self.push({"op": int(Opcode.INVALID_SESSION), "d": False})
