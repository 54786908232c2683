"""Helpers of the end-to-end bot tests: a bot wired to a running emulator."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator, Callable

from qgactor.bot import Bot


def make_bot(emu: Any, **settings: Any) -> Bot:
    """A bot pointed at ``emu`` (custom environment, in-memory sessions unless given)."""
    settings.setdefault("session_store", ":memory:")
    return Bot(appid=emu.appid, secret=emu.secret, environment="custom", api_url=emu.api_url,
               token_url=emu.token_url, **settings)


@contextlib.asynccontextmanager
async def running(emu: Any, setup: Callable[[Bot], None] | None = None, **settings: Any) -> AsyncIterator[Bot]:
    """Start a bot against ``emu`` (after ``setup(bot)``) and wait until its gateway session is up."""
    bot = make_bot(emu, **settings)
    if setup is not None:
        setup(bot)
    async with bot.running():
        await emu.control.wait_for_sessions(1, timeout=10)
        yield bot


async def say(emu: Any, scene: str, content: str, **kw: Any) -> dict[str, Any]:
    """Inject a user message and return the injected event info."""
    return await emu.control.send_message(scene, content, **kw)


async def reply_to(emu: Any, sent: dict[str, Any], timeout: float = 5.0, **kw: Any) -> dict[str, Any]:
    """Wait for the bot's reply to the injected message ``sent``."""
    return await emu.control.wait_for_reply(sent["message_id"], timeout=timeout, **kw)


class Recorder:
    """Collects what handlers saw, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def add(self, name: str, text: str = "") -> None:
        self.calls.append((name, text))

    def names(self) -> list[str]:
        return [n for n, _ in self.calls]

    def take(self) -> list[str]:
        out = self.names()
        self.calls.clear()
        return out


async def process(bot: Bot, emu: Any, scene: str, content: str, **kw: Any) -> dict[str, Any]:
    """Inject a message and wait until the bot's dispatcher has completely processed it."""
    core = bot.dispatch_core
    assert core is not None
    target = core.stats.completed + 1
    sent = await emu.control.send_message(scene, content, **kw)
    import trio

    with trio.fail_after(5):
        await core.wait_completed(target)
    return sent
