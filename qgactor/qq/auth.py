"""Credentials: the app access-token source and the legacy bot token.

``TokenSource`` implements the current scheme (spec 2.3): ``POST getAppAccessToken`` with
``appId``/``clientSecret``, header ``Authorization: QQBot {token}`` plus ``X-Union-Appid``.
It fetches lazily, refreshes ahead of expiry, lets only one refresh run at a time (the
others wait for it and reuse its result), and can be forced to refresh after a 401.

``LegacyToken`` is the old ``Bot {appid}.{token}`` scheme (spec 2.2); it cannot refresh.

Both satisfy the ``Credentials`` protocol the API client and the gateway use. Neither ever
shows the secret or the token in ``repr``, logs or errors.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import httpx
import trio

from qgactor.qq.endpoints import PRODUCTION_TOKEN_URL
from qgactor.qq.errors import ApiConnectionError, AuthError

__all__ = ["Credentials", "TokenSource", "LegacyToken", "parse_expires_in"]

log = logging.getLogger(__name__)


@runtime_checkable
class Credentials(Protocol):
    """What the API client and the gateway need from a credential object."""

    appid: str
    #: Whether ``invalidate()`` + ``header()`` can yield a different (fresh) credential.
    refreshable: bool

    async def header(self) -> str:
        """The ``Authorization`` header value (also the gateway Identify token)."""
        ...

    async def headers(self) -> dict[str, str]:
        """All auth headers for a REST request."""
        ...

    async def invalidate(self, stale: str | None = None) -> None:
        """Forget the current credential (only if it still is ``stale``, when given)."""
        ...


def parse_expires_in(value: Any) -> float:
    """Seconds from an ``expires_in`` value given as a JSON number or a numeric string.

    Raises ``ValueError`` for anything else (booleans, non-numeric strings, non-finite or
    negative numbers).
    """
    if isinstance(value, bool):
        raise ValueError(f"expires_in must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            raise ValueError(f"expires_in is not numeric: {value[:20]!r}") from None
    else:
        raise ValueError(f"expires_in must be a number or numeric string, got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expires_in out of range: {seconds}")
    return seconds


class TokenSource:
    """App access tokens from ``appid`` + ``secret``, refreshed ahead of expiry.

    ``TokenSource(appid, secret, *, token_url=PRODUCTION_TOKEN_URL, refresh_margin=60.0,
    http=None, timeout=10.0, attempts=3, clock=None)``

    - ``await get()`` returns a valid access token, fetching one if there is none or the
      cached one expires within ``refresh_margin`` seconds (the platform hands out a new token
      in the last 60 s of the old one, which stays valid meanwhile).
    - Single flight: concurrent callers wait on one ``trio.Lock``; only one POST is made.
    - ``await invalidate(stale)`` forces the next ``get()`` to fetch (after a 401). Passing the
      header that failed makes it a no-op when another task already refreshed it.
    - ``await refresh()`` fetches now, unconditionally.
    - ``http``: an ``httpx.AsyncClient`` to use; by default one is opened per fetch.
    - Times come from ``clock`` (default ``trio.current_time``); tests pass their own clock
      function to drive expiry without sleeping.

    Raises ``AuthError`` when the platform rejects the credentials or answers garbage and
    ``ApiConnectionError`` when the token URL cannot be reached after ``attempts`` tries.
    """

    refreshable = True

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        token_url: str = PRODUCTION_TOKEN_URL,
        refresh_margin: float = 60.0,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not appid or not secret:
            raise ValueError("TokenSource needs a non-empty appid and secret")
        self.appid = str(appid)
        self._secret = secret
        self.token_url = token_url
        self.refresh_margin = refresh_margin
        self._http = http
        self._timeout = timeout
        self._attempts = max(1, attempts)
        self._now = clock or trio.current_time
        self._token: str | None = None
        self._expires_at = -math.inf
        self._lifetime = 0.0
        self._lock = trio.Lock()
        self._headers: tuple[str, Mapping[str, str]] | None = None  # (token, its REST headers)
        #: How many tokens were fetched (for status output and tests).
        self.fetch_count = 0

    def __repr__(self) -> str:
        state = "no token"
        if self._token is not None:
            try:
                left = self._expires_at - self._now()
                state = f"token expires in {left:.0f}s"
            except RuntimeError:
                state = "token cached"
        return f"<TokenSource appid={self.appid!r} secret=<redacted> {state}>"

    @property
    def expires_at(self) -> float:
        """``clock()`` time at which the cached token expires (``-inf`` if none)."""
        return self._expires_at

    def _margin(self) -> float:
        # never refresh-storm on tokens shorter than the margin
        return min(self.refresh_margin, self._lifetime / 2)

    def _fresh(self) -> bool:
        return self._token is not None and self._now() < self._expires_at - self._margin()

    def seconds_until_refresh(self) -> float:
        """How long until ``get()`` would fetch a new token (0 if it would now).

        A supervising actor sleeps this long and then calls ``get()`` to refresh proactively.
        """
        if self._token is None:
            return 0.0
        return max(0.0, self._expires_at - self._margin() - self._now())

    def authorization(self) -> str | None:
        """The cached ``QQBot {token}`` header value if still fresh, else ``None`` (no I/O)."""
        return f"QQBot {self._token}" if self._fresh() else None

    async def get(self) -> str:
        """Return a valid access token, fetching it if needed (see class docstring)."""
        if self._fresh():
            assert self._token is not None
            return self._token
        async with self._lock:
            if self._fresh():  # another task refreshed while we waited
                assert self._token is not None
                return self._token
            return await self._fetch()

    async def header(self) -> str:
        """``QQBot {access_token}`` for the ``Authorization`` header and gateway Identify."""
        return f"QQBot {await self.get()}"

    async def headers(self) -> dict[str, str]:
        """``Authorization`` and ``X-Union-Appid`` headers for a REST request."""
        return {"Authorization": await self.header(), "X-Union-Appid": self.appid}

    def headers_now(self) -> Mapping[str, str] | None:
        """The REST auth headers of ``headers()`` if the cached token is still fresh, else
        ``None`` (then await ``headers()``, which fetches). No I/O, no checkpoint; the mapping
        is read-only and shared by the requests made with this token."""
        token = self._token
        if token is None or self._now() >= self._expires_at - self._margin():
            return None
        cached = self._headers
        if cached is None or cached[0] is not token:
            cached = self._headers = (token, MappingProxyType(
                {"Authorization": f"QQBot {token}", "X-Union-Appid": self.appid}))
        return cached[1]

    async def invalidate(self, stale: str | None = None) -> None:
        """Drop the cached token so the next ``get()`` fetches a new one.

        ``stale`` is the token or header value a request failed with; if the cache already
        holds a different token (someone refreshed meanwhile) nothing is dropped.
        """
        async with self._lock:
            if stale is not None and self._token is not None and stale not in (
                self._token, f"QQBot {self._token}"
            ):
                return
            self._token = None
            self._expires_at = -math.inf

    async def refresh(self) -> str:
        """Fetch a new token now (single flight with ``get``) and return it."""
        async with self._lock:
            return await self._fetch()

    async def _fetch(self) -> str:
        payload = {"appId": self.appid, "clientSecret": self._secret}
        last: Exception | None = None
        for attempt in range(self._attempts):
            if attempt:
                await trio.sleep(min(4.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2))
            try:
                response = await self._post(payload)
            except httpx.HTTPError as exc:
                last = exc
                log.warning("token fetch attempt %d failed: %s", attempt + 1, type(exc).__name__)
                continue
            if response.status_code >= 500:
                last = AuthError(status=response.status_code, message="token endpoint failed",
                                 method="POST", path=self.token_url)
                continue
            return self._accept(response)
        if isinstance(last, AuthError):
            raise last
        raise ApiConnectionError(
            f"cannot reach the token URL {self.token_url} after {self._attempts} attempts",
            method="POST", path=self.token_url,
        ) from last

    async def _post(self, payload: dict[str, str]) -> httpx.Response:
        if self._http is not None:
            return await self._http.post(self.token_url, json=payload, timeout=self._timeout)
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            return await client.post(self.token_url, json=payload)

    def _accept(self, response: httpx.Response) -> str:
        trace = response.headers.get("X-Tps-trace-ID")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AuthError(status=response.status_code, message="token endpoint answered non-JSON",
                            trace_id=trace, method="POST", path=self.token_url)
        code = body.get("code")
        token = body.get("access_token")
        if response.status_code >= 400 or (code not in (None, 0)) or not isinstance(token, str) or not token:
            raise AuthError(status=response.status_code,
                            code=code if isinstance(code, int) else None,
                            message=str(body.get("message", "no access_token in the answer")),
                            trace_id=trace, method="POST", path=self.token_url)
        try:
            lifetime = parse_expires_in(body.get("expires_in", "7200"))
        except ValueError as exc:
            raise AuthError(status=response.status_code, message=f"bad token answer: {exc}",
                            trace_id=trace, method="POST", path=self.token_url) from None
        self._token = token
        self._lifetime = lifetime
        self._expires_at = self._now() + lifetime
        self.fetch_count += 1
        log.info("fetched an access token for appid %s, valid for %.0fs", self.appid, lifetime)
        return token


class LegacyToken:
    """The legacy ``Bot {appid}.{token}`` credential (spec 2.2). Never expires, cannot refresh.

    ``LegacyToken(appid, token)``. A 401 with it raises ``AuthError`` at once.
    """

    refreshable = False

    def __init__(self, appid: str, token: str) -> None:
        if not appid or not token:
            raise ValueError("LegacyToken needs a non-empty appid and token")
        self.appid = str(appid)
        self._token = token
        self._headers: Mapping[str, str] = MappingProxyType(
            {"Authorization": f"Bot {self.appid}.{token}", "X-Union-Appid": self.appid})

    def __repr__(self) -> str:
        return f"<LegacyToken appid={self.appid!r} token=<redacted>>"

    async def get(self) -> str:
        """The bot token."""
        return self._token

    def authorization(self) -> str:
        """``Bot {appid}.{token}`` (no I/O)."""
        return f"Bot {self.appid}.{self._token}"

    async def header(self) -> str:
        """``Bot {appid}.{token}`` for the ``Authorization`` header and gateway Identify."""
        return self.authorization()

    async def headers(self) -> dict[str, str]:
        """The ``Authorization`` header for a REST request."""
        return {"Authorization": self.authorization(), "X-Union-Appid": self.appid}

    def headers_now(self) -> Mapping[str, str]:
        """The headers of ``headers()`` without a coroutine (read-only, shared)."""
        return self._headers

    async def invalidate(self, stale: str | None = None) -> None:
        """No-op: a legacy token cannot be refreshed."""
