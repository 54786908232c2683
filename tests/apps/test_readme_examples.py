"""The README's handler examples, run as written against the emulator (API drift shows here)."""

from __future__ import annotations

from qgactor import Bot


def readme_bot() -> Bot:
    bot = Bot(appid="...", secret="...", session_store=":memory:")

    @bot.on_command("hello")
    async def hello(msg):
        await msg.reply("hi")

    @bot.on_command("guess")
    async def guess(msg):
        async with msg.conversation(timeout=60) as conv:
            answer = await conv.ask("Pick a number from 1 to 100")
            await conv.say(f"You picked {answer.text}")

    @bot.on_command("count")
    async def count(msg):
        session = await msg.session(scope="user")
        n = session.get("n", 0) + 1
        await session.update(n=n)
        await msg.reply(f"you said count {n} times")

    @bot.on_message()
    def echo(msg):  # a plain def runs in a worker thread
        msg.reply(msg.text)

    return bot


async def test_readme_handlers(qq_bot) -> None:
    chat = await qq_bot(readme_bot())
    assert (await chat.say("/hello")).text == "hi"
    assert (await chat.say("just text", scene="c2c")).text == "just text"
    assert (await chat.say("/guess", scene="group")).text == "Pick a number from 1 to 100"
    assert (await chat.say("42", scene="group")).text == "You picked 42"
    assert (await chat.say("/count", scene="dm")).text == "you said count 1 times"
    assert (await chat.say("/count", scene="dm")).text == "you said count 2 times"
