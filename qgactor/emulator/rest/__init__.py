"""REST route groups of the emulator (spec section 6), one module per endpoint family."""

from __future__ import annotations

from ..http import Router
from ..platform import Platform

__all__ = ["build_rest_router"]


def build_rest_router(platform: Platform) -> Router:
    """A router with every REST endpoint, bound to ``platform``."""
    from . import channels, core, extras, members, messages, openmsg

    router = Router()
    for module in (core, channels, members, messages, openmsg, extras):
        module.install(router, platform)
    return router
