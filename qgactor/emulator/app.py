"""The emulator's ASGI application: one port for REST, the token endpoint, the control API
and the websocket gateway.

Any exception in a handler becomes a platform-shaped 500 with the traceback logged; bad
input never crashes the server or hangs a request.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from .gateway import Receive, Send, serve_gateway
from .http import PlatformError, Request, Response, Router, error_response, json_response, to_response
from .platform import Platform

__all__ = ["EmulatorApp", "CONTROL_PREFIX", "TOKEN_PATH"]

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator"
TOKEN_PATH = "/app/getAppAccessToken"
GATEWAY_PATHS = ("/websocket", "/websocket/", "/")


class EmulatorApp:
    """ASGI callable routing to the token endpoint, control API, REST API and gateway."""

    def __init__(self, platform: Platform, rest: Router, control: Router) -> None:
        self.platform = platform
        self.rest = rest
        self.control = control
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            if scope["path"] in GATEWAY_PATHS:
                await serve_gateway(self.platform, scope, receive, send)
            else:
                await receive()
                await send({"type": "websocket.close", "code": 1008})
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        self.requests += 1
        body = bytearray()
        too_big = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if len(body) + len(chunk) > self.platform.config.max_body:
                too_big = True
            elif chunk:
                body += chunk
            if not message.get("more_body", False):
                break
        request = Request.from_scope(scope, bytes(body))
        if too_big:
            response = error_response(413, 12002, f"request body larger than {self.platform.config.max_body} bytes")
        else:
            response = await self.handle(request)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": response.header_list()})
        await send({"type": "http.response.body",
                    "body": b"" if request.method == "HEAD" else response.body})

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
