"""Server websockets: the handshake and the frames by wsproto, the I/O by :class:`SocketIO`.

:func:`upgrade` answers an HTTP/1.1 upgrade request already parsed by the connection: ``101`` (with
permessage-deflate when the client offers it) and a :class:`ServerWebSocket` for the
handler, or wsproto's refusal (``400``/``426`` for a bad handshake, ``403`` when the path
has no websocket).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Awaitable, Callable

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection, BytesMessage, CloseConnection, Ping, RejectConnection, Request, TextMessage,
)
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .sockio import SocketIO

__all__ = ["ServerWebSocket", "WebsocketHandler", "upgrade", "CLOSE_REPLY_WAIT"]

log = logging.getLogger(__name__)

#: Seconds to wait for the peer's close frame after ours, before the TCP connection is closed.
CLOSE_REPLY_WAIT = 1.0

_OPEN = ConnectionState.OPEN


class ServerWebSocket:
    """One accepted websocket (server side).

    One task may :meth:`receive` while another sends (:meth:`send_texts`, :meth:`close`);
    control answers (pong, the close reply) written by the receiving task never interleave
    with a frame being written. Nothing here raises for a connection that is gone: sends
    are dropped and :meth:`receive` returns ``None``.
    """

    def __init__(self, io: SocketIO, ws: WSConnection, path: str, max_message: int) -> None:
        self.io = io
        self.path = path
        self._ws = ws
        self._conn = ws.connection  # the frame-level wsproto Connection (after the handshake)
        self._max_message = max_message
        self._inbox: deque[str | bytes] = deque()
        self._parts: list[str | bytes] = []
        self._part_size = 0
        self._sending = False
        self._backlog: list[bytes] = []
        self.close_code: int | None = None
        """The close code the peer sent (``1006`` when the connection was lost), once known."""

    @property
    def open(self) -> bool:
        """True until either side started closing."""
        return self._conn is not None and self._conn.state is _OPEN and not self.io.closed

    # ------------------------------------------------------------------ sending
    async def _write(self, data: bytes) -> None:
        if self._sending:  # another task is writing: it sends this right after its own data
            self._backlog.append(data)
            return
        self._sending = True
        try:
            await self.io.send_all(data)
            while self._backlog:
                more = b"".join(self._backlog)
                self._backlog.clear()
                await self.io.send_all(more)
        except (OSError, trio.ClosedResourceError):
            self.io.close()
        except BaseException:
            # cancelled, perhaps part-way through a frame: nothing may follow a cut frame
            self.io.close()
            raise
        finally:
            self._sending = False

    async def send_texts(self, texts: list[str]) -> None:
        """Send ``texts`` as consecutive text messages, in one transport write.

        Does nothing once the websocket is closing or gone.
        """
        conn = self._conn
        if conn is None or conn.state is not _OPEN or self.io.closed:
            return
        try:
            if len(texts) == 1:
                data = conn.send(TextMessage(data=texts[0]))
            else:
                data = b"".join([conn.send(TextMessage(data=t)) for t in texts])
        except LocalProtocolError:
            return
        await self._write(data)

    async def close(self, code: int, reason: str = "") -> None:
        """Send a close frame with ``code`` (the handler returns afterwards; the server then
        waits up to :data:`CLOSE_REPLY_WAIT` for the peer's close frame and closes TCP)."""
        conn = self._conn
        if conn is None or self.io.closed or conn.state not in (_OPEN, ConnectionState.REMOTE_CLOSING):
            return
        try:
            data = conn.send(CloseConnection(code=code, reason=reason))
        except LocalProtocolError:
            return
        await self._write(data)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure looks like)."""
        self.io.close()

    # ------------------------------------------------------------------ receiving
    async def receive(self) -> str | bytes | None:
        """The next complete message (``str`` text or ``bytes`` binary); ``None`` once the
        peer closed or the connection is gone (:attr:`close_code` says how)."""
        while not self._inbox:
            if self.close_code is not None:
                return None
            try:
                data = await self.io.receive()
            except (OSError, trio.ClosedResourceError):
                data = b""
            if not data:
                self.close_code = self.close_code or 1006
                return None
            try:
                self._conn.receive_data(data)
            except LocalProtocolError:  # data after the close handshake: ignore it
                continue
            await self._handle_events()
        return self._inbox.popleft()

    async def _handle_events(self) -> None:
        conn = self._conn
        for event in conn.events():
            kind = type(event)
            if kind is TextMessage or kind is BytesMessage:
                if event.message_finished and not self._parts:
                    self._inbox.append(event.data)
                    continue
                self._parts.append(event.data)
                self._part_size += len(event.data)
                if self._part_size > self._max_message:
                    self._parts.clear()
                    await self.close(1009, "message too big")
                    continue
                if event.message_finished:
                    joined = "".join(self._parts) if kind is TextMessage else b"".join(self._parts)  # type: ignore[arg-type]
                    self._parts.clear()
                    self._part_size = 0
                    self._inbox.append(joined)
            elif kind is Ping:
                try:
                    await self._write(conn.send(event.response()))
                except LocalProtocolError:
                    pass
            elif kind is CloseConnection:
                self.close_code = event.code
                if conn.state is ConnectionState.REMOTE_CLOSING:
                    try:
                        await self._write(conn.send(event.response()))
                    except LocalProtocolError:
                        pass

    async def finish(self) -> None:
        """After the handler: complete the close handshake (briefly) and close TCP."""
        conn = self._conn
        try:
            if conn.state is _OPEN and not self.io.closed:
                await self.close(1000, "")
            if conn.state is ConnectionState.LOCAL_CLOSING and not self.io.closed:
                with trio.move_on_after(CLOSE_REPLY_WAIT):
                    while self.close_code is None:
                        self._inbox.clear()
                        await self.receive()
        finally:
            self.io.close()


WebsocketHandler = Callable[[ServerWebSocket], Awaitable[None]]


async def upgrade(io: SocketIO, headers: list[tuple[bytes, bytes]], target: bytes, http_version: str,
                  trailing: bytes, handler: WebsocketHandler | None, max_message: int) -> None:
    """Answer the upgrade request (``headers`` as received, ``target``, ``http_version``
    such as ``"1.1"``) on ``io`` and run ``handler`` on the websocket.

    ``trailing`` is what the client sent after the request (early frames). ``handler``
    ``None`` refuses with 403. Returns when the handler returned and the socket is closed;
    a handler's exception propagates (the caller logs it) after the socket is closed.
    """
    ws = WSConnection(ConnectionType.SERVER)
    try:
        ws.initiate_upgrade_connection(headers, target)
        accepted = next((e for e in ws.events() if isinstance(e, Request)), None)
    except RemoteProtocolError as exc:
        hint = exc.event_hint if isinstance(exc.event_hint, RejectConnection) else RejectConnection()
        await _refuse(io, ws, hint)
        return
    except Exception:  # headers wsproto's own HTTP layer will not take: no answer can be built
        log.debug("websocket upgrade request refused", exc_info=True)
        io.close()
        return
    if accepted is None or handler is None or http_version != "1.1":
        await _refuse(io, ws, RejectConnection(status_code=403 if handler is None else 400))
        return
    offered = [PerMessageDeflate()] if accepted.extensions else []
    try:
        await io.send_all(ws.send(AcceptConnection(extensions=offered)))
    except (OSError, trio.ClosedResourceError):
        io.close()
        return
    sock = ServerWebSocket(io, ws, accepted.target, max_message)
    if trailing:
        ws.receive_data(trailing)
        await sock._handle_events()
    try:
        await handler(sock)
    except Exception:
        # a crashed handler: tell the client (1011) without waiting for its answer
        await sock.close(1011, "internal error")
        sock.io.close()
        raise
    except BaseException:
        sock.io.close()  # cancelled (the server stops): drop the connection, like a network loss
        raise
    try:
        await sock.finish()
    except Exception:  # the peer vanished while we closed: nothing left to tell it
        log.debug("websocket close handshake failed", exc_info=True)
        sock.io.close()


async def _refuse(io: SocketIO, ws: WSConnection, event: RejectConnection) -> None:
    try:
        await io.send_all(ws.send(event))
    except (OSError, trio.ClosedResourceError, LocalProtocolError):
        pass
    finally:
        io.close()
