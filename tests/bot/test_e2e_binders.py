"""End to end: every binder receives its events (and subscribes its intent automatically)."""

from __future__ import annotations

import trio

from qgactor.bot import Bot, EventContext
from qgactor.bot.binders import FAMILIES
from qgactor.emulator import open_emulator
from qgactor.qq import Intents

from bot_harness import running

BINDERS = {
    "guild": "on_guild", "channel": "on_channel", "guild_member": "on_guild_member",
    "reaction": "on_reaction", "interaction": "on_interaction", "audit": "on_audit",
    "forum": "on_forum", "open_forum": "on_open_forum", "audio": "on_audio",
    "live_channel_member": "on_live_channel_member", "friend": "on_friend",
    "group_robot": "on_group_robot", "group_member": "on_group_member",
    "message_delete": "on_message_delete",
}


async def inject(bot: Bot, emu, name: str, data=None) -> None:
    core = bot.dispatch_core
    target = core.stats.completed + 1
    await emu.control.inject_event(name, data)
    with trio.fail_after(5):
        await core.wait_completed(target)


async def test_every_binder_receives_its_events() -> None:
    seen: list[tuple[str, str, str]] = []

    def setup(bot: Bot) -> None:
        for family, method in BINDERS.items():
            def make(fam: str):
                async def handler(ctx: EventContext) -> None:
                    seen.append((fam, ctx.name, type(ctx.event).__name__))
                return handler

            options = {"all_messages": True} if family == "message_delete" else {}
            getattr(bot, method)(**options)(make(family))

        @bot.on_event("ENTER_AIO", "SUBSCRIBE_MESSAGE_STATUS")
        def generic(ctx):  # a sync handler for raw events
            seen.append(("event", ctx.name, type(ctx.event).__name__))

    async with open_emulator() as emu:
        async with running(emu, setup) as bot:
            # intents follow the binders
            needed = (Intents.GUILDS | Intents.GUILD_MEMBERS | Intents.GUILD_MESSAGE_REACTIONS
                      | Intents.INTERACTION | Intents.MESSAGE_AUDIT | Intents.FORUMS_EVENT
                      | Intents.OPEN_FORUMS_EVENT | Intents.AUDIO_ACTION
                      | Intents.AUDIO_OR_LIVE_CHANNEL_MEMBER | Intents.GROUP_AND_C2C_EVENT
                      | Intents.GROUP_MEMBERS | Intents.GUILD_MESSAGES | Intents.DIRECT_MESSAGE
                      | Intents.PUBLIC_GUILD_MESSAGES | Intents.ENTER_AIO)
            assert bot.intents == needed
            expected = []
            for family in BINDERS:
                for name in FAMILIES[family][1]:
                    await inject(bot, emu, name)
                    expected.append((family, name))
            await inject(bot, emu, "ENTER_AIO", {"user_openid": "x", "from_source": "y"})
            expected.append(("event", "ENTER_AIO"))
            assert [(f, n) for f, n, _ in seen] == expected
            models = {n: m for _, n, m in seen}
            assert models["GUILD_CREATE"] == "GuildEvent"
            assert models["INTERACTION_CREATE"] == "InteractionEvent"
            assert models["FORUM_PUBLISH_AUDIT_RESULT"] == "ForumAuditResultEvent"
            assert models["MESSAGE_DELETE"] == "MessageDelete"
            assert models["ENTER_AIO"] == "EnterAioEvent"


async def test_ignore_self_delete_and_message_binders() -> None:
    seen: list[str] = []

    def setup(bot: Bot) -> None:
        @bot.on_message_delete(ignore_self_delete=True)
        async def deleted(ctx):
            seen.append("delete:" + ctx.event.op_user.id)

        @bot.on_guild_message
        async def guild(msg):
            seen.append("guild:" + msg.text)

        @bot.on_dm()
        async def dm(msg):
            seen.append("dm:" + msg.text)

        @bot.on_group_message()
        async def group(msg):
            seen.append("group:" + msg.text)

        @bot.on_c2c_message()
        async def c2c(msg):
            seen.append("c2c:" + msg.text)

        @bot.on_ready
        async def ready(ctx):
            seen.append("ready")

    async with open_emulator() as emu:
        async with running(emu, setup) as bot:
            own = {"message": {"id": "m1", "channel_id": "100010", "guild_id": "18700000000001",
                               "author": {"id": "u1"}}, "op_user": {"id": "u1"}}
            other = {"message": {"id": "m2", "channel_id": "100010", "guild_id": "18700000000001",
                                 "author": {"id": "u1"}}, "op_user": {"id": "admin9"}}
            await inject(bot, emu, "PUBLIC_MESSAGE_DELETE", own)
            await inject(bot, emu, "PUBLIC_MESSAGE_DELETE", other)
            core = bot.dispatch_core
            for scene in ("guild", "dm", "group", "c2c"):
                n = core.stats.completed + 1
                await emu.control.send_message(scene, f"hi {scene}")
                with trio.fail_after(5):
                    await core.wait_completed(n)
            assert seen == ["ready", "delete:admin9", "guild:hi guild", "dm:hi dm", "group:hi group",
                            "c2c:hi c2c"]
