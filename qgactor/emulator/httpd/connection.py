"""One HTTP/1.1 connection: h11 parses and frames everything, this loop does the I/O.

Requests are answered one after the other in the order they arrived (keep-alive and
pipelining), bodies come by Content-Length or chunked, ``Expect: 100-continue`` is
honoured. A malformed request gets h11's status (400, 431 for an oversized head, 501 for
an unknown transfer coding) and a body larger than ``max_body`` gets 413, each with a JSON
body saying what is wrong, then the connection closes. A websocket upgrade hands the
socket to :func:`.websocket.upgrade`.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Protocol
from urllib.parse import parse_qsl, unquote

import attrs
import h11
import trio

from ..http import Request, Response
from .sockio import SocketIO
from .websocket import WebsocketHandler, upgrade

__all__ = ["HttpApp", "HttpConnection", "ServerLimits", "http_date"]

log = logging.getLogger(__name__)

#: Seconds to keep reading (and discarding) after an error answer before closing, so the
#: client reads the answer instead of a connection reset.
LINGER = 1.0

_IDLE = h11.IDLE
_DONE = h11.DONE
_NEED_DATA = h11.NEED_DATA
_DATA = h11.Data
_END = h11.EndOfMessage
_REQUEST = h11.Request


@attrs.frozen
class ServerLimits:
    """Limits of the server (all connections)."""

    max_body: int = 20 * 1024 * 1024
    """Largest request body in bytes (413 past it)."""
    max_head: int = 16 * 1024
    """Largest request line + headers in bytes (431 past it)."""
    keep_alive_timeout: float = 30.0
    """Seconds a connection may wait for its peer (idle between requests, or a stalled
    request or response) before it is closed."""
    max_ws_message: int = 16 * 1024 * 1024
    """Largest websocket message in bytes (close 1009 past it)."""


class HttpApp(Protocol):
    """What the server serves."""

    async def http(self, request: Request) -> Response:
        """Answer one request (must not raise)."""

    def websocket(self, request: Request) -> WebsocketHandler | None:
        """The handler of a websocket upgrade on ``request.path`` (``None``: refused, 403)."""

    def refusal(self, status: int, message: str) -> Response:
        """The answer to a request the server refuses itself (400, 413, 431, ...)."""


_date_cache: list[object] = [0, b""]


def http_date() -> bytes:
    """The ``Date`` header value for now (formatted once per second)."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = email.utils.formatdate(now, usegmt=True).encode("ascii")
    return _date_cache[1]  # type: ignore[return-value]


class _Refused(Exception):
    """The request is refused with ``status``; the connection closes after the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HttpConnection:
    """Serves one client connection until it closes, breaks or idles out.

    ``scope`` is cancelled by the server's idle sweeper; ``upgraded`` is set once the
    connection became a websocket (the sweeper leaves it alone from then on).
    """

    __slots__ = ("io", "app", "limits", "scope", "upgraded", "_h11")

    def __init__(self, io: SocketIO, app: HttpApp, limits: ServerLimits) -> None:
        self.io = io
        self.app = app
        self.limits = limits
        self.scope = trio.CancelScope()
        self.upgraded = False
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_head)

    async def _more(self) -> None:
        try:
            data = await self.io.receive()
        except (OSError, trio.ClosedResourceError):
            data = b""
        self._h11.receive_data(data)

    async def serve(self) -> None:
        """Answer requests until the connection ends (never raises for protocol errors)."""
        conn = self._h11
        try:
            while True:
                try:
                    event = conn.next_event()
                    if event is _NEED_DATA:
                        await self._more()
                        continue
                    if type(event) is not _REQUEST:  # ConnectionClosed (PAUSED cannot happen here)
                        return
                    if not await self._exchange(event):
                        return
                except h11.RemoteProtocolError as exc:
                    if exc.error_status_hint == 431:
                        raise _Refused(431, f"request line and headers larger than {self.limits.max_head} "
                                       "bytes") from None
                    raise _Refused(exc.error_status_hint, f"malformed HTTP request: {exc}; "
                                   "send a valid HTTP/1.1 request") from None
                if conn.our_state is not _DONE or conn.their_state is not _DONE:
                    return  # Connection: close, HTTP/1.0, ...
                conn.start_next_cycle()
        except _Refused as refused:
            await self._refuse(refused.status, refused.message)
        finally:
            if not self.upgraded:
                self.io.close()

    async def _exchange(self, event: h11.Request) -> bool:
        """Read the body, answer; False when the connection is done (upgraded)."""
        conn = self._h11
        headers = {name.lower().decode("latin-1"): value.decode("latin-1")
                   for name, value in event.headers.raw_items()}
        target = event.target
        raw_path, _, qs = target.partition(b"?")
        path = raw_path.decode("latin-1")
        if "%" in path:
            path = unquote(path)
        query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        method = event.method.decode("ascii")
        max_body = self.limits.max_body
        length = headers.get("content-length")
        if length is not None and int(length) > max_body:
            raise _Refused(413, f"request body larger than {max_body} bytes")
        if conn.they_are_waiting_for_100_continue:
            await self.io.send_all(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        chunks: list[bytes] = []
        size = 0
        while True:
            item = conn.next_event()
            kind = type(item)
            if kind is _DATA:
                chunks.append(item.data)
                size += len(item.data)
                if size > max_body:
                    raise _Refused(413, f"request body larger than {max_body} bytes")
            elif kind is _END:
                break
            elif item is _NEED_DATA:
                await self._more()
            else:  # a connection closed mid-request is raised by h11 as RemoteProtocolError
                return False
        body = bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)
        request = Request(method, path, query, headers, body)
        if headers.get("upgrade", "").lower() == "websocket":
            self.upgraded = True
            await upgrade(self.io, event, conn.trailing_data[0], self.app.websocket(request),
                          self.limits.max_ws_message)
            return False
        response = await self.app.http(request)
        head = response.header_list()
        head.append((b"date", http_date()))
        out = conn.send(h11.Response(status_code=response.status, headers=head))
        if response.body and method != "HEAD":
            out += conn.send(h11.Data(data=response.body))
        out += conn.send(_END())
        try:
            await self.io.send_all(out)
        except (OSError, trio.ClosedResourceError):
            return False
        return True

    async def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` (if a response can still be sent) and close after a linger."""
        conn = self._h11
        if conn.our_state not in (_IDLE, h11.SEND_RESPONSE) or self.io.closed:
            return
        response = self.app.refusal(status, message)
        head = response.header_list()
        head += [(b"date", http_date()), (b"connection", b"close")]
        try:
            out = conn.send(h11.Response(status_code=status, headers=head))
            out += conn.send(h11.Data(data=response.body)) + conn.send(_END())
        except h11.LocalProtocolError:
            return
        try:
            await self.io.send_all(out)
            self.io.shutdown_write()
            with trio.move_on_after(LINGER):
                while await self.io.receive():
                    pass
        except (OSError, trio.ClosedResourceError):
            pass
