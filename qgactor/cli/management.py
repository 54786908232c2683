"""The local management endpoint of a running bot, and its client.

``qgactor run`` serves ``GET /status`` on 127.0.0.1 (never another interface) on a free port.
Every request must carry ``Authorization: Bearer <token>``; the token is random per run and is
written with the port to ``.qgactor/management.json`` (mode 0600) in the project, which is how
``qgactor status`` finds and authenticates to it. The answer is the live actor tree as JSON.

The server is a deliberately tiny HTTP/1.1 implementation (one request per connection, a
size and time limit on the request head): it has one route, no body, and must never hang or
crash on bad input.
"""

from __future__ import annotations

import enum
import hmac
import json
import logging
import math
import secrets
from typing import Any, Callable

import attrs
import trio

__all__ = [
    "serve_management",
    "snapshot_to_json",
    "new_token",
    "fetch_status",
    "ManagementError",
    "ManagementAuthError",
    "MANAGEMENT_HOST",
]

log = logging.getLogger(__name__)

MANAGEMENT_HOST = "127.0.0.1"
"""The only address the management endpoint binds to."""
_MAX_HEAD = 16 * 1024
_READ_TIMEOUT = 5.0


class ManagementError(Exception):
    """The management endpoint could not be reached or answered something unexpected."""


class ManagementAuthError(ManagementError):
    """The management endpoint rejected the token (HTTP 401)."""


def new_token() -> str:
    """Return a fresh random bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def snapshot_to_json(value: Any) -> Any:
    """Convert a snapshot (attrs classes, enums, tuples, dicts, exceptions) to JSON-able data.

    attrs instances become dicts of their fields; enums their name; exceptions
    ``"Type: message"``; non-finite floats ``None``; anything else unknown its ``str``.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return value.name.lower() if isinstance(value.name, str) else str(value.value)
    if attrs.has(type(value)):
        return {f.name: snapshot_to_json(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {str(k): snapshot_to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [snapshot_to_json(v) for v in value]
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return str(value)


def _response(status: int, reason: str, body: dict[str, Any],
              redact: Callable[[str], str] | None = None) -> bytes:
    text = json.dumps(body, ensure_ascii=False)
    if redact is not None:
        text = redact(text)
    payload = text.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + payload


async def _read_head(stream: trio.abc.Stream) -> bytes | None:
    data = b""
    with trio.move_on_after(_READ_TIMEOUT):
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some(4096)
            if not chunk:
                return None
            data += chunk
            if len(data) > _MAX_HEAD:
                return b""
        return data.split(b"\r\n\r\n", 1)[0]
    return None


def _answer(head: bytes, token: str, snapshot: Callable[[], Any],
            redact: Callable[[str], str] | None = None) -> bytes:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        return _response(400, "Bad Request", {"error": "malformed request line"})
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    scheme, _, given = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return _response(401, "Unauthorized", {"error": "missing or wrong bearer token"})
    path = target.split("?", 1)[0]
    if path != "/status":
        return _response(404, "Not Found", {"error": f"no route {path}; use GET /status"})
    if method != "GET":
        return _response(405, "Method Not Allowed", {"error": "use GET"})
    try:
        tree = snapshot_to_json(snapshot())
    except Exception as exc:
        log.exception("management endpoint: taking the snapshot failed")
        return _response(500, "Internal Server Error", {"error": f"snapshot failed: {type(exc).__name__}"})
    return _response(200, "OK", {"tree": tree}, redact)


async def serve_management(
    snapshot: Callable[[], Any],
    *,
    token: str,
    port: int = 0,
    redact: Callable[[str], str] | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /status`` on 127.0.0.1:``port`` until cancelled; reports the bound port.

    Use ``port = await nursery.start(serve_management, snapshot, token=token)``.
    ``snapshot()`` is called per request and must return the tree (any attrs/enum/dict mix).
    ``redact`` (e.g. :meth:`qgactor.cli.logs.RedactSecrets.mask`) is applied to the answer, so
    a secret that slipped into an actor's last error is masked there as in the logs.
    Raises ``OSError`` if the port cannot be bound.
    """
    listeners = await trio.open_tcp_listeners(port, host=MANAGEMENT_HOST)
    bound = listeners[0].socket.getsockname()[1]

    async def handle(stream: trio.SocketStream) -> None:
        try:
            head = await _read_head(stream)
            if head is None:
                return
            if head == b"":
                reply = _response(431, "Request Header Fields Too Large", {"error": "request head too large"})
            else:
                reply = _answer(head, token, snapshot, redact)
            with trio.move_on_after(_READ_TIMEOUT):
                await stream.send_all(reply)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    log.debug("management endpoint on %s:%d", MANAGEMENT_HOST, bound)
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, handle, listeners)
        task_status.started(bound)


async def fetch_status(port: int, token: str, *, timeout: float = 5.0) -> Any:
    """GET the actor tree from the endpoint on 127.0.0.1:``port``; returns the ``tree`` value.

    Raises :class:`ManagementAuthError` on 401 and :class:`ManagementError` if the endpoint is
    unreachable or answers anything but a JSON tree. The token never appears in the messages.
    """
    import httpx

    url = f"http://{MANAGEMENT_HOST}:{port}/status"
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise ManagementError(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code == 401:
        raise ManagementAuthError(f"{url} rejected the token")
    if response.status_code != 200:
        raise ManagementError(f"{url} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json()["tree"]
    except (ValueError, KeyError, TypeError):
        raise ManagementError(f"{url} answered something that is not a status document") from None
