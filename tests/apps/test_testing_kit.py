"""The testing kit's fixtures against the real emulator and a real bot."""

from __future__ import annotations

import pytest

from qgactor import Bot
from qgactor.testing import ReplyTimeout, UnexpectedReply


def make_bot() -> Bot:
    bot = Bot(session_store=":memory:")

    @bot.on_command("hello")
    async def hello(msg):
        await msg.reply("hi " + (msg.rest or "there"))

    @bot.on_command("twice")
    def twice(msg):  # a sync handler
        msg.reply("one")
        msg.reply("two")

    return bot


async def test_say_returns_the_reply_in_every_scene(qq_bot) -> None:
    chat = await qq_bot(make_bot())
    for scene in ("guild", "dm", "group", "c2c"):
        reply = await chat.say(f"/hello {scene}", scene=scene, user="bob")
        assert reply.text == f"hi {scene}"
        assert reply.scene == scene


async def test_replies_collects_a_burst_and_silence_is_checked(qq_bot) -> None:
    chat = await qq_bot(make_bot())
    replies = await chat.replies("/twice", scene="group")
    assert [r.text for r in replies] == ["one", "two"]
    await chat.expect_no_reply(within=0.2)
    await chat.send("/hello", scene="c2c")
    assert (await chat.expect_reply()).text == "hi there"
    await chat.send("/twice")
    with pytest.raises(UnexpectedReply):
        await chat.expect_no_reply(within=1.0)


async def test_no_reply_fails_with_a_useful_message(qq_bot) -> None:
    chat = await qq_bot(make_bot())
    with pytest.raises(ReplyTimeout, match="no reply to 'nobody listens'"):
        await chat.say("nobody listens", timeout=0.3)


async def test_qq_bot_with_a_plugins_directory(qq_bot, tmp_path) -> None:
    import shutil
    from pathlib import Path

    plugins = tmp_path / "plugins"
    shutil.copytree(Path(__file__).resolve().parents[2] / "plugins", plugins,
                    ignore=shutil.ignore_patterns("__pycache__", ".*"))
    chat = await qq_bot(plugins_dir=plugins)
    reply = await chat.say("/help", scene="c2c")
    assert "[guess " in reply.text and "[weather " in reply.text
    first = await chat.say("/guess", scene="group", user="carol")
    assert "100" in first.text
