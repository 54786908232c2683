"""Non-blocking socket I/O from trio: the only place the server touches sockets.

A :class:`SocketIO` wraps one connected stdlib socket in non-blocking mode. Each call first
tries the system call and only waits (``trio.lowlevel.wait_readable`` / ``wait_writable``)
when the kernel has no data or no buffer space. That skips trio's stream layer, whose
yield-before-and-after around every successful call cost ~20 us per send + receive pair here
against ~3 us for the calls themselves. So that a peer that always has data ready cannot
starve other tasks, every :data:`YIELD_EVERY`-th call that did not wait yields once.
"""

from __future__ import annotations

import socket

import trio

__all__ = ["SocketIO", "YIELD_EVERY", "RECEIVE_SIZE"]

#: Calls that completed without waiting before one yields to the scheduler.
YIELD_EVERY = 16
#: Bytes asked of the kernel per receive.
RECEIVE_SIZE = 65536


class SocketIO:
    """One connected stream socket, driven from trio tasks.

    At most one task may receive and one task may send at a time (trio raises
    ``BusyResourceError`` otherwise). ``waiting_since`` is the ``trio.current_time()`` at
    which the current wait for the peer began (``None`` while not waiting): the server's idle
    sweeper reads it.
    """

    __slots__ = ("sock", "closed", "waiting_since", "_unyielded")

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.closed = False
        self.waiting_since: float | None = None
        self._unyielded = 0

    async def _fair(self) -> None:
        self._unyielded += 1
        if self._unyielded >= YIELD_EVERY:
            self._unyielded = 0
            await trio.lowlevel.checkpoint()

    async def receive(self, max_bytes: int = RECEIVE_SIZE) -> bytes:
        """The next bytes from the peer; ``b""`` at end of stream.

        Raises ``OSError`` (e.g. ``ConnectionResetError``) when the connection broke and
        ``trio.ClosedResourceError`` when :meth:`close` was called meanwhile.
        """
        sock = self.sock
        try:
            data = sock.recv(max_bytes)
        except BlockingIOError:
            pass
        else:
            await self._fair()
            return data
        self._unyielded = 0
        self.waiting_since = trio.current_time()
        try:
            while True:
                await trio.lowlevel.wait_readable(sock)
                try:
                    return sock.recv(max_bytes)
                except BlockingIOError:
                    continue
        finally:
            self.waiting_since = None

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Write all of ``data`` (waiting while the socket buffer is full).

        Raises ``OSError`` (e.g. ``BrokenPipeError``) when the connection broke and
        ``trio.ClosedResourceError`` when :meth:`close` was called meanwhile.
        """
        sock = self.sock
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            await self._fair()
            return
        self._unyielded = 0
        view = memoryview(data)[sent:]
        self.waiting_since = trio.current_time()
        try:
            while view:
                await trio.lowlevel.wait_writable(sock)
                try:
                    view = view[sock.send(view):]
                except BlockingIOError:
                    continue
        finally:
            self.waiting_since = None

    def shutdown_write(self) -> None:
        """Send end-of-stream (FIN) but keep reading; errors are ignored."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        """Close the socket now (idempotent). Tasks waiting on it get ``ClosedResourceError``."""
        if self.closed:
            return
        self.closed = True
        try:
            trio.lowlevel.notify_closing(self.sock)
        except RuntimeError:  # no trio run (closed from a finaliser): nobody waits on it
            pass
        self.sock.close()

    def peer(self) -> str:
        """``host:port`` of the peer, for logs (``"?"`` once closed)."""
        try:
            host, port = self.sock.getpeername()[:2]
        except OSError:
            return "?"
        return f"{host}:{port}"
