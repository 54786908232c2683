"""A SQLite session store: WAL journal, one writer connection used off the trio thread.

Writes are queued in memory (coalesced per session) and committed in batches: the writer
task waits ``commit_interval`` seconds after the first queued write, then commits everything
queued in one transaction in a worker thread (``trio.to_thread`` with a capacity-1 limiter, so
exactly one thread uses the connection at a time). With ``journal_mode=WAL`` and
``synchronous=NORMAL`` a committed transaction survives a crash or ``kill -9`` of the process,
and a half-written transaction is rolled back on the next open: a kill loses at most the writes
of the last ``commit_interval`` plus one commit, and never corrupts the file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import trio

from qgactor.bot.sessions.model import SessionRecord
from qgactor.bot.sessions.store import SessionStore

__all__ = ["SqliteSessionStore"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    scope TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    timeout REAL,
    timeout_reply TEXT,
    reply_to TEXT,
    PRIMARY KEY (scope, scope_id, key)
)
"""
_UPSERT = "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_DELETE = "DELETE FROM sessions WHERE scope = ? AND scope_id = ? AND key = ?"


class SqliteSessionStore(SessionStore):
    """Sessions persisted in a SQLite file (see the module docstring for durability).

    Args:
        path: the database file (created with its directory if missing), or ``":memory:"``.
        commit_interval: seconds to gather writes before one commit (default 5 ms).
    """

    def __init__(self, path: str | os.PathLike[str], *, commit_interval: float = 0.005) -> None:
        self.path = str(path)
        self.commit_interval = commit_interval
        self._conn: sqlite3.Connection | None = None
        self._pending: dict[tuple[str, str, str], SessionRecord | None] = {}
        self._wake = trio.Event()
        self._write_lock = trio.Lock()
        self._limiter = trio.CapacityLimiter(1)
        self._inflight = 0
        self.commits = 0
        self.rows_written = 0

    def __repr__(self) -> str:
        return f"<SqliteSessionStore {self.path!r} pending={len(self._pending)}>"

    async def open(self) -> None:
        """Open (or create) the database in WAL mode.

        Raises:
            OSError: the directory cannot be created.
            sqlite3.DatabaseError: the file is not a SQLite database.
        """
        if self._conn is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

        def _open() -> sqlite3.Connection:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute(_SCHEMA)
            return conn

        self._conn = await trio.to_thread.run_sync(_open, limiter=self._limiter)

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("SqliteSessionStore is not open: call await store.open() first")
        return self._conn

    async def load_all(self) -> list[SessionRecord]:
        """Return every stored session."""
        conn = self._require()

        def _load() -> list[SessionRecord]:
            rows = conn.execute("SELECT * FROM sessions").fetchall()
            return [
                SessionRecord(
                    scope=r[0], scope_id=r[1], key=r[2], data=r[3], status=r[4],
                    created_at=r[5], updated_at=r[6], timeout=r[7], timeout_reply=r[8],
                    reply_to=r[9],
                )
                for r in rows
            ]

        return await trio.to_thread.run_sync(_load, limiter=self._limiter)

    def put(self, record: SessionRecord) -> None:
        """Queue writing ``record`` (a later write of the same session replaces it)."""
        self._pending[record.sid] = record
        self._wake.set()

    def delete(self, sid: tuple[str, str, str]) -> None:
        """Queue deleting session ``sid``."""
        self._pending[sid] = None
        self._wake.set()

    @property
    def pending(self) -> int:
        """How many session writes are queued or being committed."""
        return len(self._pending) + self._inflight

    async def _write_pending(self) -> None:
        async with self._write_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            self._inflight = len(batch)
            conn = self._require()

            def _commit() -> None:
                conn.execute("BEGIN")
                try:
                    for sid, rec in batch.items():
                        if rec is None:
                            conn.execute(_DELETE, sid)
                        else:
                            conn.execute(
                                _UPSERT,
                                (rec.scope, rec.scope_id, rec.key, rec.data, rec.status,
                                 rec.created_at, rec.updated_at, rec.timeout, rec.timeout_reply,
                                 rec.reply_to),
                            )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise

            try:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(_commit, limiter=self._limiter)
            except sqlite3.Error:
                self._inflight = 0
                # keep the batch (unless newer writes replaced it) and retry on the next round
                for sid, rec in batch.items():
                    self._pending.setdefault(sid, rec)
                raise
            self._inflight = 0
            self.commits += 1
            self.rows_written += len(batch)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Commit queued writes in batches until cancelled; then commit what is left.

        Raises:
            sqlite3.Error: a commit failed (disk full, file removed); the writes stay queued.
        """
        self._require()
        task_status.started()
        try:
            while True:
                await self._wake.wait()
                await trio.sleep(self.commit_interval)
                self._wake = trio.Event()
                await self._write_pending()
        finally:
            with trio.CancelScope(shield=True):
                await self._write_pending()

    async def flush(self) -> None:
        """Commit everything queued so far now."""
        await self._write_pending()

    async def integrity_check(self) -> str:
        """Return SQLite's ``PRAGMA integrity_check`` result (``"ok"`` when healthy)."""
        conn = self._require()
        return await trio.to_thread.run_sync(
            lambda: conn.execute("PRAGMA integrity_check").fetchone()[0], limiter=self._limiter
        )

    async def close(self) -> None:
        """Commit what is queued and close the connection (idempotent)."""
        if self._conn is None:
            return
        await self._write_pending()
        conn, self._conn = self._conn, None
        await trio.to_thread.run_sync(conn.close, limiter=self._limiter)
