"""The accept loop, the idle sweeper and the per-connection error boundary."""

from __future__ import annotations

import errno
import logging
import socket

import trio

from .connection import HttpApp, HttpConnection, ServerLimits
from .sockio import SocketIO

__all__ = ["HttpServer", "bind", "base_url", "BACKLOG"]

log = logging.getLogger(__name__)

#: Pending connections the kernel queues (capped by ``net.core.somaxconn``): clients that open
#: a connection per request (qq-botpy) open hundreds at once in a burst.
BACKLOG = 1024

_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = a free port).

    Raises ``OSError`` when the address cannot be bound (port taken, unknown host).
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a listening socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class HttpServer:
    """Serves ``app`` on listening sockets: one task per connection.

    A failing connection is logged with its traceback and closed; the others go on.
    Connections waiting on their peer longer than ``limits.keep_alive_timeout`` (idle
    keep-alive, a stalled request or a client that does not read its response) are closed;
    websockets are left to their handler. Cancelling :meth:`serve` closes every connection.
    """

    def __init__(self, app: HttpApp, limits: ServerLimits | None = None) -> None:
        self.app = app
        self.limits = limits or ServerLimits()
        self.connections: set[HttpConnection] = set()
        self.accepted = 0

    async def serve(self, listener: socket.socket, *,
                    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Accept on ``listener`` until cancelled; it is closed when this returns."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._sweep)
                task_status.started()
                await self._accept(listener, nursery)
        finally:
            try:
                trio.lowlevel.notify_closing(listener)
            except RuntimeError:
                pass
            listener.close()

    async def _accept(self, listener: socket.socket, nursery: trio.Nursery) -> None:
        while True:
            await trio.lowlevel.wait_readable(listener)
            while True:
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno in _OUT_OF_RESOURCES:
                        log.warning("emulator server cannot accept connections (%s); retrying in 0.1 s", exc)
                        await trio.sleep(0.1)
                    break  # ECONNABORTED and the like: the client is gone already
                self.accepted += 1
                nursery.start_soon(self._connection, sock)

    async def _connection(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        io = SocketIO(sock)
        conn = HttpConnection(io, self.app, self.limits)
        self.connections.add(conn)
        try:
            with conn.scope:
                await conn.serve()
        except Exception:
            log.exception("emulator connection from %s failed; closed it (other connections are unaffected)",
                          io.peer())
        finally:
            self.connections.discard(conn)
            io.close()

    async def _sweep(self) -> None:
        timeout = self.limits.keep_alive_timeout
        while True:
            await trio.sleep(min(1.0, timeout / 4))
            now = trio.current_time()
            for conn in list(self.connections):
                since = conn.io.waiting_since
                if since is not None and not conn.upgraded and now - since >= timeout:
                    log.debug("closing a connection idle for %.3g s", now - since)
                    conn.scope.cancel()
