"""The HTTP core under the REST client: auth headers, retries, limits, error mapping.

``HttpCore.request(route, ...)`` sends one logical request and returns an ``ApiResponse``
or raises a typed ``ApiError`` / ``ApiConnectionError``. Policy:

- Auth: every attempt carries the credential's headers. A 401 (or a token business code) is
  retried **once** after ``credentials.invalidate(stale)`` forced a fresh token.
- Retries (``RetryPolicy``): exponential backoff with jitter for HTTP 5xx, timeouts and
  transport errors, and the transient business codes of spec 6.11 (``RETRYABLE_CODES``).
  HTTP 429 is retried after the ``Retry-After`` header (seconds or HTTP date) when present,
  else after the backoff; a wait longer than ``max_retry_after`` raises ``RateLimited``.
- Idempotency: GET/PUT/PATCH/DELETE and sends with a platform dedup key
  (``dedup=True``: a group/C2C send carrying ``msg_id`` + ``msg_seq``) are retried on any of
  the above. Other POSTs (a guild message, creating a role...) are *not* retried after a read
  timeout or a dropped connection, where the first attempt may have landed; they are
  retried only when the request provably did not land (connect errors, 429, 5xx answers,
  transient business codes).
- A retried send reuses exactly the same body (same ``msg_id`` and ``msg_seq``), so the
  platform deduplicates it. If a retry is refused as a duplicate after an earlier attempt
  ended ambiguously (timeout, dropped connection or 5xx), the earlier attempt most likely
  landed: we raise ``SendUnconfirmed`` (a ``DuplicateMessage``) rather than report a success
  whose message id we do not have, and we never send a third time.
- A global ``trio.CapacityLimiter`` bounds requests in flight; ``RouteLimiter`` token buckets
  bound requests per route and major id.
"""

from __future__ import annotations

import email.utils
import functools
import json as jsonlib
import logging
import random
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import trio

from qgactor.qq.auth import Credentials
from qgactor.qq.errors import (
    RETRYABLE_CODES,
    TOKEN_CODES,
    ApiConnectionError,
    ApiError,
    AuthError,
    DuplicateMessage,
    RateLimited,
    SendUnconfirmed,
    ServerError,
    error_for_response,
)
from qgactor.qq.ratelimit import RateLimit, RouteLimiter
from qgactor.qq.transport import NotSentError, TransportError

__all__ = ["Route", "RetryPolicy", "Limits", "ApiResponse", "HttpCore", "parse_retry_after"]

log = logging.getLogger(__name__)
#: ``log.isEnabledFor(DEBUG)`` (cached by logging; a bound method saves the attribute lookups).
_debug = functools.partial(log.isEnabledFor, logging.DEBUG)

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
#: Characters left as is in path parameters (RFC 3986 pchar minus "/"); ids such as
#: ``ROBOT1.0_...!`` keep their punctuation, emoji ids are UTF-8 percent-encoded.
_PATH_SAFE = "@!$'()*+,;=:"
#: Transport errors after which the request provably never reached the server (httpx's for an
#: injected ``httpx.AsyncClient``, ``NotSentError`` for qgactor's own transport).
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, NotSentError)
#: What a client may raise when a request got no HTTP answer.
_TRANSPORT_ERRORS = (httpx.HTTPError, TransportError)


@attrs.frozen
class Route:
    """An API route: method, path template and the values of its ``{placeholders}``.

    ``Route("GET", "/guilds/{guild_id}", guild_id="1").path == "/guilds/1"``. Values are
    URL-quoted. ``key`` identifies the rate-limit bucket: the template plus its first
    parameter (the "major id": channel, guild, group or user).
    """

    method: str
    template: str
    params: Mapping[str, Any] = attrs.field(factory=dict)

    def __init__(self, method: str, template: str, /, **params: Any) -> None:
        self.__attrs_init__(method.upper(), template, params)  # type: ignore[attr-defined]

    @property
    def path(self) -> str:
        """The concrete path with every placeholder filled in."""
        params = self.params
        if not params:
            return self.template
        return self.template.format_map({k: _quote_segment(v) for k, v in params.items()})

    @property
    def name(self) -> str:
        """``"METHOD /template"``: the key of the per-route limit table."""
        return f"{self.method} {self.template}"

    @property
    def key(self) -> str:
        """The bucket key: route name plus the first parameter's value."""
        major = next(iter(self.params.values()), "") if self.params else ""
        return f"{self.method} {self.template}#{major}"


#: A path parameter that needs no quoting (ids are ASCII letters, digits and a few marks).
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~@!$'()*+,;=:-]*").fullmatch


def _quote_segment(value: Any) -> str:
    """``value`` as one path segment (``quote`` with ``_PATH_SAFE``; ids skip the quoting)."""
    if value.__class__ is str and _UNQUOTED(value):
        return value  # type: ignore[no-any-return]
    return quote(str(value), safe=_PATH_SAFE)


@attrs.frozen
class RetryPolicy:
    """How often and how long to retry.

    ``attempts``: total tries per request (1 = no retries). Delay before retry *n* (1-based)
    is ``min(max_delay, base_delay * 2**(n-1))``, of which the upper half is random jitter.
    ``max_retry_after``: the longest ``Retry-After`` wait honoured before giving up with
    ``RateLimited``. ``retry_codes``: business codes treated as transient.
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    retry_codes: frozenset[int] = RETRYABLE_CODES
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})

    def delay(self, retry: int) -> float:
        """The randomised wait before retry number ``retry`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@attrs.frozen
class Limits:
    """Concurrency and rate limits of one API client.

    ``max_concurrency``: requests in flight at once (also the size of the keep-alive pool;
    default 64, as many as the bot's default ``max_concurrent_handlers``, so a replying
    handler does not queue for a connection). ``routes``: per-route token buckets
    (``"METHOD /template"`` → ``RateLimit``; ``None`` = the defaults, 5/s per channel for guild
    sends). ``default_route``: bucket for all other routes (``None``: unlimited).
    ``timeout``: seconds per attempt (the docs advise at least 5 s for sends).
    """

    max_concurrency: int = 64
    routes: Mapping[str, RateLimit] | None = None
    default_route: RateLimit | None = None
    timeout: float = 10.0


@attrs.frozen
class ApiResponse:
    """A successful answer: HTTP ``status``, parsed JSON ``data`` (``None`` if empty) and ``trace_id``."""

    status: int
    data: Any
    trace_id: str | None
    attempts: int = 1


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), else ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


#: The C scanner behind ``json.loads`` (``scan_once(text, index) -> (value, end)``).
_scan_json = jsonlib.JSONDecoder().scan_once


def _decode(response: httpx.Response) -> Any:
    """The answer's JSON (``response.json()``), its text if it is not JSON, ``None`` if empty."""
    content = response.content
    if not content:
        return None
    try:
        # a compact UTF-8 JSON document (what the platform sends) goes straight to the scanner,
        # skipping json.loads' encoding detection and whitespace passes; anything else (BOM,
        # other encodings, surrounding whitespace, errors) takes the full path below
        text = content.decode("utf-8")
        value, end = _scan_json(text, 0)
        if end == len(text):  # nothing after the value
            return value
    except (ValueError, StopIteration):
        pass
    try:
        return jsonlib.loads(content)  # what ``response.json()`` does
    except ValueError:
        return response.text


class HttpCore:
    """Sends requests for the REST client with the policy of this module's docstring.

    ``HttpCore(credentials, client, *, retry=RetryPolicy(), limits=Limits())`` where
    ``client`` has httpx's ``async request(method, path, **kwargs)`` and resolves ``path``
    against the API base: qgactor's own keep-alive transport
    (``qgactor.qq.transport_client.ApiTransport``, what ``ApiClient`` uses by default) or an
    ``httpx.AsyncClient`` behind the API client's prefixing wrapper.
    """

    def __init__(self, credentials: Credentials, client: Any, *,
                 retry: RetryPolicy | None = None, limits: Limits | None = None) -> None:
        self.credentials = credentials
        self.client = client
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.concurrency = trio.CapacityLimiter(self.limits.max_concurrency)
        self.route_limiter = RouteLimiter(self.limits.routes, self.limits.default_route)
        #: The trace id of the most recent answer (for logs and bug reports).
        self.last_trace_id: str | None = None

    async def request(
        self,
        route: Route,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        dedup: bool = False,
        ok_statuses: frozenset[int] | None = None,
    ) -> ApiResponse:
        """Send ``route`` with the retry/auth/limit policy; return the answer or raise.

        ``json``/``data``/``files`` are passed to httpx unchanged on every attempt, so a retry
        sends byte-identical content. ``dedup``: the body carries a platform dedup key
        (``msg_id`` + ``msg_seq``) so every failure is safely retryable.
        Raises ``ApiError`` subclasses, ``SendUnconfirmed`` and ``ApiConnectionError``.
        """
        status, body, trace, attempts = await self.exchange(
            route, json=json, params=params, data=data, files=files, dedup=dedup, ok_statuses=ok_statuses)
        return ApiResponse(status=status, data=body, trace_id=trace, attempts=attempts)

    async def exchange(
        self,
        route: Route,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        dedup: bool = False,
        ok_statuses: frozenset[int] | None = None,
    ) -> tuple[int, Any, str | None, int]:
        """:meth:`request` without the ``ApiResponse``: returns ``(status, data, trace_id,
        attempts)`` (what the endpoint methods use). Raises as :meth:`request`."""
        method = route.method
        path = route.path
        retryable_anyway = dedup or method in _IDEMPOTENT
        clean_params = {k: _param(v) for k, v in params.items() if v is not None} if params else None
        name = f"{method} {route.template}"
        limited = self.route_limiter.limit_for(name) is not None
        timeout = self.limits.timeout
        credentials = self.credentials
        headers_now = getattr(credentials, "headers_now", None)
        concurrency = self.concurrency
        refreshed = False
        ambiguous = False  # an earlier attempt may have landed
        attempt = 0
        while True:
            attempt += 1
            # the cached auth headers without a coroutine (None: a token must be fetched)
            auth = headers_now() if headers_now is not None else None
            if auth is None:
                auth = await credentials.headers()
            try:
                # a free slot is taken without a checkpoint: the request itself blocks soon enough
                try:
                    concurrency.acquire_nowait()
                except trio.WouldBlock:
                    await concurrency.acquire()
                try:
                    if limited:
                        # the window is taken right before sending so that waiting for a token
                        # or a concurrency slot does not eat into it
                        await self.route_limiter.acquire(name, route.key)
                    response = await self.client.request(
                        method, path, json=json, params=clean_params, data=data, files=files,
                        headers=auth, timeout=timeout,
                    )
                finally:
                    concurrency.release()
            except _TRANSPORT_ERRORS as exc:
                sent_maybe = not isinstance(exc, _NOT_SENT)
                if attempt >= self.retry.attempts or (sent_maybe and not retryable_anyway):
                    raise ApiConnectionError(
                        f"{method} {path}: {type(exc).__name__} after {attempt} attempt(s)"
                        + ("; the request may have been processed" if sent_maybe else ""),
                        method=method, path=path,
                    ) from exc
                ambiguous = ambiguous or sent_maybe
                delay = self.retry.delay(attempt)
                log.warning("%s %s: %s, retry %d in %.2fs", method, path, type(exc).__name__, attempt, delay)
                await trio.sleep(delay)
                continue

            headers = response.headers
            trace = headers.get("x-tps-trace-id")
            self.last_trace_id = trace
            body = _decode(response)
            status = response.status_code
            if _is_success(status, body, ok_statuses):
                if _debug():
                    log.debug("%s %s -> %d (trace %s)", method, path, status, trace)
                return status, body, trace, attempt

            retry_after = parse_retry_after(headers.get("retry-after"))
            error = error_for_response(status=status, body=body, trace_id=trace, method=method,
                                       path=path, retry_after=retry_after)
            log.debug("%s %s -> %d code %s (trace %s)", method, path, status, error.code, trace)

            if isinstance(error, AuthError) and (status == 401 or error.code in TOKEN_CODES):
                if refreshed or not credentials.refreshable:
                    raise error
                refreshed = True
                attempt -= 1  # the refresh retry is free
                await credentials.invalidate(auth.get("Authorization"))
                log.info("%s %s: 401, retrying once with a fresh token", method, path)
                continue
            if isinstance(error, DuplicateMessage) and ambiguous:
                raise SendUnconfirmed(
                    status=error.status, code=error.code, message=error.message,
                    trace_id=error.trace_id, data=error.data, method=method, path=path,
                ) from error
            delay = self._retry_delay(error, attempt)
            if delay is None:
                raise error
            if isinstance(error, ServerError):
                ambiguous = True
            log.warning("%s %s: HTTP %d code %s, retry %d in %.2fs (trace %s)",
                        method, path, status, error.code, attempt, delay, trace)
            await trio.sleep(delay)

    def _retry_delay(self, error: ApiError, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None`` to give up."""
        if attempt >= self.retry.attempts:
            return None
        if error.status == 429 or (isinstance(error, RateLimited) and error.retry_after is not None):
            wait = getattr(error, "retry_after", None)
            if wait is None:
                return self.retry.delay(attempt)
            return wait if wait <= self.retry.max_retry_after else None
        if error.status in self.retry.retry_statuses:
            return self.retry.delay(attempt)
        if error.code in self.retry.retry_codes:
            return self.retry.delay(attempt)
        return None


def _is_success(status: int, body: Any, ok: frozenset[int] | None) -> bool:
    if ok is not None and status in ok:
        return True
    if not 200 <= status < 300:
        return False
    # 2xx with an error-shaped body (e.g. 202 + code 304023 "waiting for audit") is an error
    if isinstance(body, dict) and "id" not in body:
        code = body.get("code")
        if isinstance(code, int) and not isinstance(code, bool) and code != 0 and "message" in body:
            return False
    return True


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
