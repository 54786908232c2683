"""Sessions: operations, timeouts (MockClock), garbage collection, SQLite persistence."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from qgactor.bot.sessions import (
    Scope,
    Session,
    SessionExists,
    SessionManager,
    SessionNotFound,
    SessionStatus,
    SqliteSessionStore,
)


async def test_new_get_update_remove_end_list(autojump_clock) -> None:
    m = SessionManager()
    async with trio.open_nursery() as n:
        await n.start(m.run)
        s = m.new(Scope.USER, "u1", "quiz", {"score": 0})
        assert s.data == {"score": 0} and s.status is SessionStatus.ACTIVE
        with pytest.raises(SessionExists):
            m.new(Scope.USER, "u1", "quiz")
        m.update("user", "u1", "quiz", {"score": 2, "name": "x"})
        s = m.get(Scope.USER, "u1", "quiz")
        assert s is not None and s.data == {"score": 2, "name": "x"} and s["score"] == 2
        s.data["score"] = 99  # a copy: does not change the stored session
        assert m.get(Scope.USER, "u1", "quiz").data["score"] == 2
        assert m.remove(Scope.USER, "u1", "quiz", "name", "missing").data == {"score": 2}
        m.new(Scope.GUILD, "g1", "quiz", status=SessionStatus.INACTIVE)
        m.new(Scope.GLOBAL, "ignored", "cfg", {"a": 1})
        assert m.get(Scope.GLOBAL, "", "cfg").data == {"a": 1}
        assert {x.id.scope for x in m.list(key="quiz")} == {Scope.USER, Scope.GUILD}
        assert [x.id.scope_id for x in m.list(status=SessionStatus.INACTIVE)] == ["g1"]
        assert m.end(Scope.USER, "u1", "quiz") is True
        assert m.end(Scope.USER, "u1", "quiz") is False
        with pytest.raises(SessionNotFound):
            m.update(Scope.USER, "u1", "quiz", {"x": 1})
        with pytest.raises(TypeError):
            m.new(Scope.USER, "u2", "bad", {"x": object()})
        assert m.get(Scope.USER, "u2", "bad") is None
        with pytest.raises(ValueError):
            m.new(Scope.USER, "u2", "bad", timeout=0)
        n.cancel_scope.cancel()


async def test_active_timeout_fires_once_and_updates_postpone_it(autojump_clock) -> None:
    fired: list[tuple[Session, float]] = []
    done = trio.Event()

    async def on_timeout(s: Session) -> None:
        fired.append((s, trio.current_time()))
        done.set()

    m = SessionManager(on_timeout=on_timeout)
    async with trio.open_nursery() as n:
        await n.start(m.run)
        t0 = trio.current_time()
        m.new(Scope.CHANNEL, "c1", "game", timeout=30, timeout_reply="too slow",
              reply_to={"scene": "guild"})
        m.new(Scope.CHANNEL, "c1", "forever")  # no timeout
        await trio.sleep(20)
        m.update(Scope.CHANNEL, "c1", "game", {"turn": 2})  # restarts the 30 s
        await done.wait()
        assert len(fired) == 1
        s, when = fired[0]
        assert when - t0 == pytest.approx(50)
        assert s.timeout_reply == "too slow" and s.data == {"turn": 2}
        assert m.get(Scope.CHANNEL, "c1", "game") is None
        assert m.get(Scope.CHANNEL, "c1", "forever") is not None
        await trio.sleep(100)
        assert len(fired) == 1
        n.cancel_scope.cancel()


async def test_inactive_status_stops_timeout_and_gc_collects(autojump_clock) -> None:
    fired = []

    async def on_timeout(s: Session) -> None:
        fired.append(s)

    m = SessionManager(on_timeout=on_timeout, inactive_ttl=100, gc_interval=10,
                       wall_clock=trio.current_time)
    async with trio.open_nursery() as n:
        await n.start(m.run)
        m.new(Scope.USER, "u", "a", timeout=5)
        m.update(Scope.USER, "u", "a", status=SessionStatus.INACTIVE)
        await trio.sleep(50)
        assert fired == [] and m.get(Scope.USER, "u", "a") is not None
        await trio.sleep(70)
        assert m.get(Scope.USER, "u", "a") is None and m.collected == 1
        n.cancel_scope.cancel()


async def test_failing_timeout_callback_is_logged_not_fatal(autojump_clock, caplog) -> None:
    async def boom(s: Session) -> None:
        raise RuntimeError("callback exploded")

    m = SessionManager(on_timeout=boom)
    async with trio.open_nursery() as n:
        await n.start(m.run)
        m.new(Scope.USER, "u", "a", timeout=1)
        m.new(Scope.USER, "u", "b", timeout=2)
        await trio.sleep(3)
        assert m.timeouts_fired == 2
        n.cancel_scope.cancel()
    assert "callback exploded" in caplog.text


async def test_sqlite_persistence_across_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    m = SessionManager(SqliteSessionStore(path))
    async with trio.open_nursery() as n:
        await n.start(m.run)
        for i in range(50):
            m.new(Scope.USER, f"u{i}", "k", {"i": i, "text": "你好"}, timeout=3600, timeout_reply="bye")
        m.end(Scope.USER, "u7", "k")
        m.update(Scope.USER, "u8", "k", {"i": 800})
        n.cancel_scope.cancel()  # shutdown flushes what is queued
    m2 = SessionManager(SqliteSessionStore(path))
    async with trio.open_nursery() as n:
        await n.start(m2.run)
        assert len(m2) == 49
        assert m2.get(Scope.USER, "u7", "k") is None
        s = m2.get(Scope.USER, "u8", "k")
        assert s.data == {"i": 800, "text": "你好"} and s.timeout == 3600 and s.timeout_reply == "bye"
        assert await m2.store.integrity_check() == "ok"
        n.cancel_scope.cancel()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


async def test_restart_resumes_remaining_timeout(tmp_path: Path, autojump_clock) -> None:
    wall = [1000.0]
    path = tmp_path / "t.sqlite3"
    m = SessionManager(SqliteSessionStore(path), wall_clock=lambda: wall[0])
    async with trio.open_nursery() as n:
        await n.start(m.run)
        m.new(Scope.USER, "u", "a", timeout=60)
        m.new(Scope.USER, "u", "b", timeout=10)
        n.cancel_scope.cancel()
    wall[0] += 20  # the bot was down for 20 s
    fired: dict[str, float] = {}

    async def on_timeout(s: Session) -> None:
        fired[s.id.key] = trio.current_time() - t0

    m2 = SessionManager(SqliteSessionStore(path), wall_clock=lambda: wall[0], on_timeout=on_timeout)
    async with trio.open_nursery() as n:
        t0 = trio.current_time()
        await n.start(m2.run)
        await trio.sleep(100)
        n.cancel_scope.cancel()
    assert fired["b"] == pytest.approx(0, abs=0.01)  # already overdue: fires at once
    assert fired["a"] == pytest.approx(40, abs=0.01)


async def test_sqlite_batches_writes(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "b.sqlite3", commit_interval=0.05)
    m = SessionManager(store)
    async with trio.open_nursery() as n:
        await n.start(m.run)
        for i in range(500):
            m.new(Scope.USER, "u", f"k{i}")
        with trio.fail_after(5):
            while store.pending:
                await trio.sleep(0.01)
        assert store.commits <= 3 and store.rows_written == 500
        n.cancel_scope.cancel()


WRITER = r"""
import sys, trio
from qgactor.bot.sessions import SessionManager, SqliteSessionStore, Scope

async def main(path):
    store = SqliteSessionStore(path, commit_interval=0.002)
    m = SessionManager(store)
    async with trio.open_nursery() as n:
        await n.start(m.run)
        i = 0
        while True:
            m.new(Scope.USER, f"u{i}", "k", {"i": i, "pad": "x" * 200})
            i += 1
            if i % 50 == 0:
                await store.flush()
                print(i, flush=True)   # everything below i is committed
            await trio.sleep(0)

trio.run(main, sys.argv[1])
"""


async def test_kill_9_mid_write_loses_nothing_committed_and_never_corrupts(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    proc = await trio.lowlevel.open_process(
        [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    committed = 0
    buf = b""
    try:
        with trio.fail_after(30):
            while committed < 1500:
                chunk = await proc.stdout.receive_some()
                if not chunk:
                    err = await proc.stderr.receive_some()
                    raise AssertionError(f"writer exited early: {err!r}")
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    committed = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: it keeps writing until the kill
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {r[0] for r in conn.execute("SELECT scope_id FROM sessions")}
    conn.close()
    assert {f"u{i}" for i in range(committed)} <= rows
    # and the store opens and loads normally after the crash
    m = SessionManager(SqliteSessionStore(path))
    async with trio.open_nursery() as n:
        await n.start(m.run)
        assert len(m) == len(rows)
        n.cancel_scope.cancel()
