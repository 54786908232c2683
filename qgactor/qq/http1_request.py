"""HTTP/1.1 request heads as a client writes them, sans-I/O: method, target, headers in, bytes out.

``RequestEncoder`` writes what ``h11`` 0.16 writes for the same request (the request line,
``host`` first, the headers in order with their names as given, ``content-length``, the blank
line) and refuses what it refuses (``tests/qq/test_qq_http1.py`` checks both with
hypothesis), at a fraction of the cost: the REST hot path sends the same few headers on every
request, so a validated header block is cached per distinct header sequence and a request
costs one dict lookup and one ``bytes.join``. Its counterpart for answers is
``qgactor.qq.http1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["RequestEncoder"]

#: RFC 9110 5.6.2: a method or a header name.
_TOKEN = r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
#: A field-value character: visible ASCII or a control other than a line break (as h11 allows);
#: a str header must encode as ASCII.
_OUT_VCHAR = r"[\x01-\x08\x0e-\x1f\x21-\x7f]"
_OUT_NAME = re.compile(_TOKEN)
_OUT_VALUE = re.compile(rf"(?:{_OUT_VCHAR}+(?:[ \t]+{_OUT_VCHAR}+)*)?")
_METHOD = re.compile(_TOKEN)
_TARGET = re.compile(r"[\x21-\x7e]+")
#: Headers the pool writes itself; a caller's own would contradict the framing or the origin.
_RESERVED = frozenset({"host", "content-length", "transfer-encoding"})
_CACHE_SIZE = 64


class RequestEncoder:
    """Request heads for one server: ``RequestEncoder(host_header)``.

    ``encode(method, target, headers, content_length)`` returns the head bytes (request line,
    ``host`` first, the headers in order with their names as given, ``content-length`` when
    not ``None``, the blank line) and whether the headers ask to close the connection
    afterwards (``Connection: close``). Raises ``ValueError`` for a method, target, header
    name or value that HTTP/1.1 does not allow (non-ASCII, whitespace at either end, control
    line breaks) or a ``host``/``content-length``/``transfer-encoding`` header (the pool sets
    those). A validated header block is cached per distinct header sequence.
    """

    __slots__ = ("_host", "_host_error", "_blocks", "_lines")

    def __init__(self, host_header: str) -> None:
        self._host_error = ""
        if not (host_header.isascii() and _OUT_VALUE.fullmatch(host_header)):
            self._host_error = f"invalid Host header {host_header!r}: use an ASCII (IDNA-encoded) host name"
        self._host = b" HTTP/1.1\r\nhost: " + host_header.encode("ascii", "replace") + b"\r\n"
        self._blocks: dict[tuple[tuple[str, str], ...], tuple[bytes, bool]] = {}
        #: encoded "METHOD " prefixes
        self._lines: dict[str, bytes] = {}

    def encode(self, method: str, target: str, headers: Iterable[tuple[str, str]],
               content_length: int | None) -> tuple[bytes, bool]:
        """The head of one request and whether it asks to close the connection (see the class)."""
        start = self._lines.get(method)
        if start is None:
            start = self._method(method)
        if not _TARGET.fullmatch(target):
            raise ValueError(f"invalid HTTP request target {target!r}: use a percent-encoded path and query "
                             "(visible ASCII, no spaces)")
        key = tuple(headers)
        try:
            cached = self._blocks.get(key)
        except TypeError:  # unhashable pairs (lists): normalise them
            key = tuple((name, value) for name, value in key)
            cached = self._blocks.get(key)
        if cached is None:
            cached = self._block(key)
        block, closes = cached
        if self._host_error:
            raise ValueError(self._host_error)
        if content_length is None:
            return b"".join((start, target.encode("ascii"), self._host, block, b"\r\n")), closes
        return b"".join((start, target.encode("ascii"), self._host, block,
                         b"content-length: %d\r\n\r\n" % content_length)), closes

    def _method(self, method: str) -> bytes:
        if not (method.isascii() and _METHOD.fullmatch(method)):
            raise ValueError(f"invalid HTTP method {method!r}: expected a token such as GET or POST")
        if len(self._lines) >= _CACHE_SIZE:
            self._lines.clear()
        start = self._lines[method] = method.encode("ascii") + b" "
        return start

    def _block(self, key: tuple[tuple[str, str], ...]) -> tuple[bytes, bool]:
        closes = False
        for name, value in key:
            if not isinstance(name, str) or not isinstance(value, str):
                raise ValueError(f"header names and values must be str, got {name!r}: {type(value).__name__}")
            lower = name.lower()
            if lower in _RESERVED:
                raise ValueError(f"do not pass a {name!r} header: the connection pool writes it itself")
            if lower == "connection" and "close" in (t.strip() for t in value.lower().split(",")):
                closes = True
            if not (name.isascii() and _OUT_NAME.fullmatch(name)):
                raise ValueError(f"invalid HTTP header name {name!r}: use letters, digits and -")
            if not (value.isascii() and _OUT_VALUE.fullmatch(value)):  # the value may be a secret: not shown
                raise ValueError(f"invalid value for HTTP header {name!r}: it must be ASCII without line breaks "
                                 "or whitespace at either end (encode it first)")
        text = "".join([f"{name}: {value}\r\n" for name, value in key])
        if len(self._blocks) >= _CACHE_SIZE:
            self._blocks.clear()
        result = self._blocks[key] = (text.encode("ascii"), closes)
        return result
