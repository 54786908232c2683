"""The one patch that points an unmodified aiohttp-based SDK at the emulator.

Both peers hard-code the production hosts: ``https://api.sgroup.qq.com`` (REST base) and
``https://bots.qq.com/app/getAppAccessToken`` (token URL). :func:`install` replaces
``aiohttp.ClientSession`` with a subclass whose ``_request`` rewrites those two prefixes to the
emulator's URLs; every other request (the websocket URL the SDKs read from
``GET /gateway/bot``) passes unchanged. It must run before the SDK is imported (qg-botsdk does
``from aiohttp import ClientSession`` at import time; botpy looks ``aiohttp.ClientSession`` up
at call time). No SDK code is changed.
"""

from __future__ import annotations

import aiohttp

PRODUCTION_API = "https://api.sgroup.qq.com"
PRODUCTION_TOKEN_URL = "https://bots.qq.com/app/getAppAccessToken"


def install(api_base: str, token_url: str) -> type[aiohttp.ClientSession]:
    """Make every new ``aiohttp.ClientSession`` send production-host requests to the emulator."""
    rewrites = ((PRODUCTION_TOKEN_URL, token_url), (PRODUCTION_API, api_base.rstrip("/")))

    class RewritingSession(aiohttp.ClientSession):
        def _request(self, method, str_or_url, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            url = str(str_or_url)
            for old, new in rewrites:
                if url.startswith(old):
                    url = new + url[len(old):]
                    break
            return super()._request(method, url, *args, **kwargs)

    aiohttp.ClientSession = RewritingSession  # type: ignore[misc]
    return RewritingSession
