"""End to end against the emulator: a command and a sync handler answer in a guild."""

from __future__ import annotations

import pytest

from qgactor.emulator import open_emulator

from bot_harness import reply_to, running, say


async def test_async_command_and_sync_message_handler() -> None:
    async with open_emulator(heartbeat_interval_ms=1000) as emu:
        def setup(bot):
            @bot.on_command("hello")
            async def hello(msg):
                await msg.reply("hi " + msg.rest)

            @bot.on_message()
            def echo(msg):
                msg.reply("echo: " + msg.text)

        async with running(emu, setup):
            sent = await say(emu, "guild", "/hello world")
            r = await reply_to(emu, sent)
            print(r)
            sent = await say(emu, "guild", "what")
            r2 = await reply_to(emu, sent)
            print(r2)
