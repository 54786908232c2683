"""App access tokens (spec 2.3) and the REST ``Authorization`` check (spec 2.2/2.3)."""

from __future__ import annotations

import attrs

from .clock import IdMaker, PlatformClock
from .config import EmulatorConfig
from .http import PlatformError, Request
from .world import World

__all__ = ["TokenStore", "IssuedToken"]


@attrs.define(slots=True)
class IssuedToken:
    """One access token and its expiry on the platform clock."""

    value: str = attrs.field(repr=False)
    expires_at: float


class TokenStore:
    """Issues and checks access tokens with the documented refresh semantics.

    Requesting again returns the same token; within the last ``token_overlap`` seconds
    before expiry a new token is issued and the old one stays valid until it expires.
    """

    def __init__(self, world: World, config: EmulatorConfig, clock: PlatformClock, ids: IdMaker) -> None:
        self._world = world
        self._config = config
        self._clock = clock
        self._ids = ids
        self._tokens: list[IssuedToken] = []
        self.issued = 0

    def issue(self, app_id: object, client_secret: object) -> IssuedToken:
        """Return the current (or a fresh) token for valid credentials.

        Raises :class:`PlatformError` 401 when the app id or secret is wrong.
        """
        if str(app_id) != self._world.appid or client_secret != self._world.secret:
            raise PlatformError(401, 100016, "invalid appid or secret; check appId and clientSecret")
        now = self._clock.now()
        self._tokens = [t for t in self._tokens if t.expires_at > now]
        if self._tokens:
            newest = self._tokens[-1]
            if newest.expires_at - now > self._config.token_overlap:
                return newest
        token = IssuedToken(self._ids.token(), now + self._config.token_lifetime)
        self._tokens.append(token)
        self.issued += 1
        return token

    def valid(self, value: str) -> bool:
        """True if ``value`` is an access token that has not expired."""
        now = self._clock.now()
        for t in self._tokens:
            if t.value == value and t.expires_at > now:
                return True
        return False

    def check_gateway_token(self, token: object, *, allow_bare: bool = False) -> bool:
        """True if a gateway Identify/Resume ``token`` is acceptable.

        Accepts ``QQBot <tok>``, legacy ``Bot {appid}.{token}`` and ``{appid}.{token}``
        (old botpy), and a bare ``<tok>`` on Resume (botgo, ``allow_bare``).
        """
        if not isinstance(token, str):
            return False
        if token.startswith("QQBot "):
            return self.valid(token[6:].strip())
        if self._legacy_ok(token.removeprefix("Bot ").strip()):
            return True
        return allow_bare and self.valid(token.strip())

    def _legacy_ok(self, cred: str) -> bool:
        w = self._world
        return (self._config.accept_legacy_token and bool(w.legacy_token)
                and cred == f"{w.appid}.{w.legacy_token}")

    def authenticate(self, request: Request) -> None:
        """Check the REST ``Authorization`` header; raise 401 :class:`PlatformError` if bad."""
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise PlatformError(401, 11241, "token missing: send Authorization: QQBot {access_token}")
        union = request.headers.get("x-union-appid")
        if union is not None and union.strip() != self._world.appid:
            raise PlatformError(401, 11251, "X-Union-Appid does not match this app's AppID")
        scheme, _, cred = header.partition(" ")
        cred = cred.strip()
        if scheme == "QQBot":
            if self.valid(cred):
                return
            raise PlatformError(401, 11244, "token过期或者不存在 (token expired or not exist); fetch a new access token")
        if scheme == "Bot":
            if self._legacy_ok(cred):
                return
            raise PlatformError(401, 11243, "token wrong: expected Bot {appid}.{token}")
        raise PlatformError(401, 11243, f"unknown Authorization scheme {scheme!r}; use QQBot or Bot")
