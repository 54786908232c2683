"""One open connection of the HTTP/1.1 pool: bytes out, bytes in, over plain TCP or TLS.

``open_connection(host, port, ssl_context)`` connects with ``trio.open_tcp_stream`` (DNS in a
thread, happy eyeballs, ``TCP_NODELAY``), then takes the socket out of the trio stream and
does non-blocking ``send``/``recv`` on it directly, waiting with
``trio.lowlevel.wait_readable``/``wait_writable``: the REST hot path writes one small request
and reads one small answer per exchange, and the stream layers' per-call bookkeeping
(conflict detectors, a ``recv`` tried before waiting that fails, a checkpoint after each call,
``trio.SSLStream``'s retry loop) cost more than the I/O itself. TLS is an ``ssl.SSLObject``
over two memory BIOs, pumped through that socket: the handshake here (SNI and certificate
checks of ``ssl_context``), records encrypted and decrypted as they pass. Both kinds have the
same small interface for ``qgactor.qq.transport``:

- ``await send(data)`` writes everything; returns ``True`` if it had to wait for the socket
  (the caller restarts its read deadline only then).
- ``await receive()`` returns the next bytes, ``b""`` at the end of the connection. It always
  waits for the socket first: it is only called when an answer is expected, so it is a trio
  checkpoint every time.
- ``clean_eof``: after ``receive()`` returned ``b""``, whether that end can be trusted. Always
  true for TCP; for TLS only if the server sent ``close_notify`` first: without it the end may
  be a forged FIN (RFC 9112 9.8), so the transport does not let it complete a body that only
  the close delimits (a framed body is complete or not by its own framing).
- ``readable()``: an *idle* connection has something to read (EOF or stray bytes).
- ``close()`` closes the socket at once (no TLS close_notify), never blocks, never raises.

Failures raise what the socket raises: ``OSError`` (``ssl.SSLError`` is one),
``trio.ClosedResourceError`` if closed meanwhile; the transport maps them.
"""

from __future__ import annotations

import select
import socket
import ssl

import trio

__all__ = ["PlainConnection", "TlsConnection", "open_connection", "READ_SIZE"]

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


async def _send_all(sock: socket.socket, data: bytes) -> bool:
    """Write all of ``data`` on a non-blocking socket; ``True`` if it had to wait."""
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
        except BlockingIOError:  # pragma: no cover - a spurious wake-up
            pass
    return True


async def _receive(sock: socket.socket) -> bytes:
    """Wait for the socket, then read what is there (``b""``: the end of the connection)."""
    while True:
        await trio.lowlevel.wait_readable(sock)
        try:
            return sock.recv(READ_SIZE)
        except BlockingIOError:  # pragma: no cover - a spurious wake-up
            continue


def _close(sock: socket.socket) -> None:
    if sock.fileno() >= 0:
        trio.lowlevel.notify_closing(sock)  # a task waiting on it gets ClosedResourceError
        sock.close()


class PlainConnection:
    """A TCP connection driven directly on its non-blocking socket (see the module docstring)."""

    __slots__ = ("socket", "idle_since", "reused")

    #: The end of a TCP connection is the end (see the module docstring).
    clean_eof = True

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        #: When it last went idle (trio clock), and whether it carried a request before.
        self.idle_since = 0.0
        self.reused = False

    async def send(self, data: bytes) -> bool:
        """Write all of ``data``; ``True`` if the socket's buffer was full and we waited."""
        return await _send_all(self.socket, data)

    async def receive(self) -> bytes:
        """The next bytes from the server, ``b""`` once it closed the connection."""
        return await _receive(self.socket)

    def readable(self) -> bool:
        """True if the idle connection's socket has something to read (EOF or stray bytes)."""
        return _readable_fd(self.socket.fileno())

    def close(self) -> None:
        """Close the socket now."""
        _close(self.socket)


class TlsConnection:
    """A TLS connection: an ``ssl.SSLObject`` pumped through the socket (see the module docstring)."""

    __slots__ = ("socket", "_tls", "_incoming", "_outgoing", "_eof", "clean_eof", "idle_since", "reused")

    def __init__(self, sock: socket.socket, ssl_context: ssl.SSLContext, host: str) -> None:
        self.socket = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = ssl_context.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        self._eof = False
        #: The server's close_notify arrived before the end of the TCP connection.
        self.clean_eof = False
        self.idle_since = 0.0
        self.reused = False

    async def handshake(self) -> None:
        """The TLS handshake; raises ``ssl.SSLError`` (``SSLCertVerificationError``, or
        ``SSLEOFError`` if the server hangs up) or ``OSError``."""
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                await self._pull("during the TLS handshake")
            else:
                await self._flush()
                return

    async def send(self, data: bytes) -> bool:
        """Encrypt and write all of ``data``; ``True`` if the socket's buffer was full and we waited."""
        while True:
            try:
                self._tls.write(data)
                break
            except ssl.SSLWantReadError:  # pragma: no cover - a TLS 1.2 renegotiation in progress
                await self._flush()
                await self._pull("during a TLS renegotiation")
        return await _send_all(self.socket, self._outgoing.read())

    async def receive(self) -> bytes:
        """The next decrypted bytes, ``b""`` once the server closed the connection, with
        ``close_notify`` (then ``clean_eof`` is set) or without. Raises ``ssl.SSLError`` for a
        broken record."""
        tls = self._tls
        incoming = self._incoming
        while True:
            if incoming.pending or tls.pending():
                data: bytes | None
                try:
                    data = tls.read(READ_SIZE)
                except ssl.SSLWantReadError:
                    data = None  # an incomplete record, or only handshake messages (tickets)
                except ssl.SSLEOFError:  # the TCP end without close_notify
                    data = b""
                except ssl.SSLZeroReturnError:
                    data = b""
                    self.clean_eof = not self._eof
                else:
                    # b"": close_notify; seen before the TCP end, so not an unexpected EOF that
                    # a context (OP_IGNORE_UNEXPECTED_EOF) lets pass as one
                    if not data:
                        self.clean_eof = not self._eof
                if self._outgoing.pending:  # e.g. the answer to a key update
                    await self._flush()
                if data is not None:
                    return data
            if self._eof:
                return b""
            raw = await _receive(self.socket)
            if raw:
                incoming.write(raw)
            else:
                self._eof = True
                incoming.write_eof()

    async def _pull(self, when: str) -> None:
        raw = await _receive(self.socket)
        if not raw:
            raise ssl.SSLEOFError(f"the server closed the connection {when}")
        self._incoming.write(raw)

    async def _flush(self) -> None:
        if self._outgoing.pending:
            await _send_all(self.socket, self._outgoing.read())

    def readable(self) -> bool:
        """True if the idle connection has something to read (EOF, an alert, stray bytes)."""
        return bool(self._incoming.pending or self._tls.pending()) or _readable_fd(self.socket.fileno())

    def close(self) -> None:
        """Close the socket now, without a TLS close_notify."""
        _close(self.socket)


async def open_connection(host: str, port: int, ssl_context: ssl.SSLContext | None) -> PlainConnection | TlsConnection:
    """Connect to ``host:port`` (TLS with ``ssl_context`` and SNI ``host`` when given, handshake
    included). Raises ``OSError`` (``ssl.SSLError`` included)."""
    tcp = await trio.open_tcp_stream(host, port)  # sets TCP_NODELAY
    sock = socket.socket(fileno=tcp.socket.detach())
    sock.setblocking(False)
    if ssl_context is None:
        return PlainConnection(sock)
    try:
        conn = TlsConnection(sock, ssl_context, host)  # raises for a context that cannot be a client's
        await conn.handshake()
    except BaseException:
        _close(sock)
        raise
    return conn
