"""The chat console's commands and scripted mode, against the real emulator and a real bot."""

from __future__ import annotations

import io

from qgactor import Bot
from qgactor.console import ConsoleOptions, run_console
from qgactor.console.emulator_link import EmulatorLink


def who_bot() -> Bot:
    bot = Bot(session_store=":memory:")

    @bot.on_command("who")
    async def who(msg):
        await msg.reply(f"{msg.scene.value} {msg.author_id} at={msg.at_bot}")

    @bot.on_command("scene")  # a bot command named like a console command: reachable as //scene
    async def scene(msg):
        await msg.reply("bot scene command")

    @bot.on_message(all_messages=True)
    async def seen(msg):
        await msg.reply(f"seen: {msg.text}")

    return bot


async def test_console_commands_switch_scene_user_and_mention(qq_bot, qq_emulator) -> None:
    await qq_bot(who_bot())
    link = await EmulatorLink.for_emulator(qq_emulator)
    script = "\n".join([
        "/who",
        "/user bob",
        "/scene c2c",
        "/who",
        "/scene group 2",
        "/who",
        "/scene guild",
        "/at off",
        "plain words",
        "//scene",
        "/where",
        "/scene moon",
        "/user nobody",
    ]) + "\n"
    out = io.StringIO()
    await run_console(link, ConsoleOptions(reply_timeout=3.0, settle=0.2, interactive=False),
                      stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    users = {u.name: u.id for u in link.users()}
    assert f"bot> guild {users['alice']} at=True" in text
    assert "you are now bob" in text
    assert "now typing in c2c" in text and "bot> c2c" in text
    assert "now typing in group Second Group" in text and "bot> group" in text
    assert "@-mention of the bot: off" in text
    assert "bot> seen: plain words" in text
    assert "bot> bot scene command" in text
    assert "you are bob in guild #general" in text
    assert "usage: /scene guild|dm|group|c2c" in text
    assert "! no user 'nobody'" in text
