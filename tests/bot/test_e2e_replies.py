"""End to end: replies in all four scenes obey the passive-reply rules; sync and async handlers."""

from __future__ import annotations

import logging
import threading

import trio

from qgactor.bot import Bot
from qgactor.emulator import open_emulator

from bot_harness import process, running


async def test_replies_in_all_scenes_carry_passive_ids_and_msg_seq() -> None:
    def setup(bot: Bot) -> None:
        @bot.on_command("three")
        async def three(msg):
            for i in range(3):
                await msg.reply(f"r{i}")

        @bot.on_group_robot(events=["GROUP_ADD_ROBOT"])
        async def welcome(ctx):
            await ctx.reply("thanks for adding me")

        @bot.on_interaction
        def clicked(ctx):  # sync: blocking ack and reply
            ctx.ack()
            ctx.reply("clicked " + ctx.event.data.resolved.button_data)

    async with open_emulator() as emu:
        async with running(emu, setup) as bot:
            expected_path = {
                "guild": "/channels/100010/messages",
                "dm": "/dms/",
                "group": "/v2/groups/",
                "c2c": "/v2/users/",
            }
            for scene in ("guild", "dm", "group", "c2c"):
                sent = await process(bot, emu, scene, "/three")
                entries = await emu.control.outbox(reply_to=sent["message_id"], accepted=None)
                assert [e["content"] for e in entries] == ["r0", "r1", "r2"], scene
                assert all(e["accepted"] for e in entries), entries
                assert all(e["path"].startswith(expected_path[scene]) for e in entries), entries
                assert all(e["body"]["msg_id"] == sent["message_id"] for e in entries)
                if scene in ("group", "c2c"):
                    assert [e["body"]["msg_seq"] for e in entries] == [1, 2, 3]
                else:
                    assert all("msg_seq" not in e["body"] for e in entries)
            # an event reply uses event_id
            n = bot.dispatch_core.stats.completed + 1
            injected = await emu.control.inject_event("GROUP_ADD_ROBOT")
            with trio.fail_after(5):
                await bot.dispatch_core.wait_completed(n)
            entries = await emu.control.outbox(scene="group", contains="thanks")
            assert len(entries) == 1 and entries[0]["accepted"]
            assert entries[0]["body"]["event_id"] == injected["id"] and "msg_id" not in entries[0]["body"]
            n = bot.dispatch_core.stats.completed + 1
            injected = await emu.control.inject_event("INTERACTION_CREATE")
            with trio.fail_after(5):
                await bot.dispatch_core.wait_completed(n)
            entries = await emu.control.outbox(scene="group", contains="clicked")
            assert [e["content"] for e in entries] == ["clicked data"]
            assert entries[0]["body"]["event_id"] == injected["id"] and entries[0]["accepted"]
            assert bot.dispatch_core.stats.handler_errors == 0


async def test_sync_handlers_run_in_threads_and_async_ones_concurrently(caplog) -> None:
    main_thread = threading.get_ident()
    seen: dict[str, object] = {}
    gate = trio.Event()

    def setup(bot: Bot) -> None:
        @bot.on_command("sync")
        def sync_cmd(msg):
            seen["thread"] = threading.get_ident()
            sent = msg.reply("from a thread")           # blocking, returns the sent message
            seen["sent_id"] = sent.id
            handle = msg.session("visits")               # blocking session access
            handle.update(n=handle.get("n", 0) + 1)
            seen["visits"] = msg.session("visits").get("n")
            seen["me"] = msg.api.get_me().id             # the API client, blocking

        @bot.on_command("first")
        async def first(msg):
            with trio.fail_after(5):
                await gate.wait()                         # only finishes if "second" runs meanwhile
            await msg.reply("first done")

        @bot.on_command("second")
        async def second(msg):
            gate.set()

        @bot.on_command("boom")
        async def boom(msg):
            raise RuntimeError("handler exploded")

        @bot.on_event("AT_MESSAGE_CREATE")
        async def also(msg):
            seen.setdefault("also", 0)
            seen["also"] += 1

    async with open_emulator() as emu:
        async with running(emu, setup) as bot:
            sent = await process(bot, emu, "guild", "sync")
            reply = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
            assert reply["content"] == "from a thread" and reply["response"]["id"] == seen["sent_id"]
            assert seen["thread"] != main_thread
            assert seen["visits"] == 1 and seen["me"] == "5566778899001122334"
            first_sent = await emu.control.send_message("guild", "first")
            await process(bot, emu, "guild", "second")
            await emu.control.wait_for_reply(first_sent["message_id"], timeout=5)
            await process(bot, emu, "guild", "boom")
            assert "handler exploded" in caplog.text and "Traceback" in caplog.text
            assert bot.dispatch_core.stats.handler_errors == 1
            assert seen["also"] == 4  # the on_event handler ran for every message, boom included
