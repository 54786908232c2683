"""A small websocket client: wsproto over a trio byte transport, read by its owner's task.

wsproto does all of the protocol (the HTTP upgrade, framing, masking, fragmentation,
UTF-8 checks, ping/pong, the close handshake); this module only moves bytes. There is no
background reader task and no channel: the task that owns the connection calls
:meth:`WebSocket.receive_messages`, which reads the socket once and returns every complete
message that arrived in those bytes, in order. So the owner decides when to read more (a
slow consumer slows reading the socket), and a burst of frames costs one read and one pass.

Other tasks may send (:meth:`WebSocket.send_text`, serialised by the websocket's send lock)
and close (:meth:`WebSocket.close`) while the owner reads. Pings are answered while reading.

Close reasons (what :class:`WebSocketClosed` carries, as trio-websocket reported them):

- the server closed: its code and reason (1005 when its Close frame had no code);
- the connection ended without a Close frame (a drop, a reset): 1006;
- this side closed (:meth:`WebSocket.close`/:meth:`WebSocket.aclose`): 1000, whatever code was sent;
- a message larger than ``max_message_size``: 1009 (a Close 1009 is sent);
- a protocol error by the server (bad framing, invalid UTF-8): wsproto's code (1002, 1007).
"""

from __future__ import annotations

import logging
import ssl
from urllib.parse import urlsplit

import trio
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError

from qgactor.qq.websocket_transport import RECEIVE_SIZE, ByteTransport, open_transport

__all__ = [
    "WebSocket",
    "WebSocketError",
    "WebSocketClosed",
    "WebSocketHandshakeError",
    "connect_websocket",
    "DEFAULT_MAX_MESSAGE",
]

log = logging.getLogger(__name__)

#: Default largest message accepted (characters of a text message, bytes of a binary one).
DEFAULT_MAX_MESSAGE = 1 << 20

_OPEN = ConnectionState.OPEN
_CLOSED = ConnectionState.CLOSED
_REMOTE_CLOSING = ConnectionState.REMOTE_CLOSING
_LOCAL_CLOSE = (1000, "")  # what the reader sees after this side closed (as trio-websocket)
_ABNORMAL = 1006


class WebSocketError(Exception):
    """Base class of this module's errors."""


class WebSocketClosed(WebSocketError):
    """The websocket is closed; ``code`` and ``reason`` say how (see the module docstring)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"websocket closed with {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


class WebSocketHandshakeError(WebSocketError):
    """Opening the websocket failed after the TCP/TLS connection was made: the server refused
    the upgrade (``status_code`` is its HTTP status), answered something that is not a
    websocket handshake, or closed the connection first (``status_code`` is ``None``)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class WebSocket:
    """An open client websocket (made by :func:`connect_websocket`); see the module docstring.

    Attributes: ``url``; ``closed`` (``(code, reason)`` once closed or closing, else ``None``).
    """

    __slots__ = ("url", "closed", "_transport", "_conn", "_max", "_parts", "_size", "_send_lock",
                 "_done", "_primed", "_lost", "_pending_out")

    def __init__(self, transport: ByteTransport, connection: Connection, *, url: str = "",
                 max_message_size: int = DEFAULT_MAX_MESSAGE) -> None:
        """Wrap an open wsproto ``connection`` over ``transport`` (use :func:`connect_websocket`)."""
        self.url = url
        self.closed: tuple[int, str] | None = None
        self._transport = transport
        self._conn = connection
        self._max = max_message_size
        self._parts: list[str] | list[bytes] = []
        self._size = 0
        self._send_lock = trio.Lock()
        self._done = trio.Event()  # the close handshake finished or the transport was closed
        self._primed = False  # frames that came with the handshake response were looked at
        self._lost = False  # the transport ended or was closed
        self._pending_out = b""  # pongs / close answers to send after processing a read

    def __repr__(self) -> str:
        return f"<WebSocket {self.url!r} {'closed %s' % (self.closed,) if self.closed else 'open'}>"

    @property
    def closing(self) -> bool:
        """True once the websocket is closed or this side started closing it."""
        return self.closed is not None

    # ----------------------------------------------------------------- receiving
    async def receive_messages(self) -> list[str | bytes]:
        """Wait for data and return every complete message in it, oldest first (never empty).

        Answers pings on the way. Raises :class:`WebSocketClosed` once the websocket is closed
        (after the messages that arrived before the server's Close were returned), and at once
        after this side started closing it (messages arriving after that are dropped). Only
        one task may call it at a time.
        """
        if not self._primed:  # frames that arrived with the handshake response
            self._primed = True
            messages = self._process()
            if self._pending_out:
                await self._flush()
            if messages:
                return messages
        while True:
            if self.closed is not None:
                raise WebSocketClosed(*self.closed)
            try:
                data = await self._transport.receive()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                self._end_of_stream()
                continue
            closing = self.closed is not None  # this side began closing while we waited
            if self._conn.state is _CLOSED:  # the close handshake is over: nothing more to read
                if self.closed is None:
                    self.closed = _LOCAL_CLOSE
                continue
            self._conn.receive_data(data)
            messages = self._process()
            if self._pending_out:
                await self._flush()
            if messages and not closing:
                return messages

    def _process(self) -> list[str | bytes]:
        """Turn wsproto's pending events into messages; note pings and closes to answer."""
        out: list[str | bytes] = []
        conn = self._conn
        for event in conn.events():
            cls = event.__class__
            if cls is TextMessage or cls is BytesMessage:
                data = event.data  # type: ignore[attr-defined]
                if event.message_finished and not self._parts:  # type: ignore[attr-defined]
                    if len(data) > self._max:
                        self._too_big()
                        break
                    out.append(data)
                    continue
                self._size += len(data)
                if self._size > self._max:
                    self._too_big()
                    break
                self._parts.append(data)  # type: ignore[arg-type]
                if event.message_finished:  # type: ignore[attr-defined]
                    parts, self._parts, self._size = self._parts, [], 0
                    out.append("".join(parts) if cls is TextMessage else b"".join(parts))  # type: ignore[arg-type]
            elif cls is Ping:
                if conn.state is _OPEN:
                    self._queue(conn.send(event.response()))  # type: ignore[attr-defined]
            elif cls is CloseConnection:
                code, reason = event.code, event.reason or ""  # type: ignore[attr-defined]
                if conn.state is _REMOTE_CLOSING:  # the server closes: answer, report its code
                    self._queue(conn.send(event.response()))  # type: ignore[attr-defined]
                elif conn.state is _OPEN:  # wsproto found a protocol error: fail the connection
                    log.debug("websocket %s: protocol error %s: %s", self.url, code, reason)
                    self._queue(conn.send(CloseConnection(code=code, reason=reason)))
                if self.closed is None:
                    self.closed = (int(code), reason)
                if conn.state is _CLOSED:
                    self._done.set()
                break
        return out

    def _too_big(self) -> None:
        reason = f"Exceeded maximum message size: {self._max} bytes"
        self._parts, self._size = [], 0
        if self._conn.state is _OPEN:
            self._queue(self._conn.send(CloseConnection(code=1009, reason=reason)))
        if self.closed is None:
            self.closed = (1009, reason)

    def _end_of_stream(self) -> None:
        self._lost = True
        if self.closed is None:
            self.closed = (_ABNORMAL, "")
        self._done.set()

    # ----------------------------------------------------------------- sending
    def _queue(self, data: bytes) -> None:
        self._pending_out += data

    async def _flush(self) -> None:
        data, self._pending_out = self._pending_out, b""
        if data and not self._lost:
            async with self._send_lock:
                try:
                    await self._transport.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self._end_of_stream()

    async def send_text(self, text: str) -> None:
        """Send one text message. Raises :class:`WebSocketClosed` if the websocket is closed or
        closing (also when it closes while this waits for the send lock)."""
        async with self._send_lock:
            if self.closed is not None or self._conn.state is not _OPEN:
                raise WebSocketClosed(*(self.closed or _LOCAL_CLOSE))
            data = self._conn.send(TextMessage(data=text))
            try:
                await self._transport.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._end_of_stream()
                raise WebSocketClosed(*(self.closed or (_ABNORMAL, ""))) from None

    async def _send_close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            if self._conn.state not in (_OPEN, _REMOTE_CLOSING) or self._lost:
                return
            data = self._conn.send(CloseConnection(code=code, reason=reason))
            if self._conn.state is _CLOSED:
                self._done.set()
            try:
                await self._transport.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._end_of_stream()

    # ----------------------------------------------------------------- closing
    async def close(self, code: int = 1000, reason: str = "", *, timeout: float = 2.0) -> None:
        """Start the close handshake from another task while the owner keeps reading: send a
        Close frame with ``code``/``reason`` and wait for the owner's read to see the server's
        answer, both within ``timeout`` seconds (a send stuck on a full socket buffer holds the
        send lock: the Close may never go out); then (or on cancellation) close the transport,
        which wakes the owner and any stuck sender. The owner's next :meth:`receive_messages`
        raises ``WebSocketClosed(1000, "")``. Never raises on network errors."""
        if self.closed is None:
            self.closed = _LOCAL_CLOSE
        try:
            with trio.move_on_after(timeout):
                await self._send_close(code, reason)
                await self._done.wait()
        finally:
            await self._close_transport()

    async def aclose(self, code: int = 1000, reason: str = "", *, timeout: float = 2.0,
                     wait_for_reply: bool = True) -> None:
        """Close the websocket as its owner (the task that reads): send a Close frame if none
        was exchanged yet, then (``wait_for_reply``) read until the server's Close or the end
        of the stream, dropping messages, for at most ``timeout`` seconds; finally close the
        transport. Idempotent; never raises on network errors."""
        if self.closed is None:
            self.closed = _LOCAL_CLOSE
        try:
            with trio.move_on_after(timeout):
                await self._send_close(code, reason)
                if wait_for_reply:
                    await self._read_until_closed()
        finally:
            await self._close_transport()

    async def _read_until_closed(self) -> None:
        conn = self._conn
        while conn.state is not _CLOSED and not self._lost:
            try:
                data = await self._transport.receive()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                self._end_of_stream()
                return
            conn.receive_data(data)
            self._process()
            await self._flush()

    async def _close_transport(self) -> None:
        self._lost = True
        self._done.set()
        await self._transport.aclose()


def _target(url: str) -> tuple[bool, str, int, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a websocket URL (ws://host/path or wss://host/path): {url!r}")
    secure = parts.scheme == "wss"
    host = parts.hostname
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    name = f"[{host}]" if ":" in host else host
    host_header = name if port == (443 if secure else 80) else f"{name}:{port}"
    return secure, host, port, target, host_header


async def connect_websocket(url: str, *, max_message_size: int = DEFAULT_MAX_MESSAGE,
                            ssl_context: ssl.SSLContext | None = None,
                            extra_headers: list[tuple[bytes, bytes]] | None = None,
                            receive_size: int = RECEIVE_SIZE) -> WebSocket:
    """Open a websocket to ``url`` (``ws://`` or ``wss://``) and return it once the server
    accepted the upgrade. ``ssl_context`` is used for ``wss://`` (default:
    ``ssl.create_default_context()``). Bound the time with ``trio.fail_after``.

    Raises ``ValueError`` for a URL that is not ``ws(s)://host...``, ``OSError`` when the
    TCP/TLS connection cannot be made, and :class:`WebSocketHandshakeError` when the server
    refuses or botches the upgrade.
    """
    secure, host, port, target, host_header = _target(url)
    if secure and ssl_context is None:
        ssl_context = ssl.create_default_context()
    transport = await open_transport(host, port, ssl_context if secure else None, receive_size=receive_size)
    try:
        handshake = H11Handshake(ConnectionType.CLIENT)
        request = Request(host=host_header, target=target, extra_headers=list(extra_headers or ()))
        try:
            await transport.send_all(handshake.send(request))
            while True:
                data = await transport.receive()
                if not data:
                    raise WebSocketHandshakeError(
                        f"the server at {url} closed the connection during the websocket handshake")
                try:
                    handshake.receive_data(data)
                except RemoteProtocolError as exc:
                    raise WebSocketHandshakeError(f"invalid websocket handshake response from {url}: {exc}") from None
                for event in handshake.events():
                    if isinstance(event, AcceptConnection):
                        connection = handshake.connection
                        assert connection is not None
                        return WebSocket(transport, connection, url=url, max_message_size=max_message_size)
                    if isinstance(event, RejectConnection):
                        raise WebSocketHandshakeError(
                            f"the server at {url} refused the websocket upgrade with HTTP {event.status_code}",
                            event.status_code)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise WebSocketHandshakeError(f"the connection to {url} failed during the handshake: {exc!r}") from exc
    except BaseException:
        await trio.aclose_forcefully(transport)  # type: ignore[arg-type]
        raise
