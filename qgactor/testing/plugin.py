"""pytest plugin of the qgactor testing kit (registered through the ``pytest11`` entry point).

Fixtures (async: use ``trio_mode = true`` in your pytest config, as ``qgactor init`` writes):

``qq_emulator``
    a running emulator of the QQ Open Platform on a free port (``.api_url``, ``.appid``,
    ``.secret``, ``.control`` ...).
``qq_bot``
    a starter: ``chat = await qq_bot(bot)`` runs your :class:`qgactor.Bot` (not yet started)
    against ``qq_emulator``; ``await qq_bot(plugins_dir="plugins")`` runs a fresh bot with
    those plugins. Returns a :class:`~qgactor.testing.BotChat`.
``qq_project``
    the project in pytest's rootdir (``qgactor.toml``, ``plugins/``, ``actors/``) started as
    ``qgactor run`` starts it, with in-memory sessions; a :class:`~qgactor.testing.BotChat`.

    async def test_hello(qq_project):
        reply = await qq_project.say("/hello")
        assert "Hello" in reply.text

This module is imported by every pytest run in an environment where qgactor is installed, so it
imports nothing heavy at import time: the fixtures import the emulator and the bot when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest


@pytest.fixture
async def qq_emulator() -> AsyncIterator[Any]:
    """A running emulator on 127.0.0.1 and a free port, stopped after the test."""
    from qgactor.emulator import open_emulator

    async with open_emulator(port=0) as emulator:
        yield emulator


@pytest.fixture
async def qq_bot(qq_emulator: Any) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``chat = await qq_bot(bot=None, *, plugins_dir=None, connect_timeout=10, **settings)``.

    Starts the bot against ``qq_emulator`` (stopped after the test) and returns a BotChat.
    """
    import trio

    from qgactor.testing.harness import open_bot_chat

    async with trio.open_nursery() as nursery:

        async def start(bot: Any = None, **options: Any) -> Any:
            async def hold(task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
                async with open_bot_chat(qq_emulator, bot, **options) as chat:
                    task_status.started(chat)
                    await trio.sleep_forever()

            return await nursery.start(hold)

        yield start
        nursery.cancel_scope.cancel()


@pytest.fixture
async def qq_project(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """The project in pytest's rootdir, started like ``qgactor run`` on an embedded emulator."""
    import trio

    from qgactor.testing.project import open_project_chat

    root = Path(str(request.config.rootpath))
    async with trio.open_nursery() as nursery:

        async def hold(task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
            async with open_project_chat(root) as chat:
                task_status.started(chat)
                await trio.sleep_forever()

        chat = await nursery.start(hold)
        yield chat
        nursery.cancel_scope.cancel()
