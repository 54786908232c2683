"""Start a bot (or a directory of plugins, or a whole project) against an emulator, for tests."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import attrs
import trio

from qgactor.cli.app import emulator_settings
from qgactor.testing.chat import BotChat

__all__ = ["open_bot_chat", "point_at_emulator", "BotStartError"]


class BotStartError(RuntimeError):
    """The bot under test did not start or did not connect to the emulator in time."""


def point_at_emulator(bot: Any, emulator: Any) -> None:
    """Point a not-yet-running :class:`qgactor.Bot` at ``emulator`` (URLs and credentials).

    Raises ``RuntimeError`` if the bot is already running.
    """
    if getattr(bot, "system", None) is not None:
        raise RuntimeError(f"{bot!r} is already running; hand the testing kit a bot that is not started")
    bot.settings = emulator_settings(bot.settings, emulator)


@asynccontextmanager
async def open_bot_chat(
    emulator: Any,
    bot: Any = None,
    *,
    plugins_dir: str | Path | None = None,
    connect_timeout: float = 10.0,
    **settings: Any,
) -> AsyncIterator[BotChat]:
    """Run ``bot`` (default: a new ``Bot`` with in-memory sessions and ``settings``) against
    ``emulator`` for the block, with the plugins of ``plugins_dir`` loaded (no file watching),
    and yield a :class:`BotChat` once the bot is connected.

    Raises :class:`BotStartError` if it is not connected within ``connect_timeout`` seconds.
    """
    from qgactor.bot import Bot

    if bot is None:
        settings.setdefault("session_store", ":memory:")
        bot = Bot(**settings)
    elif settings:
        bot.settings = attrs.evolve(bot.settings, **settings)
    point_at_emulator(bot, emulator)
    manager = None
    if plugins_dir is not None:
        from qgactor.plugins import PluginManager

        manager = PluginManager(bot, Path(plugins_dir))
        manager.attach(watch=False)
    try:
        async with trio.open_nursery() as nursery:
            with trio.move_on_after(connect_timeout) as scope:
                await nursery.start(bot.serve)
                if bot.settings.transport == "websocket":
                    await emulator.control.wait_for_sessions(1, timeout=connect_timeout)
            if scope.cancelled_caught:
                nursery.cancel_scope.cancel()
                raise BotStartError(f"{bot!r} did not connect to the emulator within {connect_timeout:g} s")
            try:
                yield await BotChat.create(emulator, bot)
            finally:
                bot.stop()
    finally:
        if manager is not None:
            manager.close()
