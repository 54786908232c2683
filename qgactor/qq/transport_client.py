"""``ApiTransport``: what ``HttpCore`` sends through: request bodies encoded onto a ``ConnectionPool``.

``HttpCore`` calls ``client.request(method, path, json=, params=, data=, files=, headers=,
timeout=)`` and reads ``status_code``, ``headers.get(...)``, ``content``, ``json()`` and
``text`` of the answer. ``ApiTransport`` provides exactly that on top of the lean pool of
``qgactor.qq.transport`` (an injected ``httpx.AsyncClient`` provides it too, through the API
client's prefixing wrapper).

Bodies: ``json`` → ``application/json`` (compact UTF-8, no NaN); ``data`` (+ ``files``) →
``application/x-www-form-urlencoded`` or ``multipart/form-data``; ``params`` → the query string.
"""

from __future__ import annotations

import json as jsonlib
import os
import re
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from qgactor.qq.transport import ConnectionPool, Origin, Response

__all__ = ["ApiTransport", "encode_json", "encode_form", "encode_multipart"]


#: One encoder for every body (``json.dumps`` with options builds a new one per call).
_JSON = jsonlib.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; raises ``ValueError``/``TypeError`` for NaN or unserialisable values."""
    return _JSON.encode(value).encode("utf-8")


def encode_form(data: Mapping[str, Any]) -> bytes:
    """``application/x-www-form-urlencoded`` body of ``data`` (list values repeat the key)."""
    return urlencode([(k, _text(v)) for k, v in _items(data)]).encode("ascii")


def _items(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for key, value in data.items():
        if isinstance(value, (list, tuple)):
            out.extend((key, v) for v in value)
        else:
            out.append((key, value))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


#: A media type with optional parameters, one line of visible ASCII (it becomes a part's header).
_MEDIA_TYPE = re.compile(r"[!-~]+(?:[ \t]*;[ \t]*[!-~]+)*")


def _media_type(mime: Any, key: str) -> bytes:
    if not (isinstance(mime, str) and mime.isascii() and _MEDIA_TYPE.fullmatch(mime)):
        raise ValueError(f"file {key!r}: invalid content type {mime!r}: expected one line of ASCII "
                         "such as image/png")
    return mime.encode("ascii")


def _quote_param(value: str) -> bytes:
    # the WHATWG form-data rule: escape '"' and line breaks in name/filename parameters
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode("utf-8")


def encode_multipart(data: Mapping[str, Any] | None, files: Mapping[str, Any],
                     boundary: str | None = None) -> tuple[bytes, str]:
    """``multipart/form-data`` body and its ``Content-Type`` for form fields and files.

    ``files`` maps a field name to ``bytes`` or a ``(filename, content)`` /
    ``(filename, content, mime)`` tuple whose content is ``bytes`` or ``str``. Raises
    ``TypeError`` for any other shape and ``ValueError`` for a ``mime`` that is not one line of
    ASCII (it becomes a header of the part).
    """
    boundary = boundary or os.urandom(16).hex()
    sep = b"--" + boundary.encode("ascii") + b"\r\n"
    parts: list[bytes] = []
    for key, value in _items(data or {}):
        parts += [sep, b'Content-Disposition: form-data; name="', _quote_param(key), b'"\r\n\r\n',
                  _text(value).encode("utf-8"), b"\r\n"]
    for key, spec in files.items():
        if isinstance(spec, (bytes, bytearray)):
            filename, content, mime = key, bytes(spec), "application/octet-stream"
        elif isinstance(spec, tuple) and len(spec) in (2, 3):
            filename, content = spec[0], spec[1]
            mime = spec[2] if len(spec) == 3 else "application/octet-stream"
        else:
            raise TypeError(f"file {key!r}: expected bytes or a (filename, content[, mime]) tuple, "
                            f"got {type(spec).__name__}")
        if isinstance(content, str):
            content = content.encode("utf-8")
        if not isinstance(content, (bytes, bytearray)):
            raise TypeError(f"file {key!r}: content must be bytes or str, got {type(content).__name__} "
                            "(read the file first)")
        parts += [sep, b'Content-Disposition: form-data; name="', _quote_param(key), b'"; filename="',
                  _quote_param(str(filename)), b'"\r\nContent-Type: ', _media_type(mime, key),
                  b"\r\n\r\n", bytes(content), b"\r\n"]
    parts.append(b"--" + boundary.encode("ascii") + b"--\r\n")
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class ApiTransport:
    """Requests to paths under one API base URL over a keep-alive ``ConnectionPool``.

    ``ApiTransport(base_url, *, max_connections=32, user_agent=None, ssl_context=None,
    keepalive_expiry=4.0)``. ``request(method, path, ...)`` returns a
    ``qgactor.qq.transport.Response`` or raises the ``TransportError`` family; ``aclose()``
    closes the connections. ``base_url`` may carry a path prefix (``http://host/api``).
    """

    def __init__(self, base_url: str, *, max_connections: int = 32, user_agent: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, keepalive_expiry: float = 4.0) -> None:
        origin = Origin.parse(base_url)
        self.base_url = base_url.rstrip("/")
        self._prefix = urlsplit(self.base_url).path
        self.pool = ConnectionPool(origin, max_connections=max_connections, keepalive_expiry=keepalive_expiry,
                                   ssl_context=ssl_context)
        self._extra: list[tuple[str, str]] = [("user-agent", user_agent)] if user_agent else []

    def __repr__(self) -> str:
        return f"<ApiTransport {self.base_url} {self.pool!r}>"

    async def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                      data: Mapping[str, Any] | None = None, files: Mapping[str, Any] | None = None,
                      headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> Response:
        """Send ``method`` to ``base_url + path`` (``params`` as the query string) and return
        the answer. Raises ``TransportError`` subclasses, ``ValueError``/``TypeError`` for a
        body that cannot be encoded and ``RuntimeError`` after ``aclose()``."""
        target = self._prefix + path
        if params:
            target += ("&" if "?" in target else "?") + urlencode([(k, _text(v)) for k, v in _items(params)])
        head = list(headers.items()) if headers else []
        head += self._extra
        if files:
            body, ctype = encode_multipart(data, files)
            head.append(("content-type", ctype))
        elif data is not None:
            body = encode_form(data)
            head.append(("content-type", "application/x-www-form-urlencoded"))
        elif json is not None:
            body = encode_json(json)
            head.append(("content-type", "application/json"))
        else:
            body = b""
        return await self.pool.request(method, target, head, body, timeout=timeout)

    async def aclose(self) -> None:
        """Close the pool's connections (see ``ConnectionPool.aclose``)."""
        await self.pool.aclose()
