"""HTTP plumbing of the emulator: requests, JSON responses, platform errors, a tiny router.

Every response carries ``Content-Type: application/json`` exactly (botpy parses JSON only
then, spec 6.1) and an ``X-Tps-trace-ID`` header.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import os
import re
from typing import Any, Awaitable, Callable

import attrs

__all__ = [
    "Request", "Response", "PlatformError", "Router", "json_response", "error_response",
    "no_content", "Handler", "dump_json",
]

#: ``json.dumps(value, ensure_ascii=False)`` without building an encoder per call (``dumps``
#: makes a new ``JSONEncoder`` whenever an option differs from the defaults: twice the cost).
dump_json = json.JSONEncoder(ensure_ascii=False).encode
_decode_json = json.JSONDecoder().decode
_PLAIN_JSON_START = (b"{", b"[")


class PlatformError(Exception):
    """A platform error answer: HTTP ``status`` with body ``{"code", "message"[, "data"]}``."""

    def __init__(self, status: int, code: int, message: str, data: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.data = data
        self.headers = headers or {}

    def to_response(self) -> Response:
        """The HTTP response for this error."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return json_response(body, self.status, headers=self.headers)


def bad_body(message: str) -> PlatformError:
    """400 / 12002 "request body invalid" with a message saying what is wrong."""
    return PlatformError(400, 12002, f"request body invalid: {message}")


@attrs.define(slots=True)
class Request:
    """An HTTP request as seen by handlers."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = attrs.Factory(dict)
    _json: Any = attrs.field(default=None, alias="_json")
    _parsed: bool = attrs.field(default=False, alias="_parsed")

    @property
    def content_type(self) -> str:
        """The media type of the body without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self, *, default: Any = None) -> Any:
        """The decoded body: JSON, or multipart/form-data fields as a dict.

        An empty body gives ``default``. Raises :class:`PlatformError` 400/12002 when the
        body is not valid JSON (or multipart).
        """
        if self._parsed:
            return self._json if self._json is not None else default
        self._parsed = True
        if not self.body.strip():
            self._json = None
            return default
        ctype = self.headers.get("content-type")
        if ctype is not None and "multipart" in ctype.lower() and self.content_type == "multipart/form-data":
            self._json = parse_multipart(self.headers.get("content-type", ""), self.body)
            return self._json
        try:
            body = self.body
            if body[:1] in _PLAIN_JSON_START and b"\x00" not in body[:4]:
                # UTF-8 (what every client sends): json.loads would find the same encoding
                self._json = _decode_json(body.decode("utf-8", "surrogatepass"))
            else:
                self._json = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad_body(f"not valid JSON ({exc}); send a JSON object") from None
        return self._json

    def json_object(self, *, required: bool = False) -> dict[str, Any]:
        """The body as a JSON object; ``{}`` when empty unless ``required``."""
        data = self.json()
        if data is None:
            if required:
                raise bad_body("empty body; send a JSON object")
            return {}
        if not isinstance(data, dict):
            raise bad_body(f"expected a JSON object, got {type(data).__name__}")
        return data


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Parse multipart/form-data into a dict.

    Parts with a JSON content type (or JSON text) holding ``{name: value}`` are unwrapped
    (the documented form, spec 6.5); files become ``{"filename", "size"}``.
    """
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not msg.is_multipart():
        raise bad_body("malformed multipart/form-data body")
    out: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None or name == "file_image":
            out[name] = {"filename": filename or name, "size": len(payload)}
            continue
        text = payload.decode("utf-8", "replace")
        value: Any = text
        if text[:1] in "{[":
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
        if isinstance(value, dict) and set(value) == {name}:
            value = value[name]
        out[str(name)] = value
    return out


@attrs.define(slots=True)
class Response:
    """An HTTP response (body already encoded)."""

    status: int
    body: bytes
    headers: dict[str, str] = attrs.Factory(dict)

    def header_list(self) -> list[tuple[bytes, bytes]]:
        """The response headers: content type, trace id, length and any extra ones."""
        out = [(b"Content-Type", b"application/json"), (b"X-Tps-trace-ID", next_trace_id()),
               (b"content-length", str(len(self.body)).encode("latin-1"))]
        if self.headers:
            names = {"x-tps-trace-id": 1, "content-type": 0}
            for k, v in self.headers.items():
                low = k.lower()
                pair = ((b"X-Tps-trace-ID" if low == "x-tps-trace-id" else b"Content-Type")
                        if low in names else low.encode("latin-1"), v.encode("latin-1"))
                if low in names:
                    out[names[low]] = pair
                elif low != "content-length":
                    out.append(pair)
        return out

    def json(self) -> Any:
        """Decode the body (for recording responses in the outbox)."""
        return json.loads(self.body) if self.body else None


_TRACE_PREFIX = os.urandom(8).hex()
_trace_counter = itertools.count(1)


def next_trace_id() -> bytes:
    """A unique 32-hex-digit ``X-Tps-trace-ID`` (random per process, then a counter)."""
    return f"{_TRACE_PREFIX}{next(_trace_counter):016x}".encode("ascii")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(status, dump_json(data).encode("utf-8"), dict(headers) if headers else {})


def no_content() -> Response:
    """204 with an empty body (DELETE / PUT endpoints, spec 6.1)."""
    return Response(204, b"")


def error_response(status: int, code: int, message: str) -> Response:
    """Shortcut for ``PlatformError(...).to_response()``."""
    return PlatformError(status, code, message).to_response()


Handler = Callable[..., Awaitable[Response | Any]]


@attrs.define(slots=True)
class _Route:
    method: str
    template: str
    handler: Handler
    segments: tuple[str | None, ...]  # literal segment, or None for a {param}
    names: tuple[str, ...]  # parameter names in order


def _split(path: str) -> list[str]:
    """Path segments; one trailing slash is ignored (``/a/b/`` is ``/a/b``)."""
    if len(path) > 1 and path[-1] == "/":
        path = path[:-1]
    return path.split("/")[1:] if path != "/" else [""]


class Router:
    """Maps ``METHOD /path/{param}`` templates to async handlers.

    Handlers are called as ``handler(request)`` with ``request.params`` filled in. A handler
    returns a :class:`Response`, ``None`` (204) or any JSON-able value (200). Routes are
    indexed by segment count and first segment, so a lookup compares a handful of
    templates segment by segment (no regular expressions); the first registered match wins.
    """

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._index: dict[tuple[int, str | None], list[_Route]] = {}

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and path ``template``."""
        segments: list[str | None] = []
        names: list[str] = []
        for seg in _split(template):
            m = _PARAM.fullmatch(seg)
            if m:
                segments.append(None)
                names.append(m.group(1))
            else:
                segments.append(seg)
        self._insert(_Route(method.upper(), template, handler, tuple(segments), tuple(names)))

    def _insert(self, route: _Route) -> None:
        self._routes.append(route)
        key = (len(route.segments), route.segments[0])
        self._index.setdefault(key, []).append(route)

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""
        def deco(fn: Handler) -> Handler:
            self.add(method, template, fn)
            return fn
        return deco

    def include(self, other: Router) -> None:
        """Add all routes of ``other``."""
        for route in other._routes:
            self._insert(route)

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """Find the handler for ``method path``.

        Returns ``(handler, params, path_known)``; ``path_known`` tells 405 from 404.
        """
        parts = _split(path)
        n = len(parts)
        path_known = False
        for key in ((n, parts[0]), (n, None)):
            for r in self._index.get(key, ()):
                values = []
                for seg, part in zip(r.segments, parts):
                    if seg is None:
                        if not part:
                            break
                        values.append(part)
                    elif seg != part:
                        break
                else:
                    path_known = True
                    if r.method == method or (method == "HEAD" and r.method == "GET"):
                        return r.handler, dict(zip(r.names, values)), True
        return None, {}, path_known


_PARAM = re.compile(r"\{(\w+)\}")


def to_response(result: Any) -> Response:
    """Turn a handler result into a :class:`Response`."""
    if isinstance(result, Response):
        return result
    if result is None:
        return no_content()
    return json_response(result)
