"""End to end: sessions from handlers, timeout replies, persistence across a restart and a kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import trio

from qgactor.bot import Bot, Scope, SessionStatus
from qgactor.emulator import open_emulator

from bot_harness import process, running


def setup(bot: Bot) -> None:
    @bot.on_command("count")
    async def count(msg):
        session = await msg.session(scope="user")
        n = session.get("n", 0) + 1
        await session.update(n=n)
        await msg.reply(f"you said count {n} times")

    @bot.on_command("game")
    async def game(msg):
        msg.sessions.new("game", {"round": 1}, scope=Scope.CHANNEL, timeout=0.3,
                         timeout_reply="game over", replace=True)
        await msg.reply("game started")

    @bot.on_command("park")
    def park(msg):  # sync handler, blocking session helpers
        msg.sessions.new("parked", {"x": 1}, status=SessionStatus.INACTIVE, replace=True)
        listed = msg.sessions.list()
        msg.reply(",".join(sorted(s.id.key for s in listed)))


async def test_sessions_timeouts_and_restart_persistence(tmp_path: Path) -> None:
    db = tmp_path / "sessions.sqlite3"
    async with open_emulator() as emu:
        async with running(emu, setup, session_store=str(db)) as bot:
            for i in (1, 2):
                sent = await process(bot, emu, "group", "/count", user="alice")
                r = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
                assert r["content"] == f"you said count {i} times"
            sent = await process(bot, emu, "guild", "/game")
            over = await emu.control.wait_for_reply(sent["message_id"], timeout=5, contains="game over")
            assert over["accepted"] and over["body"]["msg_id"] == sent["message_id"]
            assert bot.sessions.get(Scope.CHANNEL, "100010", "game") is None
            sent = await process(bot, emu, "c2c", "/park", user="bob")
            r = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
            assert r["content"] == "parked"
        # a new bot on the same file continues where the old one stopped
        async with running(emu, setup, session_store=str(db)) as bot2:
            sent = await process(bot2, emu, "group", "/count", user="alice")
            r = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
            assert r["content"] == "you said count 3 times"
            parked = bot2.sessions.list(status=SessionStatus.INACTIVE)
            assert [(s.id.key, s.data) for s in parked] == [("parked", {"x": 1})]


BOT_SCRIPT = r"""
import sys
from qgactor.bot import Bot

api_url, token_url, appid, secret, db = sys.argv[1:]
bot = Bot(appid=appid, secret=secret, environment="custom", api_url=api_url, token_url=token_url,
          session_store=db)

@bot.on_message()
async def note(msg):
    session = await msg.session(key="notes", scope="global")
    session.update({msg.text: len(msg.text) * "x"})
    await msg.reply("noted " + msg.text)

bot.run()
"""


def _rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT data FROM sessions WHERE key = 'notes'").fetchone()
    finally:
        conn.close()
    import json

    return json.loads(row[0]) if row else {}


async def test_kill_9_of_a_bot_process_mid_write(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    script = tmp_path / "bot.py"
    script.write_text(BOT_SCRIPT, encoding="utf-8")
    async with open_emulator() as emu:
        proc = await trio.lowlevel.open_process(
            [sys.executable, str(script), emu.api_url, emu.token_url, emu.appid, emu.secret, str(db)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            await emu.control.wait_for_sessions(1, timeout=20)
            c = emu.control
            for i in range(20):
                sent = await c.send_message("c2c", f"k{i}", user="alice")
                await c.wait_for_reply(sent["message_id"], timeout=5)
            # the 20 acknowledged notes reach the file within the commit interval
            with trio.fail_after(5):
                while len(_rows(db)) < 20:
                    await trio.sleep(0.005)
            # a burst, killed while the bot is still writing
            burst = [await c.send_message("c2c", f"b{i}", user="alice") for i in range(30)]
            await c.wait_for_reply(burst[0]["message_id"], timeout=5)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    notes = _rows(db)
    assert {f"k{i}" for i in range(20)} <= set(notes)
    assert all(v == len(k) * "x" for k, v in notes.items())
    # and a new bot loads the store normally
    from qgactor.bot import SessionManager, SqliteSessionStore

    m = SessionManager(SqliteSessionStore(db))
    async with trio.open_nursery() as n:
        await n.start(m.run)
        assert set(m.get(Scope.GLOBAL, "", "notes").data) == set(notes)
        n.cancel_scope.cancel()
