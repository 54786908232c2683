"""Where the platform lives: OpenAPI base URL and access-token URL per environment.

``PRODUCTION`` and ``SANDBOX`` are the real platform (spec section 1); ``Endpoints.custom``
points a bot at anything else, e.g. the local emulator::

    Endpoints.custom(api_base=emu.api_url, token_url=emu.token_url)
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["Endpoints", "PRODUCTION", "SANDBOX", "PRODUCTION_TOKEN_URL"]

#: The access-token endpoint; the same for production and sandbox (spec 1).
PRODUCTION_TOKEN_URL: Final = "https://bots.qq.com/app/getAppAccessToken"


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


@attrs.frozen
class Endpoints:
    """The URLs of one platform environment.

    ``api_base``: the OpenAPI root (``https://api.sgroup.qq.com``); ``token_url``: the full
    ``getAppAccessToken`` URL; ``gateway_url``: an optional websocket URL that overrides the
    one ``GET /gateway/bot`` returns; ``name``: ``"production"``, ``"sandbox"`` or ``"custom"``.
    """

    api_base: str = attrs.field(converter=_strip_slash)
    token_url: str = PRODUCTION_TOKEN_URL
    gateway_url: str | None = None
    name: str = "custom"

    @property
    def is_sandbox(self) -> bool:
        """True for the official sandbox environment."""
        return self.name == "sandbox"

    @classmethod
    def production(cls) -> Endpoints:
        """The production platform (``https://api.sgroup.qq.com``)."""
        return PRODUCTION

    @classmethod
    def sandbox(cls) -> Endpoints:
        """The sandbox platform (``https://sandbox.api.sgroup.qq.com``)."""
        return SANDBOX

    @classmethod
    def custom(cls, api_base: str, token_url: str | None = None,
               gateway_url: str | None = None) -> Endpoints:
        """Any other platform, e.g. the emulator.

        ``token_url`` defaults to ``{api_base}/app/getAppAccessToken`` (a server that serves
        both, like the emulator). Raises ``ValueError`` if ``api_base`` is not an http(s) URL.
        """
        if not api_base.startswith(("http://", "https://")):
            raise ValueError(f"api_base must be an http:// or https:// URL, got {api_base!r}")
        base = _strip_slash(api_base)
        return cls(api_base=base, token_url=token_url or f"{base}/app/getAppAccessToken",
                   gateway_url=gateway_url, name="custom")

    @classmethod
    def named(cls, name: str) -> Endpoints:
        """``"production"`` or ``"sandbox"``; raises ``ValueError`` for anything else."""
        presets = {"production": PRODUCTION, "sandbox": SANDBOX}
        try:
            return presets[name]
        except KeyError:
            raise ValueError(
                f"unknown environment {name!r}: use 'production', 'sandbox' or Endpoints.custom(...)"
            ) from None


#: The production platform.
PRODUCTION: Final = Endpoints(api_base="https://api.sgroup.qq.com", name="production")
#: The sandbox platform: same paths and token URL, another API host.
SANDBOX: Final = Endpoints(api_base="https://sandbox.api.sgroup.qq.com", name="sandbox")
