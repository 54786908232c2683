"""One HTTP/1.1 connection: httptools (llhttp) parses requests, this loop does the I/O.

Requests are answered one after the other in the order they arrived (keep-alive and
pipelining), bodies come by Content-Length or chunked, ``Expect: 100-continue`` is
honoured. Answers are written by :mod:`.wire`. A malformed request gets 400 (431 for an
oversized head, 501 for a transfer coding other than ``chunked``) and a body larger than
``max_body`` gets 413, each with a JSON body saying what is wrong, after the answers to the
requests before it; then the connection closes. A websocket upgrade hands the socket to
:func:`.websocket.upgrade`.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections import deque
from typing import Protocol
from urllib.parse import parse_qsl, unquote

import attrs
import httptools
import trio

from ..http import Request, Response
from .sockio import SocketIO
from .websocket import WebsocketHandler, upgrade
from .wire import CONTINUE, HeaderInjectionError, serialize_response

__all__ = ["HttpApp", "HttpConnection", "ServerLimits", "http_date"]

log = logging.getLogger(__name__)

#: Seconds to keep reading (and discarding) after an error answer before closing, so the
#: client reads the answer instead of a connection reset.
LINGER = 1.0


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


class _Parsed:
    """One complete request as parsed, waiting for its answer."""

    __slots__ = ("request", "keep_alive", "raw_headers", "target", "version", "trailing")

    def __init__(self, request: Request, keep_alive: bool, raw_headers: list[tuple[bytes, bytes]],
                 target: bytes, version: str) -> None:
        self.request = request
        self.keep_alive = keep_alive
        self.raw_headers = raw_headers
        self.target = target
        self.version = version
        self.trailing = b""


class HttpConnection:
    """Serves one client connection until it closes, breaks or idles out.

    ``scope`` is cancelled by the server's idle sweeper; ``upgraded`` is set once the
    connection became a websocket (the sweeper leaves it alone from then on). The
    ``on_*`` methods are httptools' parser callbacks (not for other callers).
    """

    __slots__ = ("io", "app", "limits", "scope", "upgraded", "_parser", "_ready", "_stopped", "_in_head",
                 "_head_size", "_head_fed", "_url", "_raw", "_headers", "_chunks", "_size", "_expect",
                 "_continued")

    def __init__(self, io: SocketIO, app: HttpApp, limits: ServerLimits) -> None:
        self.io = io
        self.app = app
        self.limits = limits
        self.scope = trio.CancelScope()
        self.upgraded = False
        self._parser = httptools.HttpRequestParser(self)
        self._ready: deque[_Parsed | _Refused] = deque()
        self._stopped = False  # nothing more is parsed (an error or an upgrade is queued)
        self._in_head = False
        self._head_size = 0
        self._head_fed = 0
        self._url = b""
        self._raw: list[tuple[bytes, bytes]] = []
        self._headers: dict[str, str] = {}
        self._chunks: list[bytes] = []
        self._size = 0
        self._expect = False
        self._continued = False

    # ------------------------------------------------------------------ parser callbacks
    def on_message_begin(self) -> None:
        """A request starts."""
        self._in_head = True
        self._head_size = self._head_fed = 0
        self._url = b""
        self._raw = []
        self._headers = {}
        self._chunks = []
        self._size = 0
        self._expect = self._continued = False

    def on_url(self, part: bytes) -> None:
        """A part of the request target."""
        self._url += part
        self._head_size += len(part)
        if self._head_size > self.limits.max_head:
            raise _Refused(431, f"request line and headers larger than {self.limits.max_head} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header line (checked with the others when the head is complete)."""
        self._raw.append((name, value))

    def on_headers_complete(self) -> None:
        """The head is complete: check it before any body is read."""
        self._in_head = False
        raw = self._raw
        max_head = self.limits.max_head
        if self._head_size + sum([len(n) + len(v) + 4 for n, v in raw]) > max_head:
            raise _Refused(431, f"request line and headers larger than {max_head} bytes")
        self._headers = headers = {n.decode("latin-1").lower(): v.decode("latin-1").rstrip(" \t") for n, v in raw}
        if self._parser.get_http_version() == "1.1":
            hosts = 1 if len(headers) == len(raw) else sum([n.lower() == b"host" for n, _ in raw])
            if "host" not in headers or hosts != 1:
                raise _Refused(400, "malformed HTTP request: " + ("missing Host header" if "host" not in headers
                               else "more than one Host header") + "; send exactly one Host header")
            self._expect = headers.get("expect", "").lower() == "100-continue"
        coding = headers.get("transfer-encoding")
        if coding is not None and coding.lower() != "chunked":
            raise _Refused(501, f"unsupported Transfer-Encoding {coding!r}; send the body with "
                           "Content-Length or Transfer-Encoding: chunked")
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limits.max_body:
            raise _Refused(413, f"request body larger than {self.limits.max_body} bytes")

    def on_body(self, data: bytes) -> None:
        """A part of the body."""
        self._chunks.append(data)
        self._size += len(data)
        if self._size > self.limits.max_body:
            raise _Refused(413, f"request body larger than {self.limits.max_body} bytes")

    def on_message_complete(self) -> None:
        """The request is complete: queue it for its answer."""
        self._expect = False
        headers = self._headers
        target = self._url
        raw_path, _, qs = target.partition(b"?")
        path = raw_path.decode("latin-1")
        if "%" in path:
            path = unquote(path)
        query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        parser = self._parser
        method = parser.get_method().decode("ascii")
        version = parser.get_http_version()
        chunks = self._chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        keep_alive = version == "1.1"
        connection = headers.get("connection")
        if keep_alive and connection is not None and "close" in [t.strip() for t in connection.lower().split(",")]:
            keep_alive = False
        self._ready.append(_Parsed(Request(method, path, query, headers, body), keep_alive, self._raw,
                                   target, version))

    # ------------------------------------------------------------------ I/O
    def _feed(self, data: bytes) -> None:
        """Parse ``data``; complete requests (and a refusal or upgrade) go to ``_ready``."""
        while True:
            try:
                self._parser.feed_data(data)
                return
            except httptools.HttpParserUpgrade as up:
                rest = data[up.args[0]:]
                last = self._ready[-1] if self._ready else None
                if type(last) is _Parsed and last.request.headers.get("upgrade", "").lower() == "websocket":
                    last.trailing = rest
                    self._stopped = True
                    return
                # another protocol (h2c, CONNECT): answered as a plain request, parsing goes on
                self._parser = httptools.HttpRequestParser(self)
                self._in_head = False
                if not rest:
                    return
                data = rest
            except httptools.HttpParserError as exc:
                cause = exc.__context__
                if isinstance(cause, _Refused):
                    self._ready.append(cause)
                else:
                    self._ready.append(_Refused(400, f"malformed HTTP request: {exc}; send a valid "
                                                     "HTTP/1.1 request"))
                self._stopped = True
                return

    async def serve(self) -> None:
        """Answer requests until the connection ends (never raises for protocol errors)."""
        ready = self._ready
        try:
            while True:
                while ready:
                    item = ready.popleft()
                    if type(item) is _Refused:
                        await self._refuse(item.status, item.message)
                        return
                    if not await self._answer(item):  # type: ignore[arg-type]
                        return
                if self._stopped:
                    return
                if self._expect and not self._continued and not self._in_head and not self._size:
                    self._continued = True
                    await self.io.send_all(CONTINUE)
                try:
                    data = await self.io.receive()
                except (OSError, trio.ClosedResourceError):
                    return
                if not data:
                    return  # the peer is gone (a request cut short is dropped)
                in_head = self._in_head
                self._feed(data)
                if in_head and self._in_head and not self._stopped:  # a head still growing
                    self._head_fed += len(data)
                    if self._head_fed > self.limits.max_head:
                        ready.append(_Refused(431, "request line and headers larger than "
                                                   f"{self.limits.max_head} bytes"))
                        self._stopped = True
        except (OSError, trio.ClosedResourceError):
            pass
        finally:
            if not self.upgraded:
                self.io.close()

    async def _answer(self, parsed: _Parsed) -> bool:
        """Answer one request; False when the connection is done (closed or upgraded)."""
        request = parsed.request
        if request.headers.get("upgrade", "").lower() == "websocket":
            return await self._upgrade(parsed)
        response = await self.app.http(request)
        try:
            out = serialize_response(response.status, response.header_list(), response.body, http_date(),
                                     head_only=request.method == "HEAD", close=not parsed.keep_alive)
        except (HeaderInjectionError, ValueError) as exc:
            log.error("emulator answer to %s %s refused: %s", request.method, request.path, exc, exc_info=True)
            await self._refuse(500, f"the emulator built an invalid response ({exc}); this is an emulator bug")
            return False
        await self.io.send_all(out)
        return parsed.keep_alive

    async def _upgrade(self, parsed: _Parsed) -> bool:
        self.upgraded = True
        await upgrade(self.io, parsed.raw_headers, parsed.target, parsed.version, parsed.trailing,
                      self.app.websocket(parsed.request), self.limits.max_ws_message)
        return False

    async def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` and close after a linger."""
        if self.io.closed:
            return
        response = self.app.refusal(status, message)
        out = serialize_response(status, response.header_list(), response.body, http_date(), close=True)
        try:
            await self.io.send_all(out)
            self.io.shutdown_write()
            with trio.move_on_after(LINGER):
                while await self.io.receive():
                    pass
        except (OSError, trio.ClosedResourceError):
            pass
