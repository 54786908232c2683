"""Writing HTTP/1.1 responses: the status line and headers the emulator built, checked.

The server builds every response head itself (no h11 on the answer path): a status line,
the application's headers, ``Content-Length`` (always, from the body), ``Date`` and
``Connection: close`` when the connection ends after the answer. A header name that is not
an RFC 9110 token, or a name or value holding CR, LF or NUL, raises
:class:`HeaderInjectionError` before anything is written, so no header or response can be
smuggled into the stream.
"""

from __future__ import annotations

import functools
import re
from http import HTTPStatus

__all__ = ["HeaderInjectionError", "CONTINUE", "status_line", "serialize_response"]

#: The interim answer to ``Expect: 100-continue``.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Headers the server writes itself (the application's are dropped).
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection", b"date"})
#: Statuses whose answer never has a body (RFC 9110 6.4.1).
_NO_BODY = frozenset({204, 304})


class HeaderInjectionError(ValueError):
    """A response header that cannot be written safely (CR, LF or NUL, or a name that is
    not a token): the response is refused instead of corrupting the connection."""


@functools.lru_cache(maxsize=128)
def status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n``. Raises ``ValueError`` for a status outside 100-999."""
    if not 100 <= status <= 999:
        raise ValueError(f"HTTP status {status} is not a three-digit code")
    try:
        reason = HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        reason = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, reason)


@functools.lru_cache(maxsize=256)
def _valid_name(name: bytes) -> bool:
    return _TOKEN.fullmatch(name) is not None


def serialize_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes, date: bytes, *,
                       head_only: bool = False, close: bool = False) -> bytes:
    """The bytes of one response: head (+ body unless ``head_only`` or a 204/304).

    ``Content-Length``, ``Date`` and (with ``close``) ``Connection: close`` are written by
    this function; the same names in ``headers`` are dropped. Raises
    :class:`HeaderInjectionError` for a header name that is not a token or a name or value
    with CR, LF or NUL; ``ValueError`` for a status outside 100-999.
    """
    parts = [status_line(status)]
    for name, value in headers:
        if not _valid_name(name):
            raise HeaderInjectionError(f"response header name {name!r} is not an HTTP token; "
                                       "use letters, digits and !#$%&'*+-.^_`|~ only")
        if name.lower() in _FRAMING:
            continue
        if b"\r" in value or b"\n" in value or b"\0" in value:
            raise HeaderInjectionError(f"response header {name.decode('ascii')} holds CR, LF or NUL; "
                                       "header values must be a single line without NUL")
        parts += (name, b": ", value, b"\r\n")
    no_body = status in _NO_BODY
    parts.append(b"Content-Length: %d\r\nDate: %s\r\n" % (0 if no_body else len(body), date))
    if close:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    if body and not head_only and not no_body:
        parts.append(body)
    return b"".join(parts)
