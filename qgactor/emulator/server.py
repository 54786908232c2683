"""``open_emulator()``: run the emulator (its own h11 + wsproto server, :mod:`.httpd`) in the
caller's trio program."""

from __future__ import annotations

import gc
import logging
import socket
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, AsyncIterator

import attrs
import httpx
import trio

from .app import TOKEN_PATH, EmulatorApp
from .client import ControlClient
from .config import EmulatorConfig
from .control import build_control_router
from .httpd import HttpServer, ServerLimits, bind
from .httpd import base_url as listening_url
from .platform import Platform
from .rest import build_rest_router
from .signing import public_key_bytes
from .world import World

__all__ = ["Emulator", "open_emulator", "serve_emulator", "tune_gc_for_serving", "bind_sockets"]

log = logging.getLogger(__name__)


@attrs.define(slots=True, eq=False)
class Emulator:
    """A running emulator: its URLs, credentials, state and control client."""

    platform: Platform
    base_url: str
    control: ControlClient

    @property
    def api_url(self) -> str:
        """OpenAPI base URL (replaces ``https://api.sgroup.qq.com``)."""
        return self.base_url

    @property
    def token_url(self) -> str:
        """Access-token URL (replaces ``https://bots.qq.com/app/getAppAccessToken``)."""
        return self.base_url + TOKEN_PATH

    @property
    def gateway_url(self) -> str:
        """Websocket gateway URL (what ``GET /gateway`` returns)."""
        return self.platform.gateway_url

    @property
    def appid(self) -> str:
        """The bot's AppID."""
        return self.platform.world.appid

    @property
    def secret(self) -> str:
        """The bot's AppSecret (also the webhook signing seed)."""
        return self.platform.world.secret

    @property
    def legacy_token(self) -> str:
        """The legacy bot token for ``Bot {appid}.{token}``."""
        return self.platform.world.legacy_token

    @property
    def world(self) -> World:
        """The live world (mutating it affects REST answers)."""
        return self.platform.world

    @property
    def config(self) -> EmulatorConfig:
        """The configuration in effect."""
        return self.platform.config

    @property
    def public_key(self) -> bytes:
        """Raw Ed25519 public key of the webhook signatures."""
        return public_key_bytes(self.secret)

    def __repr__(self) -> str:
        return f"<Emulator {self.base_url} appid={self.appid}>"


#: Garbage-collector thresholds of a process that only serves the emulator.
SERVING_GC_THRESHOLDS = (100_000, 50, 100)


def tune_gc_for_serving() -> None:
    """Tune the garbage collector for a process that only runs the emulator (standalone,
    benchmarks). Not for a process the emulator is embedded in: it changes process-wide settings.

    The emulator keeps up to 200 000 messages and reply records for the passive-reply rules;
    with the default thresholds, collections over that heap cost as much as building and
    publishing an event (in-process: ~47 us/event with the defaults, ~28 with these, ~22 with
    no collection at all). Objects alive at startup (modules, the world) are frozen out of
    collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)


def bind_sockets(config: EmulatorConfig) -> socket.socket:
    """Create the listening socket now, so a busy port raises a plain ``OSError``."""
    return bind(config.host, config.port)


def server_limits(config: EmulatorConfig) -> ServerLimits:
    """The server limits of ``config`` (body size, keep-alive timeout)."""
    return ServerLimits(max_body=config.max_body, keep_alive_timeout=config.keep_alive_timeout)


async def serve_emulator(platform: Platform, *, bound: socket.socket | None = None,
                         task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Serve ``platform`` until cancelled; ``task_status.started(base_url)`` once listening.

    ``bound`` comes from :func:`bind_sockets` (bound here if omitted; ``OSError`` if the
    port is taken). Cancelling it closes every connection (websockets without a close
    frame, like a network loss).
    """
    listener = bound if bound is not None else bind_sockets(platform.config)
    app = EmulatorApp(platform, build_rest_router(platform), build_control_router(platform))
    server = HttpServer(app, server_limits(platform.config))
    async with trio.open_nursery() as nursery:
        platform.base_url = listening_url(listener)
        await nursery.start(partial(server.serve, listener))
        nursery.start_soon(platform.webhook.run)
        if platform.webhook.url:
            nursery.start_soon(_validate_configured_webhook, platform)
        log.info("emulator listening on %s (appid %s)", platform.base_url, platform.world.appid)
        task_status.started(platform.base_url)


async def _validate_configured_webhook(platform: Platform) -> None:
    url = platform.webhook.url
    assert url is not None
    result = await platform.webhook.validate(url)
    if result["ok"]:
        log.info("webhook %s validated (op 13)", url)
    else:
        log.warning("webhook %s failed the op 13 validation (%s); delivering anyway", url, result["detail"])


@asynccontextmanager
async def open_emulator(config: EmulatorConfig | None = None, *, world: World | Path | str | None = None,
                        **overrides: Any) -> AsyncIterator[Emulator]:
    """Start an emulator on a free port (by default) and yield an :class:`Emulator`.

    ``world`` is a :class:`World` or a TOML path (default: ``config.world``, else the packaged
    default world). ``overrides`` are :class:`EmulatorConfig` fields (e.g. ``heartbeat_interval_ms=200``).
    The server stops when the block exits. Raises :class:`~qgactor.emulator.WorldError`
    for a bad world file and ``OSError`` if the port cannot be bound.
    """
    config = attrs.evolve(config or EmulatorConfig(), **overrides)
    if not isinstance(world, World):
        world = World.load(world if world is not None else config.world)
    platform = Platform(config, world)
    bound = bind_sockets(config)
    async with trio.open_nursery() as nursery:
        base_url = await nursery.start(partial(serve_emulator, platform, bound=bound))
        # the control API is plain http on this host: no TLS context needed (loading the CA
        # bundle costs ~60 ms per emulator, which adds up over a test suite)
        async with httpx.AsyncClient(timeout=30.0, verify=False) as http:
            emu = Emulator(platform, base_url, ControlClient(base_url, client=http))
            try:
                yield emu
            finally:
                nursery.cancel_scope.cancel()
