"""End to end: every command option, preprocessors and the short-circuit order."""

from __future__ import annotations

import attrs
import trio

from qgactor.bot import Bot
from qgactor.emulator import open_emulator

from bot_harness import Recorder, process, running

ALICE, BOB, CAROL = "144115218181000001", "144115218181000002", "144115218181000003"
BOB_OPENID = "B0B00000000000000000000000000002"  # C2C authors are openids
BOB_GROUP = "E4F4AEA33253A2797FB897C50B81D7EE"  # bob's member openid in the first group (a plain member)


def setup_commands(bot: Bot, rec: Recorder) -> None:
    @bot.on_command("hello")
    async def hello(msg):
        rec.add("hello", msg.rest)

    @bot.on_command("help")
    async def help_(msg):
        rec.add("help", msg.rest)

    @bot.on_command("help me")
    async def help_me(msg):
        rec.add("help me", msg.rest)

    @bot.on_command(regex=r"roll (\d+)d(\d+)")
    async def roll(msg):
        rec.add("roll", ",".join(msg.groups) + "|" + msg.rest)

    @bot.on_command("secret", require_at=True)
    async def secret(msg):
        rec.add("secret")

    @bot.on_command("kick", admin_only=True, admin_refusal="admins only")
    async def kick(msg):
        rec.add("kick")

    @bot.on_command("grouponly", scenes=["group"])
    async def grouponly(msg):
        rec.add("grouponly")

    @bot.on_command("pass", short_circuit=False)
    async def passthrough(msg):
        rec.add("pass")

    @bot.on_command("maybe", custom_short_circuit=True)
    async def maybe(msg):
        rec.add("maybe")
        return msg.rest == "stop"

    @bot.before_command
    async def pre(msg):
        rec.add("pre")
        return False if "blocked" in msg.text else None

    @bot.on_message()
    async def fallback(msg):
        rec.add("fallback", msg.text)

    @bot.on_group_message(all_messages=True)
    async def group_all(msg):
        rec.add("group_all", msg.text)


async def test_command_options_and_short_circuit_order() -> None:
    rec = Recorder()
    async with open_emulator() as emu:
        async with running(emu, lambda b: setup_commands(b, rec), admins=[BOB, BOB_OPENID]) as bot:
            # words, with and without the prefix; the rest is handed over
            await process(bot, emu, "guild", "/hello big world")
            assert rec.calls == [("pre", ""), ("hello", "big world")]
            rec.take()
            await process(bot, emu, "guild", "hello")
            assert rec.take() == ["pre", "hello"]
            # longest match first: "help me" wins over "help"
            await process(bot, emu, "guild", "/help me now")
            assert rec.calls[1:] == [("help me", "now")]
            rec.take()
            # regex groups and the rest
            await process(bot, emu, "c2c", "please roll 2d6 fast")
            assert rec.calls[1:] == [("roll", "2,6|fast")]
            rec.take()
            # no command: the fallback message handler
            await process(bot, emu, "dm", "just chatting")
            assert rec.calls == [("pre", ""), ("fallback", "just chatting")]
            rec.take()
            # preprocessor returning False stops everything
            await process(bot, emu, "guild", "/hello blocked")
            assert rec.take() == ["pre"]
            # require_at: a group message without @ does not run it (only the all-messages handler)
            await process(bot, emu, "group", "secret", at_bot=False)
            assert rec.take() == ["pre", "group_all"]
            await process(bot, emu, "group", "secret")
            assert rec.take() == ["pre", "secret"]
            # admin only: alice is refused with a reply, carol (guild admin) and bob (bot admin) pass
            sent = await process(bot, emu, "guild", "kick x", user=ALICE)
            assert rec.take() == ["pre"]
            refusal = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
            assert refusal["content"] == "admins only"
            await process(bot, emu, "guild", "kick x", user=CAROL)
            await process(bot, emu, "c2c", "kick x", user=BOB)
            assert rec.take() == ["pre", "kick", "pre", "kick"]
            await process(bot, emu, "group", "kick x", user=CAROL)  # group admin role
            assert rec.take() == ["pre", "kick"]
            # the guild owner role (4) alone is enough: alice owns the second guild
            await process(bot, emu, "guild", "kick x", user=ALICE, channel="200010")
            assert rec.take() == ["pre", "kick"]
            # groups: a plain member (bob in the first group) is refused with the reply...
            sent = await process(bot, emu, "group", "kick x", user=BOB)
            assert rec.take() == ["pre"]
            refusal = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
            assert refusal["content"] == "admins only"
            # ...unless the bot-admin list names his member openid in that group
            bot.services.settings = attrs.evolve(bot.settings, admins=[*bot.settings.admins, BOB_GROUP])
            await process(bot, emu, "group", "kick x", user=BOB)
            assert rec.take() == ["pre", "kick"]
            # valid scenes: in a guild "grouponly" is not a command, so the fallback runs
            await process(bot, emu, "guild", "grouponly")
            assert rec.take() == ["pre", "fallback"]
            await process(bot, emu, "group", "grouponly")
            assert rec.take() == ["pre", "grouponly"]
            # short circuit off: the message handler runs too
            await process(bot, emu, "guild", "pass")
            assert rec.take() == ["pre", "pass", "fallback"]
            # custom short circuit by return value
            await process(bot, emu, "guild", "maybe stop")
            assert rec.take() == ["pre", "maybe"]
            await process(bot, emu, "guild", "maybe go")
            assert rec.take() == ["pre", "maybe", "fallback"]


async def test_enable_disable_register_remove_while_running() -> None:
    rec = Recorder()

    def setup(bot: Bot) -> None:
        @bot.on_command("ping")
        async def ping(msg):
            rec.add("ping")

        @bot.on_message()
        def fallback(msg):  # a sync handler
            rec.add("fallback")

    async with open_emulator() as emu:
        async with running(emu, setup) as bot:
            await process(bot, emu, "guild", "ping")
            assert rec.take() == ["ping"]
            bot.disable_command("ping")
            await process(bot, emu, "guild", "ping")
            assert rec.take() == ["fallback"]
            bot.enable_command("ping")
            await process(bot, emu, "guild", "ping")
            assert rec.take() == ["ping"]

            async def late(msg):
                rec.add("late", msg.rest)

            bot.add_command(late, ["late", "later"], owner="plugin-x")
            bot.on_command("other", owner="plugin-x")(late)
            await process(bot, emu, "group", "/later on")
            assert rec.calls == [("late", "on")]
            rec.take()
            assert bot.remove_components("plugin-x") == 2
            await process(bot, emu, "group", "/later on")
            assert rec.take() == ["fallback"]
            assert bot.remove_command("ping") == 1
            await process(bot, emu, "guild", "ping")
            assert rec.take() == ["fallback"]
