"""End to end: conversations with interleaved users, timeouts, crashes, sync handlers."""

from __future__ import annotations

import logging

import trio

from qgactor.bot import Bot, ConversationEnded
from qgactor.emulator import open_emulator

from bot_harness import process, running

ALICE, BOB, CAROL = "alice", "bob", "carol"


def setup(bot: Bot, results: dict) -> None:
    @bot.on_command("guess")
    async def guess(msg):
        async with msg.conversation(timeout=10) as conv:
            answer = await conv.ask("Pick a number from 1 to 100")
            results[msg.author_id] = answer.text
            await conv.say(f"you picked {answer.text}")

    @bot.on_command("hello")
    async def hello(msg):
        results.setdefault("hello", []).append(msg.author_id)

    @bot.on_command("quick")
    async def quick(msg):
        async with msg.conversation(timeout=0.3, timeout_reply="too slow") as conv:
            await conv.ask("quick, answer!")

    @bot.on_command("fragile")
    async def fragile(msg):
        try:
            async with msg.conversation(timeout=10) as conv:
                results["fragile_key"] = conv.key
                await conv.ask("waiting...")
        except ConversationEnded as exc:
            results["ended"] = str(exc)
            results["ended_event"].set()

    @bot.on_command("sync")
    def sync_dialog(msg):
        with msg.conversation(timeout=10) as conv:
            a = conv.ask("first?")
            b = conv.wait_for(check=lambda m: m.text.isdigit())
            conv.say(f"{a.text}+{b.text}")

    @bot.on_command("poll", scenes=["group"])
    async def poll(msg):
        async with msg.conversation(timeout=10, scope="place") as conv:
            answer = await conv.ask("anyone?")
            results["poll"] = answer.author_id


async def test_interleaved_users_never_cross_and_take_messages_first() -> None:
    results: dict = {}
    async with open_emulator() as emu:
        async with running(emu, lambda b: setup(b, results)) as bot:
            c = emu.control
            a = await c.send_message("guild", "/guess", user=ALICE)
            await c.wait_for_reply(a["message_id"], timeout=5)
            b = await c.send_message("guild", "/guess", user=BOB)
            await c.wait_for_reply(b["message_id"], timeout=5)
            # bob answers first, then alice answers with what would be a command
            b2 = await c.send_message("guild", "7", user=BOB)
            a2 = await c.send_message("guild", "/hello", user=ALICE)
            rb = await c.wait_for_reply(b2["message_id"], timeout=5)
            ra = await c.wait_for_reply(a2["message_id"], timeout=5)
            assert rb["content"] == "you picked 7" and ra["content"] == "you picked /hello"
            assert results["144115218181000002"] == "7" and results["144115218181000001"] == "/hello"
            assert "hello" not in results  # the waiting conversation took it before commands
            # once the conversation is over, the command works again
            await process(bot, emu, "guild", "/hello", user=ALICE)
            assert results["hello"] == ["144115218181000001"]
            # a group conversation open to anyone in the place
            before = bot.dispatch_core.stats.completed
            await c.send_message("group", "/poll", user=ALICE)
            await c.wait_for_reply(timeout=5, scene="group", contains="anyone?")
            await process(bot, emu, "group", "me!", user=CAROL)
            with trio.fail_after(5):  # the /poll handler itself finishes after taking the answer
                await bot.dispatch_core.wait_completed(before + 2)
            assert results["poll"] == "E4F4AEA33253A2797FB897C50B81D7EF"
            assert bot.dispatch_core.stats.conversation_deliveries == 3


async def test_timeout_reply_crash_isolation_and_sync_dialogs(caplog) -> None:
    caplog.set_level(logging.INFO)
    results: dict = {"ended_event": trio.Event()}
    async with open_emulator() as emu:
        async with running(emu, lambda b: setup(b, results)) as bot:
            c = emu.control
            q = await c.send_message("c2c", "/quick", user=ALICE)
            timeout_reply = await c.wait_for_reply(q["message_id"], timeout=5, contains="too slow")
            assert timeout_reply["body"]["msg_seq"] == 2  # after the prompt (msg_seq 1)
            assert "no answer in conversation" in caplog.text
            # a crash of one conversation actor ends only that conversation
            f = await c.send_message("guild", "/fragile", user=CAROL)
            await c.wait_for_reply(f["message_id"], timeout=5)
            g = await c.send_message("guild", "/guess", user=BOB)
            await c.wait_for_reply(g["message_id"], timeout=5)
            manager = bot.services.conversations
            ref = manager.waiting[results["fragile_key"]]
            await ref.tell("not a conversation message")  # crashes that actor
            with trio.fail_after(5):
                await results["ended_event"].wait()
            assert "ended" in results["ended"]
            g2 = await c.send_message("guild", "42", user=BOB)
            r = await c.wait_for_reply(g2["message_id"], timeout=5)
            assert r["content"] == "you picked 42"
            # plain def handlers hold dialogs with blocking calls
            s = await c.send_message("group", "/sync", user=BOB)
            await c.wait_for_reply(s["message_id"], timeout=5)
            manager = bot.services.conversations
            turns = manager.turns
            await c.send_message("group", "1", user=BOB)
            await c.wait_for_reply(timeout=5, scene="group", contains="first?")  # still the prompt only
            # a message sent between two waits of a conversation is handled as an ordinary
            # message (only a waiting conversation takes messages): send the next ones once "1"
            # was taken and the handler's thread waits again (under load that takes a while)
            with trio.fail_after(5):
                while manager.turns == turns or not any(key[0] == "group" for key in manager.waiting):
                    await trio.sleep(0.01)
            await c.send_message("group", "not a number", user=BOB)  # check() refuses it
            last = await c.send_message("group", "2", user=BOB)
            r = await c.wait_for_reply(last["message_id"], timeout=5)
            assert r["content"] == "1+2"


async def test_waiting_conversations_do_not_hold_dispatcher_slots() -> None:
    # two handler slots, both users' handlers wait in a conversation: their answers (and a
    # third user's command) must still get through instead of waiting for a free slot forever
    results: dict = {}
    async with open_emulator() as emu:
        async with running(emu, lambda b: setup(b, results), max_concurrent_handlers=2) as bot:
            c = emu.control
            for user in (ALICE, BOB):
                sent = await c.send_message("guild", "/guess", user=user)
                await c.wait_for_reply(sent["message_id"], timeout=5)
            with trio.fail_after(5):
                while len(bot.services.conversations.waiting) < 2:
                    await trio.sleep(0.01)
            await process(bot, emu, "guild", "/hello", user=CAROL)
            assert results["hello"] == ["144115218181000003"]
            for user, number in ((ALICE, "3"), (BOB, "4")):
                sent = await c.send_message("guild", number, user=user)
                reply = await c.wait_for_reply(sent["message_id"], timeout=5)
                assert reply["content"] == f"you picked {number}"
            assert bot.services.conversations.waiting == {}


async def test_preprocessors_run_before_waiting_conversations() -> None:
    # the qg-botsdk order: preprocessors -> waiting conversations -> commands -> message handlers
    order: list[str] = []

    def setup_order(bot: Bot) -> None:
        @bot.before_command
        async def pre(msg):
            order.append("pre:" + msg.text)
            return False if msg.text == "blocked" else None

        @bot.on_command("talk")
        async def talk(msg):
            async with msg.conversation(timeout=10) as conv:
                answer = await conv.ask("say something")
                order.append("conversation:" + answer.text)

        @bot.on_command("other")
        async def other(msg):
            order.append("command:other")

        @bot.on_message()
        async def fallback(msg):
            order.append("fallback:" + msg.text)

    async with open_emulator() as emu:
        async with running(emu, setup_order) as bot:
            c = emu.control
            sent = await c.send_message("c2c", "talk", user=ALICE)
            await c.wait_for_reply(sent["message_id"], timeout=5)
            before = bot.dispatch_core.stats.completed  # (the talk event is still in flight)
            await process(bot, emu, "c2c", "blocked", user=ALICE)   # stopped before the conversation
            await process(bot, emu, "c2c", "other", user=ALICE)     # taken by the conversation first
            with trio.fail_after(5):
                await bot.dispatch_core.wait_completed(before + 3)  # talk handler done too
            await process(bot, emu, "c2c", "other", user=ALICE)     # conversation over: a command
            await process(bot, emu, "c2c", "chat", user=ALICE)      # no command: the fallback
            assert order == ["pre:talk", "pre:blocked", "pre:other", "conversation:other",
                             "pre:other", "command:other", "pre:chat", "fallback:chat"]


async def test_def_handlers_in_conversations_holding_every_thread_do_not_freeze_the_bot() -> None:
    # one worker thread, two handler slots: a def handler waits in a conversation (holding the
    # thread), two more def commands queue for the thread; the answer must still get through
    done: list[str] = []

    def setup_threads(bot: Bot) -> None:
        @bot.on_command("ask")
        def ask(msg):
            with msg.conversation(timeout=10) as conv:
                done.append("answer:" + conv.ask("yes?").text)

        @bot.on_command("work")
        def work(msg):
            done.append("work")

    async with open_emulator() as emu:
        async with running(emu, setup_threads, handler_threads=1, max_concurrent_handlers=2) as bot:
            c = emu.control
            sent = await c.send_message("c2c", "ask", user=ALICE)
            await c.wait_for_reply(sent["message_id"], timeout=5)
            before = bot.dispatch_core.stats.completed
            await c.send_message("c2c", "work", user=BOB)
            await c.send_message("c2c", "work", user=CAROL)
            await c.send_message("c2c", "42", user=ALICE)
            with trio.fail_after(5):
                await bot.dispatch_core.wait_completed(before + 4)
            assert done[0] == "answer:42" and done[1:] == ["work", "work"]
