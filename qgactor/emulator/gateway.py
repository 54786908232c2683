"""The websocket gateway (spec 3): Hello, Identify/READY, Resume/RESUMED, heartbeats, closes.

One :class:`GatewayConnection` per websocket. Its frames go through one ordered channel
(dispatches, ACKs, close requests), written by a single writer task that sends whatever is
queued in one transport write; a watchdog closes the socket with 4009 when heartbeats stop.
"""

from __future__ import annotations

import json
import logging
import math
from typing import TYPE_CHECKING, Any

import trio

from qgactor.qq.protocol import CLOSE_CODES, Opcode

from .handshake import KNOWN_INTENTS, identify, resume
from .http import dump_json
from .httpd import ServerWebSocket
from .sessions import Close, GatewaySession, Outgoing

if TYPE_CHECKING:
    from .platform import Platform

__all__ = ["GatewayConnection", "serve_gateway", "KNOWN_INTENTS", "MAX_BATCH_FRAMES", "MAX_BATCH_BYTES"]

log = logging.getLogger(__name__)

#: Most frames written at once (bounds the latency of the first frame of a batch).
MAX_BATCH_FRAMES = 64
#: Most text characters written at once.
MAX_BATCH_BYTES = 256 * 1024


async def serve_gateway(platform: Platform, ws: ServerWebSocket) -> None:
    """Serve the gateway protocol on an accepted websocket until it closes."""
    await GatewayConnection(platform, ws).run()


class _Wake:
    """Queue item that only wakes the writer (to notice a close request)."""


_WAKE = _Wake()

#: Seconds a close may take (the peer may not read) before the transport is dropped.
CLOSE_GRACE = 2.0


class GatewayConnection:
    """One websocket connection to the gateway.

    Every frame and every close goes through one writer task (the only sender on the
    websocket), so faults never race a frame being written. States:
    ``"open"``, ``"closing"`` (either side is closing it: client frames are ignored, no new
    frame goes out after the close, gateway faults skip it) and ``"closed"``.
    """

    def __init__(self, platform: Platform, ws: ServerWebSocket) -> None:
        self.platform = platform
        self.ws = ws
        cfg = platform.config
        self.out, self._out_recv = trio.open_memory_channel[Outgoing | _Wake](cfg.replay_buffer + 10_000)
        self.session: GatewaySession | None = None
        self.hb_deadline = 0.0
        self.close_code: int | None = None  # the server's close code, if the server closed
        self.heartbeats = 0
        self.closing = False
        self.closed = False
        self._close_request: Close | None = None
        self._close_started = trio.Event()  # the writer (or close_now) began closing
        self._close_done = trio.Event()
        self._aborted = False
        self._reconnect_at = math.inf
        self._watch_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None

    @property
    def state(self) -> str:
        """``"open"``, ``"closing"`` or ``"closed"``."""
        return "closed" if self.closed else "closing" if self.closing else "open"

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
                nursery.start_soon(self._close_guard)
                await self._reader()
                self.closing = True  # the client left: faults from now on skip this connection
                if self._close_request is None:
                    # no close of ours in progress: the session is free now, not after the
                    # tasks below wound down (a control call may look at it meanwhile)
                    self.platform.connections.discard(self)
                    self._detach(None)
                nursery.cancel_scope.cancel()
        finally:
            self.closing = self.closed = True
            self.platform.connections.discard(self)
            self._detach(self.close_code)
            self.out.close()

    def _detach(self, code: int | None) -> None:
        session, self.session = self.session, None
        if session is None or session.connection is not self:
            return
        session.connection = None
        session.disconnected_at = trio.current_time()
        info = CLOSE_CODES.get(code) if code is not None else None
        if info is not None and not info.can_resume:
            self.platform.sessions.invalidate(session)

    def push(self, payload: dict[str, Any] | str) -> None:
        """Queue a frame (dict or JSON text) in order; a full backlog closes with 4008."""
        text = payload if isinstance(payload, str) else dump_json(payload)
        try:
            self.out.send_nowait(text)
        except trio.WouldBlock:
            log.warning("gateway connection backlog full; frame dropped, closing 4008")
            self.close_now(4008, "too many queued frames")
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # the connection is gone; the session's replay buffer keeps dispatches

    async def enqueue(self, text: str) -> None:
        """Queue a dispatch, waiting while the backlog is full (backpressure on the publisher).

        Returns quietly once the connection is gone (the replay buffer keeps the frame).
        """
        try:
            self.out.send_nowait(text)
        except trio.WouldBlock:
            try:
                await self.out.send(text)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (``1006`` drops the connection).

        Frames the client sends after this are ignored.
        """
        if self.closing:
            return
        self.closing = True
        try:
            self.out.send_nowait(Close(code, reason))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.close_now(code, reason)

    def close_now(self, code: int, reason: str = "") -> None:
        """Close at once, skipping queued frames (the writer does it after its current frame)."""
        self.closing = True
        if self._close_request is not None or self.closed:
            return
        self._close_request = Close(code, reason)
        self._close_started.set()
        try:
            self.out.send_nowait(_WAKE)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            pass  # the writer is busy writing and sees the request before its next frame

    async def _writer(self) -> None:
        ws, recv = self.ws, self._out_recv
        pending: Outgoing | _Wake | None = None
        while self._close_request is None:
            if pending is not None:
                item, pending = pending, None
            else:
                try:
                    item = recv.receive_nowait()
                except trio.WouldBlock:
                    item = await recv.receive()
            if self._close_request is not None:
                break
            if type(item) is str:
                # take whatever else is queued already: one transport write for the lot
                batch, size = [item], len(item)
                while len(batch) < MAX_BATCH_FRAMES and size < MAX_BATCH_BYTES:
                    try:
                        nxt = recv.receive_nowait()
                    except trio.WouldBlock:
                        break
                    if type(nxt) is not str:
                        pending = nxt
                        break
                    batch.append(nxt)
                    size += len(nxt)
                await ws.send_texts(batch)
            elif isinstance(item, Close):
                self._close_request = item
                self._close_started.set()
        await self._perform_close(self._close_request)

    async def _perform_close(self, request: Close) -> None:
        """Send the close frame (or drop the transport); only the writer calls this."""
        self.close_code = request.code
        if not self._aborted:
            if request.code == 1006:
                log.info("gateway: dropping connection (fault)")
                self.ws.abort()
            else:
                await self.ws.close(request.code, request.reason[:120])
        self._close_done.set()
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    async def _close_guard(self) -> None:
        """Drop the transport if a close cannot be written within :data:`CLOSE_GRACE`
        (the peer does not read and the socket buffer is full)."""
        await self._close_started.wait()
        with trio.move_on_after(CLOSE_GRACE):
            await self._close_done.wait()
            return
        log.info("gateway: close %s could not be sent in time; dropping",
                 self._close_request.code if self._close_request else "?")
        # the writer is blocked inside a send: no new send starts once _aborted is set
        self._aborted = True
        self.ws.abort()
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    async def _watchdog(self) -> None:
        while True:
            with trio.CancelScope(deadline=min(self.hb_deadline, self._reconnect_at)) as scope:
                self._watch_scope = scope
                await trio.sleep_forever()
            now = trio.current_time()
            if now >= self._reconnect_at:
                self._reconnect_at = math.inf
                self.close(4009, "reconnect requested (op 7)")
            if now >= self.hb_deadline:
                log.info("gateway: no heartbeat within %.3gs, closing 4009",
                         self.platform.config.heartbeat_timeout_seconds())
                # close at once: queued frames stay in the session's replay buffer
                self.close_now(4009, "heartbeat timeout: connection expired, resume")
                return

    async def _reader(self) -> None:
        while True:
            raw = await self.ws.receive()
            if raw is None:
                # a client-chosen close code never invalidates the session: only the
                # platform's own closes follow the close-code table
                return
            if type(raw) is not str:
                try:
                    raw = raw.decode("utf-8")  # type: ignore[union-attr]
                except UnicodeDecodeError:
                    self.close(4002, "invalid payload: frames must be UTF-8 JSON")
                    continue
            self._handle(raw)  # type: ignore[arg-type]

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
            identify(self, frame.get("d"))
        elif op == Opcode.RESUME:
            resume(self, frame.get("d"))
        else:
            self.close(4001, f"invalid opcode {op}")

    def _heartbeat(self) -> None:
        self.heartbeats += 1
        self.hb_deadline = trio.current_time() + self.platform.config.heartbeat_timeout_seconds()
        sid = self.session.session_id if self.session else None
        if not self.platform.faults.acks_stopped(sid):
            self.push('{"op": 11}')

    def attach(self, session: GatewaySession) -> None:
        """Carry ``session`` on this connection (after READY or RESUMED)."""
        self.session = session
        session.connection = self
        session.connection_no += 1
        session.disconnected_at = None

    # ------------------------------------------------------------------ faults
    def send_reconnect(self) -> bool:
        """Send op 7 and close with 4009 if the client has not closed in time.

        Returns False (and does nothing) when the connection is already closing.
        """
        if self.closing:
            return False
        self.push({"op": int(Opcode.RECONNECT)})
        self._reconnect_at = min(self._reconnect_at,
                                 trio.current_time() + self.platform.config.reconnect_close_after)
        if self._watch_scope is not None:
            self._watch_scope.deadline = min(self._watch_scope.deadline, self._reconnect_at)
        return True

    def send_invalid_session(self) -> bool:
        """Send op 9 and invalidate the session; the client must Identify again.

        Returns False (and does nothing) when the connection is already closing.
        """
        if self.closing:
            return False
        if self.session is not None:
            self.platform.sessions.invalidate(self.session)
            self.session = None
        self.push({"op": int(Opcode.INVALID_SESSION), "d": False})
        return True

    def send_raw(self, text: str) -> bool:
        """Queue an arbitrary text frame as is (no seq, not buffered for replay).

        Returns False (and does nothing) when the connection is already closing.
        """
        if self.closing:
            return False
        self.push(text)
        return True
