"""Byte transports under the websocket client: plain TCP read straight off the socket, or TLS.

:class:`SocketTransport` (``ws://``) reads its non-blocking socket directly: when the last
read drained the socket it first waits for readability and then reads once, instead of
trying a read that fails with ``EAGAIN`` and yielding to the scheduler after every
successful one (what ``trio.SocketStream.receive_some`` does). On a busy socket this saves
a system call and a scheduler pass per read. :class:`StreamTransport` (``wss://``) wraps
any :class:`trio.abc.Stream`, here a :class:`trio.SSLStream`.

Both have the same small interface: ``receive()`` (``b""`` at the end of the stream),
``send_all(data)`` and ``aclose()`` (idempotent; wakes a task waiting in ``receive()`` with
:class:`trio.ClosedResourceError`). A broken connection raises
:class:`trio.BrokenResourceError`. Only one task may receive at a time; senders must be
serialised by the caller (the websocket client holds a send lock).

``send_all`` either sends all of ``data``, or raises before sending any of it (a cancellation
already pending: the transport stays usable), or closes the transport: bytes sent part-way
(cancelled while the socket buffer was full, or failed) leave a frame cut in the middle, and
anything sent after it would be read by the server as the rest of that frame. A task waiting
in ``receive()`` then gets ``ClosedResourceError`` at once (the websocket reports 1006).
"""

from __future__ import annotations

import socket
import ssl
from typing import Protocol

import trio

__all__ = ["ByteTransport", "SocketTransport", "StreamTransport", "open_transport", "RECEIVE_SIZE"]

#: Bytes asked of the socket per read (a burst of gateway frames arrives in one read).
RECEIVE_SIZE = 1 << 16


class ByteTransport(Protocol):
    """What the websocket client needs from a byte stream (see the module docstring)."""

    async def receive(self) -> bytes:
        """The next bytes received (``b""`` at the end of the stream)."""

    async def send_all(self, data: bytes) -> None:
        """Send all of ``data``."""

    async def aclose(self) -> None:
        """Close the connection (idempotent)."""


class SocketTransport:
    """A connected TCP socket, read directly (see the module docstring).

    ``receive`` raises :class:`trio.ClosedResourceError` once :meth:`aclose` was called
    (also when it was called while waiting) and :class:`trio.BrokenResourceError` when the
    peer reset the connection.
    """

    __slots__ = ("_sock", "_stream", "_size", "_drained")

    def __init__(self, sock: socket.socket, *, receive_size: int = RECEIVE_SIZE) -> None:
        """Take ownership of the connected stream socket ``sock`` (made non-blocking)."""
        self._sock = sock
        # closes through trio (wraps ``sock`` itself, not a copy; sets TCP_NODELAY)
        self._stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
        self._size = receive_size
        self._drained = True  # the last read took everything there was: wait before reading

    def __repr__(self) -> str:
        return f"<SocketTransport fd={self._sock.fileno()}>"

    async def receive(self) -> bytes:
        """Read what has arrived (at most ``receive_size`` bytes); a checkpoint."""
        sock = self._sock
        if sock.fileno() < 0:
            raise trio.ClosedResourceError("the websocket's socket is closed")
        if self._drained:
            await trio.lowlevel.wait_readable(sock)
        else:  # the last read filled the buffer: more is likely there; stay a checkpoint anyway
            await trio.lowlevel.checkpoint()
        while True:
            try:
                data = sock.recv(self._size)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(sock)
                continue
            except OSError as exc:
                if sock.fileno() < 0:
                    raise trio.ClosedResourceError("the websocket's socket is closed") from None
                raise trio.BrokenResourceError(f"socket error: {exc!r}") from exc
            self._drained = len(data) < self._size
            return data

    async def send_all(self, data: bytes) -> None:
        """Send all of ``data``; a checkpoint. Closes the socket if interrupted part-way (see
        the module docstring)."""
        sock = self._sock
        await trio.lowlevel.checkpoint_if_cancelled()  # a pending cancel: nothing sent, still usable
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise self._send_error(exc) from None
        if sent == len(data):
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        view = memoryview(data)[sent:]
        try:
            while view:
                await trio.lowlevel.wait_writable(sock)
                try:
                    view = view[sock.send(view):]
                except BlockingIOError:  # pragma: no cover - a spurious wake-up
                    pass
        except BaseException as exc:
            if len(view) < len(data):  # a frame is cut: nothing may follow it
                self._stream.socket.close()
            if isinstance(exc, OSError):
                raise self._send_error(exc) from None
            raise

    def _send_error(self, exc: OSError) -> trio.ClosedResourceError | trio.BrokenResourceError:
        if self._sock.fileno() < 0:
            return trio.ClosedResourceError("the websocket's socket is closed")
        return trio.BrokenResourceError(f"socket error: {exc!r}")

    async def aclose(self) -> None:
        """Close the socket; a task waiting in :meth:`receive` gets ``ClosedResourceError``."""
        await self._stream.aclose()


class StreamTransport:
    """Any :class:`trio.abc.Stream` (a TLS stream for ``wss://``)."""

    __slots__ = ("_stream", "_size")

    def __init__(self, stream: trio.abc.Stream, *, receive_size: int = RECEIVE_SIZE) -> None:
        """Wrap ``stream``; reads ask for ``receive_size`` bytes."""
        self._stream = stream
        self._size = receive_size

    def __repr__(self) -> str:
        return f"<StreamTransport {type(self._stream).__name__}>"

    async def receive(self) -> bytes:
        """``stream.receive_some(receive_size)``."""
        return await self._stream.receive_some(self._size)

    async def send_all(self, data: bytes) -> None:
        """``stream.send_all(data)``; closes the stream if interrupted once under way (see the
        module docstring)."""
        await trio.lowlevel.checkpoint_if_cancelled()  # a pending cancel: nothing sent, still usable
        try:
            # no checkpoint between the one above and the stream's own: once past them, an
            # exception means a record went out in part (trio.SSLStream is then broken)
            await self._stream.send_all(data)
        except BaseException:
            await trio.aclose_forcefully(self._stream)
            raise

    async def aclose(self) -> None:
        """Close the stream without waiting for the peer (a TLS close_notify is not awaited)."""
        await trio.aclose_forcefully(self._stream)


async def _connect_tcp(host: str, port: int) -> socket.socket:
    infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    errors: list[OSError] = []
    for family, type_, proto, _name, address in infos:
        sock = socket.socket(family, type_, proto)
        try:
            await trio.socket.from_stdlib_socket(sock).connect(address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise OSError(f"could not connect to {host}:{port}: " + "; ".join(repr(e) for e in errors) if errors
                  else f"could not resolve {host}:{port}")


async def open_transport(host: str, port: int, ssl_context: ssl.SSLContext | None = None, *,
                         receive_size: int = RECEIVE_SIZE) -> SocketTransport | StreamTransport:
    """Connect to ``host:port``: a :class:`SocketTransport`, or with ``ssl_context`` a
    :class:`StreamTransport` over TLS (server name ``host``; the TLS handshake happens on the
    first send or receive). Raises ``OSError`` when no address accepts the connection."""
    if ssl_context is None:
        return SocketTransport(await _connect_tcp(host, port), receive_size=receive_size)
    stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=ssl_context, https_compatible=True)
    return StreamTransport(stream, receive_size=receive_size)
