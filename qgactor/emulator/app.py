"""The emulator's application: one port for REST, the token endpoint, the control API
and the websocket gateway (served by :mod:`.httpd`).

Any exception in a handler becomes a platform-shaped 500 with the traceback logged; bad
input never crashes the server or hangs a request.
"""

from __future__ import annotations

import logging

import trio

from .gateway import serve_gateway
from .http import PlatformError, Request, Response, Router, error_response, json_response, to_response
from .httpd import ServerWebSocket, WebsocketHandler
from .platform import Platform

__all__ = ["EmulatorApp", "CONTROL_PREFIX", "TOKEN_PATH", "GATEWAY_PATHS"]

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator"
TOKEN_PATH = "/app/getAppAccessToken"
#: Paths that accept a websocket upgrade (the gateway); any other path refuses it with 403.
GATEWAY_PATHS = ("/websocket", "/websocket/", "/")


class EmulatorApp:
    """Routes requests to the token endpoint, control API and REST API, and websockets to
    the gateway (the :class:`~qgactor.emulator.httpd.HttpApp` of the emulator's server)."""

    def __init__(self, platform: Platform, rest: Router, control: Router) -> None:
        self.platform = platform
        self.rest = rest
        self.control = control
        self.requests = 0

    async def http(self, request: Request) -> Response:
        """Answer one HTTP request (never raises)."""
        self.requests += 1
        return await self.handle(request)

    def websocket(self, request: Request) -> WebsocketHandler | None:
        """The gateway for :data:`GATEWAY_PATHS`; ``None`` (refused with 403) elsewhere."""
        if request.path not in GATEWAY_PATHS:
            return None
        platform = self.platform

        async def gateway(ws: ServerWebSocket) -> None:
            await serve_gateway(platform, ws)

        return gateway

    def refusal(self, status: int, message: str) -> Response:
        """The platform-shaped answer to a request the server refuses (400, 413, 431, ...)."""
        return error_response(status, 12002 if status == 413 else status, message)

    async def handle(self, request: Request) -> Response:
        """Answer one HTTP request (never raises)."""
        try:
            if request.path.startswith(CONTROL_PREFIX + "/") or request.path == CONTROL_PREFIX:
                return await self._dispatch(self.control, request)
            if request.path.rstrip("/") == TOKEN_PATH:
                return await self._token(request)
            return await self._rest(request)
        except PlatformError as exc:
            return exc.to_response()
        except Exception:
            log.exception("emulator handler crashed on %s %s", request.method, request.path)
            return error_response(500, 500000, "internal emulator error (logged); please report it")

    async def _dispatch(self, router: Router, request: Request) -> Response:
        handler, params, path_known = router.match(request.method, request.path)
        if handler is None:
            if path_known:
                raise PlatformError(405, 405, f"method {request.method} not allowed on {request.path}")
            raise PlatformError(404, 404, f"no such API: {request.method} {request.path}")
        request.params = params
        return to_response(await handler(request))

    async def _token(self, request: Request) -> Response:
        if request.method != "POST":
            raise PlatformError(405, 405, "use POST for getAppAccessToken")
        body = request.json_object(required=True)
        token = self.platform.tokens.issue(body.get("appId", body.get("appid")),
                                           body.get("clientSecret", body.get("client_secret")))
        remaining = max(1, int(token.expires_at - self.platform.clock.now()))
        # expires_in is a string on the wire (spec 2.3: botgo and botpy need that)
        return json_response({"access_token": token.value, "expires_in": str(remaining)})

    async def _rest(self, request: Request) -> Response:
        p = self.platform
        fault = p.faults.pick_rest(request.method, request.path, p.ids)
        if fault is not None:
            if fault.delay:
                await trio.sleep(fault.delay)
            if fault.status is not None:
                raise fault.error()
        handler, params, path_known = self.rest.match(request.method, request.path)
        if handler is None:
            if path_known:
                raise PlatformError(405, 405, f"method {request.method} not allowed on {request.path}")
            raise PlatformError(404, 404, f"no such API: {request.method} {request.path}")
        p.tokens.authenticate(request)
        request.params = params
        return to_response(await handler(request))
