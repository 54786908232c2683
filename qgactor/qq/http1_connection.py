"""One open connection of the HTTP/1.1 pool: bytes out, bytes in, over plain TCP or TLS.

``open_connection(host, port, ssl_context)`` connects with trio (``trio.open_tcp_stream``:
DNS in a thread, happy eyeballs; for TLS ``trio.open_ssl_over_tcp_stream`` with SNI and the
handshake done here). A plain connection then takes the socket out of its trio stream and does
non-blocking ``send``/``recv`` on it directly, waiting with ``trio.lowlevel.wait_readable`` /
``wait_writable``: the REST hot path writes one small request and reads one small answer per
exchange, and the stream layer's per-call bookkeeping (conflict detectors, a try-first
``recv`` that fails, a checkpoint after each call) cost more than the I/O. A TLS connection
keeps its ``trio.SSLStream``. Both have the same small interface for ``qgactor.qq.transport``:

- ``await send(data)`` writes everything; returns ``True`` if it had to wait for the socket
  (the caller restarts its read deadline only then).
- ``await receive()`` returns the next bytes, ``b""`` at the end of the connection. It always
  waits for the socket first: it is only called when an answer is expected, so it is a trio
  checkpoint every time.
- ``readable()``: an *idle* connection has something to read (EOF or stray bytes).
- ``close()`` closes the socket at once (no TLS close_notify), never blocks, never raises.

Failures raise what the socket raises (``OSError``, ``trio.BrokenResourceError``,
``trio.ClosedResourceError``, ``ssl.SSLError`` on connect); the transport maps them.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

import trio

__all__ = ["PlainConnection", "TlsConnection", "open_connection"]

READ_SIZE = 65536
_HAS_POLL = hasattr(select, "poll")  # select.select() cannot watch fds above FD_SETSIZE (1024)


def _readable_fd(fd: int) -> bool:
    try:
        if _HAS_POLL:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([fd], [], [], 0)  # pragma: no cover - Windows
    except (OSError, ValueError):
        return True
    return bool(readable)


class PlainConnection:
    """A TCP connection driven directly on its non-blocking socket (see the module docstring)."""

    __slots__ = ("socket", "idle_since", "reused")

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.socket = sock
        #: When it last went idle (trio clock), and whether it carried a request before.
        self.idle_since = 0.0
        self.reused = False

    async def send(self, data: bytes) -> bool:
        """Write all of ``data``; ``True`` if the socket's buffer was full and we waited."""
        sock = self.socket
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return False
        view = memoryview(data)[sent:]
        while view:
            await trio.lowlevel.wait_writable(sock)
            try:
                view = view[sock.send(view):]
            except BlockingIOError:
                pass
        return True

    async def receive(self) -> bytes:
        """The next bytes from the server, ``b""`` once it closed the connection."""
        sock = self.socket
        while True:
            await trio.lowlevel.wait_readable(sock)
            try:
                return sock.recv(READ_SIZE)
            except BlockingIOError:  # pragma: no cover - a spurious wake-up
                continue

    def readable(self) -> bool:
        """True if the idle connection's socket has something to read (EOF or stray bytes)."""
        return _readable_fd(self.socket.fileno())

    def close(self) -> None:
        """Close the socket now (a task waiting on it gets ``ClosedResourceError``)."""
        sock = self.socket
        if sock.fileno() >= 0:
            trio.lowlevel.notify_closing(sock)
            sock.close()


class TlsConnection:
    """A TLS connection over a ``trio.SSLStream`` (see the module docstring)."""

    __slots__ = ("stream", "_socket", "idle_since", "reused")

    def __init__(self, stream: trio.SSLStream[Any]) -> None:
        self.stream = stream
        self._socket: Any = stream.transport_stream.socket  # type: ignore[attr-defined]
        self.idle_since = 0.0
        self.reused = False

    async def send(self, data: bytes) -> bool:
        """Write all of ``data`` (TLS records); always reported as having waited."""
        await self.stream.send_all(data)
        return True

    async def receive(self) -> bytes:
        """The next decrypted bytes, ``b""`` once the server closed the connection."""
        return await self.stream.receive_some(READ_SIZE)

    def readable(self) -> bool:
        """True if the idle connection's socket has something to read (EOF, an alert, stray bytes)."""
        return _readable_fd(self._socket.fileno())

    def close(self) -> None:
        """Close the socket now, without a TLS close_notify."""
        self._socket.close()


async def open_connection(host: str, port: int, ssl_context: ssl.SSLContext | None) -> PlainConnection | TlsConnection:
    """Connect to ``host:port`` (TLS with ``ssl_context`` and SNI ``host`` when given, handshake
    included). Raises ``OSError``, ``trio.BrokenResourceError`` or ``ssl.SSLError``."""
    if ssl_context is not None:
        stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=ssl_context, https_compatible=True)
        try:
            await stream.do_handshake()
        except BaseException:
            stream.transport_stream.socket.close()  # type: ignore[attr-defined]
            raise
        return TlsConnection(stream)
    tcp = await trio.open_tcp_stream(host, port)  # sets TCP_NODELAY
    return PlainConnection(socket.socket(fileno=tcp.socket.detach()))
