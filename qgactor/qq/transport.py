"""A lean HTTP/1.1 keep-alive connection pool on trio streams, speaking HTTP with ``h11``.

The REST hot path sends small JSON requests to one origin, many at once. ``ConnectionPool``
does only that, and cheaply: no cookies, no redirects, no proxies, no URL re-parsing, no
scan of every connection per request.

- One pool per origin (``Origin``: scheme, host, port). Connections are opened with
  ``trio.open_tcp_stream`` (``http``) or ``trio.open_ssl_over_tcp_stream`` (``https``: the
  default ``ssl`` context, SNI and ALPN ``http/1.1``), kept alive and reused.
- Idle connections wait on a LIFO stack (the most recently used first: it is the least likely
  to have been closed by the server); one idle longer than ``keepalive_expiry``, or one the
  server has closed meanwhile (its socket is readable: EOF or stray bytes), is closed instead
  of reused.
- At most ``max_connections`` requests are in flight; more wait for a slot (``PoolTimeout``).
- A connection is discarded after an error, a timeout, a cancellation, ``Connection: close``
  or anything else that leaves its ``h11`` state machine other than ready for the next request.
- An idempotent request (GET, HEAD, PUT, DELETE, OPTIONS) on a *reused* connection that fails
  before any byte of the answer arrived (the server closed the connection as we sent) is sent
  once more on a fresh connection. Any other request is not: the server may have processed it
  before closing (RFC 9110 9.2.2), so it raises ``ReadError`` and ``qgactor.qq.http`` decides
  (a send with a platform dedup key is retried there, a plain POST is not). That is the only
  retry here; timeouts and failures after the answer started are raised.
- Timeouts (``timeout`` seconds each for waiting for a slot, connecting, writing and reading
  the answer) raise ``PoolTimeout``, ``ConnectTimeout``, ``WriteTimeout`` and ``ReadTimeout``.

Errors form one hierarchy under ``TransportError`` (defined in ``qgactor.qq.transport_errors``,
re-exported here); ``NotSentError`` marks the failures after which the request provably never
reached the server (connect errors, pool timeouts).
"""

from __future__ import annotations

import json as jsonlib
import logging
import select
import ssl
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import attrs
import h11
import trio

from qgactor.qq.transport_errors import (
    ConnectError,
    ConnectTimeout,
    NotSentError,
    PoolTimeout,
    ProtocolError,
    ReadError,
    ReadTimeout,
    TransportError,
    WriteError,
    WriteTimeout,
)

__all__ = [
    "Origin", "Response", "ConnectionPool", "default_ssl_context",
    "TransportError", "NotSentError", "ConnectError", "ConnectTimeout", "PoolTimeout",
    "ReadTimeout", "WriteTimeout", "ReadError", "WriteError", "ProtocolError",
]

log = logging.getLogger(__name__)

_READ_SIZE = 65536
#: Methods a stale keep-alive connection may resend (RFC 9110 9.2.2: idempotent).
_RESENDABLE = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _Stale(Exception):
    """Internal: a reused connection failed before any answer byte (safe to resend once)."""


@attrs.frozen
class Origin:
    """Scheme, host and port of a server: ``Origin.parse("https://api.sgroup.qq.com/x")``."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Origin:
        """The origin of an absolute ``http``/``https`` URL; raises ``ValueError`` for anything else."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an absolute http:// or https:// URL, got {url!r}")
        port = parts.port or (443 if scheme == "https" else 80)
        return cls(scheme, parts.hostname, port)

    @property
    def host_header(self) -> str:
        """The ``Host`` header value (the port only when it is not the scheme's default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@attrs.define(slots=True)
class Response:
    """An HTTP answer: ``status_code``, ``headers`` (lower-cased names; repeated ones joined
    with ``", "``) and the decoded body bytes ``content``."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` if it is not JSON."""
        return jsonlib.loads(self.content)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")


class _Connection:
    __slots__ = ("stream", "h11", "idle_since", "reused")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self.reused = False


def default_ssl_context() -> ssl.SSLContext:
    """``ssl.create_default_context()`` with ALPN ``http/1.1``; if the system store has no CA
    certificates and ``certifi`` is installed, its bundle is loaded instead."""
    ctx = ssl.create_default_context()
    if not ctx.cert_store_stats().get("x509_ca"):
        try:
            import certifi
        except ImportError:  # pragma: no cover - certifi comes with httpx
            pass
        else:
            ctx.load_verify_locations(certifi.where())
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class ConnectionPool:
    """Persistent HTTP/1.1 connections to one ``origin`` (see the module docstring).

    ``ConnectionPool(origin, *, max_connections=32, keepalive_expiry=4.0, ssl_context=None)``;
    ``ssl_context`` is used for ``https`` (default: ``default_ssl_context()``, built on first
    use). ``await pool.request(...)`` sends one request; ``await pool.aclose()`` closes every
    connection (requests in flight keep theirs until they finish, then close it).
    """

    def __init__(self, origin: Origin, *, max_connections: int = 32, keepalive_expiry: float = 4.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        self.origin = origin
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._slots = trio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._active: set[_Connection] = set()
        self._closed = False
        #: Connections opened so far (for tests and benchmarks).
        self.opened = 0

    def __repr__(self) -> str:
        o = self.origin
        return (f"<ConnectionPool {o.scheme}://{o.host}:{o.port} idle={len(self._idle)} "
                f"active={len(self._active)} opened={self.opened}>")

    @property
    def idle_count(self) -> int:
        """Connections kept open waiting for the next request."""
        return len(self._idle)

    async def request(self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes = b"",
                      *, timeout: float = 10.0) -> Response:
        """Send ``method target`` with ``headers`` (``Host`` and ``Content-Length`` are added)
        and ``body``; return the complete ``Response``.

        Raises the ``TransportError`` family (``NotSentError`` subclasses when the request
        provably was not sent) and ``RuntimeError`` after ``aclose()``.
        """
        if self._closed:
            raise RuntimeError("this connection pool is closed; create a new one")
        head = [("host", self.origin.host_header), *headers]
        if body or method not in ("GET", "HEAD", "DELETE"):
            head.append(("content-length", str(len(body))))
        try:
            h11_request = h11.Request(method=method, target=target, headers=head)
        except h11.LocalProtocolError as exc:
            raise ValueError(f"invalid HTTP request {method} {target!r}: {exc}") from None
        slots = self._slots
        try:
            slots.acquire_nowait()
        except trio.WouldBlock:
            with trio.move_on_after(timeout) as waiting:
                await slots.acquire()
            if waiting.cancelled_caught:
                raise PoolTimeout(f"all {self.max_connections} connections stayed busy for {timeout:g}s") from None
        try:
            conn = self._pop_idle()
            if conn is None:
                conn = await self._connect(timeout)
            try:
                return await self._exchange(conn, h11_request, body, timeout)
            except _Stale as stale:
                if method not in _RESENDABLE:
                    raise ReadError(f"the server closed the kept-alive connection without answering "
                                    f"{method} {target}; the request may have been processed") from stale
                log.debug("%s %s: reused connection was closed by the server, resending once", method, target)
                conn = await self._connect(timeout)
                return await self._exchange(conn, h11_request, body, timeout)
        finally:
            slots.release()

    def _pop_idle(self) -> _Connection | None:
        idle = self._idle
        if not idle:
            return None
        now = trio.current_time()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since <= self.keepalive_expiry and not _readable(conn):
                return conn
            _close_now(conn)
        return None

    async def _connect(self, timeout: float) -> _Connection:
        origin = self.origin
        try:
            with trio.fail_after(timeout):
                if origin.scheme == "https":
                    if self._ssl_context is None:
                        self._ssl_context = default_ssl_context()
                    stream: trio.abc.Stream = await trio.open_ssl_over_tcp_stream(
                        origin.host, origin.port, ssl_context=self._ssl_context, https_compatible=True)
                    await stream.do_handshake()  # type: ignore[attr-defined]
                else:
                    stream = await trio.open_tcp_stream(origin.host, origin.port)
        except trio.TooSlowError:
            raise ConnectTimeout(f"connecting to {origin.host}:{origin.port} took over {timeout:g}s") from None
        except (OSError, trio.BrokenResourceError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        self.opened += 1
        return _Connection(stream)

    async def _exchange(self, conn: _Connection, request: h11.Request, body: bytes, timeout: float) -> Response:
        """One request/response cycle on ``conn``; puts it back on the idle stack or closes it."""
        if self._closed:
            _close_now(conn)
            raise RuntimeError("this connection pool is closed; create a new one")
        self._active.add(conn)
        h = conn.h11
        stream = conn.stream
        reused = conn.reused
        received = False
        done = False
        eof = False  # a body delimited by the end of the connection leaves h11 in DONE/DONE
        try:
            phase = "write"
            with trio.CancelScope(deadline=trio.current_time() + timeout) as scope:
                data = h.send(request) + (h.send(h11.Data(data=body)) if body else b"") + h.send(h11.EndOfMessage())
                try:
                    await stream.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    if reused:
                        raise _Stale() from exc
                    raise WriteError(f"sending the request failed: {exc}") from exc
                phase = "read"
                scope.deadline = trio.current_time() + timeout
                status = 0
                raw_headers: list[tuple[bytes, bytes]] = []
                chunks: list[bytes] = []
                while True:
                    event = h.next_event()
                    if event is h11.NEED_DATA:
                        try:
                            chunk = await stream.receive_some(_READ_SIZE)
                        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                            if reused and not received:
                                raise _Stale() from exc
                            raise ReadError(f"reading the answer failed: {exc}") from exc
                        if not chunk:
                            if reused and not received:
                                raise _Stale()
                            eof = True
                        received = True
                        h.receive_data(chunk)
                    elif type(event) is h11.Response:
                        status = event.status_code
                        raw_headers = event.headers  # type: ignore[assignment]
                    elif type(event) is h11.Data:
                        chunks.append(event.data)  # type: ignore[union-attr]
                    elif type(event) is h11.EndOfMessage:
                        break
                    elif type(event) is h11.InformationalResponse:
                        continue
                    else:
                        raise ProtocolError(f"unexpected HTTP event {type(event).__name__}")
            if scope.cancelled_caught:
                if phase == "write":
                    raise WriteTimeout(f"sending the request took over {timeout:g}s")
                raise ReadTimeout(f"no complete answer within {timeout:g}s")
            done = True
        except h11.RemoteProtocolError as exc:
            raise ProtocolError(f"the server broke HTTP/1.1: {exc}") from exc
        except h11.LocalProtocolError as exc:
            raise ProtocolError(f"invalid request: {exc}") from exc
        finally:
            self._active.discard(conn)
            if done and not eof and h.our_state is h11.DONE and h.their_state is h11.DONE and not self._closed:
                h.start_next_cycle()
                conn.reused = True
                conn.idle_since = trio.current_time()
                self._idle.append(conn)
            else:
                _close_now(conn)
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        content = b"".join(chunks)
        encoding = headers.get("content-encoding")
        if encoding and content:
            content = _decompress(content, encoding)
        return Response(status, headers, content)

    async def aclose(self) -> None:
        """Close every idle connection and refuse new requests; connections in use are closed
        as their requests end. Never raises."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            _close_now(conn)
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _socket_of(conn: _Connection) -> Any:
    stream: Any = conn.stream
    while stream is not None and not hasattr(stream, "socket"):
        stream = getattr(stream, "transport_stream", None)
    return None if stream is None else stream.socket


def _readable(conn: _Connection) -> bool:
    """True if an idle connection's socket has something to read: the server closed it (EOF) or
    sent bytes nobody asked for. Either way it must not carry the next request."""
    sock = _socket_of(conn)
    if sock is None:  # pragma: no cover - every stream we open wraps a SocketStream
        return False
    try:
        fd = sock.fileno()
        if hasattr(select, "poll"):  # select.select() cannot watch fds above FD_SETSIZE (1024)
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _close_now(conn: _Connection) -> None:
    """Close the connection's socket at once, without a TLS close_notify (never blocks)."""
    sock = _socket_of(conn)
    if sock is not None:
        sock.close()
    else:  # pragma: no cover - every stream we open wraps a SocketStream
        log.warning("cannot find the socket of %r to close it", conn.stream)


def _decompress(content: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(content, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(content)
            except zlib.error:
                return zlib.decompress(content, -zlib.MAX_WBITS)
    except zlib.error as exc:
        raise ProtocolError(f"the answer's {encoding} body is corrupt: {exc}") from exc
    if encoding == "identity":
        return content
    raise ProtocolError(f"the answer uses content-encoding {encoding!r}, which this client did not ask for")
