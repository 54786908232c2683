"""End to end: the ten-line bot, the actor tree, several bots in one process, webhook transport."""

from __future__ import annotations

from pathlib import Path

import trio

from qgactor.bot import Bot
from qgactor.runtime import Actor, ChildSpec
from qgactor.emulator import open_emulator

from bot_harness import make_bot, process, reply_to, running, say


class Pinger(Actor):
    """A user actor added as a service."""

    async def receive(self, msg):
        return "pong"


async def test_ten_line_bot_its_actor_tree_jobs_and_services(caplog) -> None:
    jobs: list[str] = []
    ticked = trio.Event()

    async with open_emulator() as emu:
        def setup(bot):
            @bot.on_start
            async def started(ctx):
                jobs.append("start:" + (await ctx.api.get_me()).id)

            @bot.every(0.05, delay=0)
            def tick(ctx):  # a sync job in a worker thread
                jobs.append("tick")
                if jobs.count("tick") == 3:
                    trio.from_thread.run_sync(ticked.set)

            @bot.on_stop
            async def stopped(ctx):
                jobs.append("stop")

            bot.add_service(ChildSpec(Pinger, name="pinger"))

            @bot.on_command("hello")
            async def hello(msg):
                await msg.reply("hi " + msg.rest)

            @bot.on_message()
            def echo(msg):
                msg.reply("echo: " + msg.text)

        async with running(emu, setup) as bot:
            sent = await say(emu, "guild", "/hello world")
            assert (await reply_to(emu, sent))["content"] == "hi world"
            sent = await say(emu, "group", "what")
            assert (await reply_to(emu, sent))["content"] == "echo: what"
            snap = bot.snapshot()
            names = [child.name for child in snap.children]
            assert names == ["token", "sessions", "conversations", "dispatcher", "scheduler", "gateway",
                             "pinger"]
            assert await bot.system.lookup("pinger").ask("ping") == "pong"
            assert await bot.remove_service("pinger") is True
            assert bot.system.lookup("pinger") is None
            extra = await bot.add_service(ChildSpec(Pinger, name="pinger2"))
            assert await extra.ask("x") == "pong"
            with trio.fail_after(5):
                await ticked.wait()
            # a component added while running that needs a new intent is reported
            bot.on_forum()(lambda ctx: None)
            assert "need intents" in caplog.text
            assert snap.find("dispatcher").processed >= 2
            stats = bot.stats()
            assert stats["running"] and stats["dispatcher"]["commands_run"] == 1
        assert bot.snapshot() is None and not bot.stats()["running"]
        assert "start:5566778899001122334" in jobs and jobs[-1] == "stop" and jobs.count("tick") >= 3


async def test_several_bots_in_one_process_are_independent() -> None:
    async with open_emulator() as emu1, open_emulator() as emu2:
        bots = []
        for emu, name in ((emu1, "one"), (emu2, "two")):
            bot = make_bot(emu, name=name)

            @bot.on_command("who")
            async def who(msg, name=name):
                await msg.reply(f"I am {name}")

            bots.append(bot)
        async with bots[0].running(), bots[1].running():
            await emu1.control.wait_for_sessions(1, timeout=10)
            await emu2.control.wait_for_sessions(1, timeout=10)
            s1 = await say(emu1, "c2c", "who")
            s2 = await say(emu2, "c2c", "who")
            assert (await reply_to(emu1, s1))["content"] == "I am one"
            assert (await reply_to(emu2, s2))["content"] == "I am two"
            bots[0].disable_command("who")
            assert bots[1].registry.commands[0].enabled


async def test_webhook_transport_and_config_file(tmp_path: Path) -> None:
    async with open_emulator() as emu:
        cfg = tmp_path / "qgactor.toml"
        cfg.write_text(
            f'[bot]\nappid = "{emu.appid}"\nsecret = "{emu.secret}"\nenvironment = "custom"\n'
            f'api_url = "{emu.api_url}"\ntoken_url = "{emu.token_url}"\ntransport = "webhook"\n'
            'webhook_port = 0\nwebhook_path = "/hook"\nsession_store = "data/s.sqlite3"\n',
            encoding="utf-8",
        )
        bot = Bot.from_config(cfg)
        assert bot.settings.session_store == str(tmp_path / "data/s.sqlite3")

        @bot.on_command("ping")
        async def ping(msg):
            await msg.reply("pong")

        async with bot.running():
            status = await bot.system.lookup("webhook").ask("status")
            await emu.control.set_webhook(status["url"])
            sent = await process(bot, emu, "c2c", "ping")
            assert (await reply_to(emu, sent))["content"] == "pong"
        assert (tmp_path / "data/s.sqlite3").exists()
