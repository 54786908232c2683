"""A lean HTTP/1.1 keep-alive connection pool on trio.

The REST hot path sends small JSON requests to one origin, many at once. ``ConnectionPool``
does only that, and cheaply: no cookies, no redirects, no proxies, no URL re-parsing, no
scan of every connection per request. The wire format is ``qgactor.qq.http1_request`` and
``qgactor.qq.http1`` (sans-I/O, agree with h11 at a tenth of its cost); the sockets (plain
or TLS, driven directly) are ``qgactor.qq.http1_connection``.

- One pool per origin (``Origin``: scheme, host, port). Connections are opened with
  ``trio.open_tcp_stream``, for ``https`` with TLS on top (``default_ssl_context()`` unless
  given: certificate and host name checks, SNI, ALPN ``http/1.1``), kept alive and reused.
- Idle connections wait on a LIFO stack (the most recently used first: it is the least likely
  to have been closed by the server); one idle longer than ``keepalive_expiry``, or one the
  server has closed meanwhile (its socket is readable: EOF or stray bytes), is closed instead
  of reused.
- At most ``max_connections`` requests are in flight; more wait for a slot (``PoolTimeout``).
- A connection is discarded after an error, a timeout, a cancellation, ``Connection: close``
  (either side), an HTTP/1.0 answer, a body delimited by the end of the connection, an answer
  framed by both ``Transfer-Encoding`` and ``Content-Length``, or bytes the server sent after
  the answer.
- Over TLS, a body delimited by the end of the connection is complete only if the server sent
  ``close_notify`` before closing (RFC 9112 9.8: a bare FIN may be forged to cut it short);
  otherwise ``ProtocolError``.
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
import ssl
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import attrs
import trio

from qgactor.qq.http1 import ResponseParser
from qgactor.qq.http1_connection import PlainConnection, TlsConnection, open_connection
from qgactor.qq.http1_request import RequestEncoder
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

_Connection = PlainConnection | TlsConnection
#: Methods a stale keep-alive connection may resend (RFC 9110 9.2.2: idempotent).
_RESENDABLE = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Methods sent without a Content-Length when their body is empty.
_BODYLESS = frozenset({"GET", "HEAD", "DELETE"})
#: What a failed socket operation raises (a plain socket or a trio stream).
_IO_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


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
        self._encoder = RequestEncoder(origin.host_header)
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
        provably was not sent), ``ValueError`` for a method, target or header HTTP/1.1 cannot
        carry (nothing is sent; see ``qgactor.qq.http1_request``) and ``RuntimeError`` after
        ``aclose()``.
        """
        if self._closed:
            raise RuntimeError("this connection pool is closed; create a new one")
        head, closes = self._encoder.encode(method, target, headers,
                                            len(body) if body or method not in _BODYLESS else None)
        data = head + body if body else head
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
                return await self._exchange(conn, data, method, closes, timeout)
            except _Stale as stale:
                if method not in _RESENDABLE:
                    raise ReadError(f"the server closed the kept-alive connection without answering "
                                    f"{method} {target}; the request may have been processed") from stale
                log.debug("%s %s: reused connection was closed by the server, resending once", method, target)
                conn = await self._connect(timeout)
                return await self._exchange(conn, data, method, closes, timeout)
        finally:
            slots.release()

    def _pop_idle(self) -> _Connection | None:
        idle = self._idle
        if not idle:
            return None
        now = trio.current_time()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since <= self.keepalive_expiry and not conn.readable():
                return conn
            conn.close()
        return None

    async def _connect(self, timeout: float) -> _Connection:
        origin = self.origin
        if origin.scheme == "https" and self._ssl_context is None:
            self._ssl_context = default_ssl_context()
        try:
            with trio.fail_after(timeout):
                conn = await open_connection(origin.host, origin.port,
                                             self._ssl_context if origin.scheme == "https" else None)
        except trio.TooSlowError:
            raise ConnectTimeout(f"connecting to {origin.host}:{origin.port} took over {timeout:g}s") from None
        except (OSError, trio.BrokenResourceError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        self.opened += 1
        return conn

    async def _exchange(self, conn: _Connection, data: bytes, method: str, closes: bool,
                        timeout: float) -> Response:
        """One request/response cycle on ``conn``; puts it back on the idle stack or closes it."""
        if self._closed:
            conn.close()
            raise RuntimeError("this connection pool is closed; create a new one")
        self._active.add(conn)
        reused = conn.reused
        parser = ResponseParser(method == "HEAD")
        received = False
        done = False
        eof = False
        try:
            writing = True
            with trio.CancelScope(deadline=trio.current_time() + timeout) as scope:
                try:
                    waited = await conn.send(data)
                except _IO_ERRORS as exc:
                    if reused:
                        raise _Stale() from exc
                    raise WriteError(f"sending the request failed: {exc}") from exc
                writing = False
                if waited:  # the read gets its own full timeout
                    scope.deadline = trio.current_time() + timeout
                while True:
                    try:
                        chunk = await conn.receive()
                    except _IO_ERRORS as exc:
                        if reused and not received:
                            raise _Stale() from exc
                        raise ReadError(f"reading the answer failed: {exc}") from exc
                    if not chunk:
                        if reused and not received:
                            raise _Stale()
                        eof = True
                        parser.feed_eof()  # raises if the answer was cut short
                        if not conn.clean_eof:  # only the close delimited this body
                            raise ProtocolError("the server ended the TLS connection without close_notify "
                                                "before the end of an answer delimited by the close: it may "
                                                "be cut short (RFC 9112 9.8)")
                        break
                    received = True
                    if parser.feed(chunk):
                        break
            if scope.cancelled_caught:
                if writing:
                    raise WriteTimeout(f"sending the request took over {timeout:g}s")
                raise ReadTimeout(f"no complete answer within {timeout:g}s")
            done = True
        finally:
            self._active.discard(conn)
            if done and not eof and parser.keep_alive and not closes and not parser.trailing and not self._closed:
                conn.reused = True
                conn.idle_since = trio.current_time()
                self._idle.append(conn)
            else:
                conn.close()
        content = parser.body()
        headers = parser.headers
        encoding = headers.get("content-encoding")
        if encoding and content:
            content = _decompress(content, encoding)
        return Response(parser.status, headers, content)

    async def aclose(self) -> None:
        """Close every idle connection and refuse new requests; connections in use are closed
        as their requests end. Never raises."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


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
