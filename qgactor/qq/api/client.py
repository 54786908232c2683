"""``ApiClient``: the typed REST client of the QQ Open Platform."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from qgactor.qq.api.channels import ChannelsMixin
from qgactor.qq.api.forum import ForumMixin
from qgactor.qq.api.guild_admin import GuildAdminMixin
from qgactor.qq.api.members import MembersMixin
from qgactor.qq.api.reactions import ReactionsAudioMixin
from qgactor.qq.api.send import SendMixin
from qgactor.qq.api.users import UsersMixin
from qgactor.qq.auth import Credentials
from qgactor.qq.endpoints import PRODUCTION, Endpoints
from qgactor.qq.http import ApiResponse, HttpCore, Limits, RetryPolicy, Route
from qgactor.qq.transport_client import ApiTransport

__all__ = ["ApiClient", "USER_AGENT"]

USER_AGENT = "qgactor (+https://example.invalid/qgactor)"


class ApiClient(SendMixin, UsersMixin, ChannelsMixin, MembersMixin, GuildAdminMixin, ReactionsAudioMixin,
                ForumMixin):
    """One typed async method per OpenAPI endpoint, plus ``send``/``reply`` and ``request``.

    ``ApiClient(credentials, *, endpoints=PRODUCTION, base_url=None, retry=RetryPolicy(),
    limits=Limits(), http=None)``

    - ``credentials``: a ``TokenSource`` or ``LegacyToken``.
    - ``endpoints``: ``PRODUCTION``, ``SANDBOX`` or ``Endpoints.custom(...)``; ``base_url``
      overrides its API base.
    - ``http``: an ``httpx.AsyncClient`` to send through instead (its ``base_url`` is ignored;
      absolute URLs are used; the caller closes it). By default the client owns a lean
      keep-alive pool of its own (``qgactor.qq.transport_client.ApiTransport``, at most
      ``limits.max_concurrency`` connections), several times cheaper per request than httpx.

    Use ``async with ApiClient(...) as api:`` (or ``await api.aclose()``). Every method
    raises the ``ApiError`` family, ``ApiConnectionError`` or ``ValueError`` for bad arguments.
    """

    def __init__(self, credentials: Credentials, *, endpoints: Endpoints | None = None,
                 base_url: str | None = None, retry: RetryPolicy | None = None,
                 limits: Limits | None = None, http: httpx.AsyncClient | None = None) -> None:
        self.credentials = credentials
        self.endpoints = endpoints or PRODUCTION
        self.base_url = (base_url or self.endpoints.api_base).rstrip("/")
        limits = limits or Limits()
        self._owns_http = http is None
        client: ApiTransport | httpx.AsyncClient
        if http is None:
            client = ApiTransport(self.base_url, max_connections=limits.max_concurrency, user_agent=USER_AGENT)
            sender: ApiTransport | _Prefixed = client
        else:
            client = http
            sender = _Prefixed(http, self.base_url)
        self._base_client = client
        self._http = HttpCore(credentials, sender, retry=retry, limits=limits)

    def __repr__(self) -> str:
        return f"<ApiClient {self.base_url} {self.credentials!r}>"

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in use."""
        return self._http.retry

    @property
    def last_trace_id(self) -> str | None:
        """The ``X-Tps-trace-ID`` of the latest answer."""
        return self._http.last_trace_id

    async def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                      data: Mapping[str, Any] | None = None, files: Any = None,
                      dedup: bool = False) -> ApiResponse:
        """Escape hatch: call any path (``"/guilds/123/foo"``) with the full auth/retry/limit
        policy; returns the ``ApiResponse`` (``.data`` is the parsed JSON)."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        return await self._http.request(Route(method, path),
                                         json=json, params=params, data=data, files=files, dedup=dedup)

    async def aclose(self) -> None:
        """Close the HTTP connections (if this client owns them)."""
        if self._owns_http:
            await self._base_client.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


class _Prefixed:
    """Prefix paths with the API base on a shared ``httpx.AsyncClient``."""

    __slots__ = ("_client", "_base")

    def __init__(self, client: httpx.AsyncClient, base: str) -> None:
        self._client = client
        self._base = base

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._client.request(method, self._base + path, **kwargs)
