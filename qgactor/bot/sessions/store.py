"""The session store interface, and an in-memory store.

The :class:`~qgactor.bot.sessions.SessionManager` keeps sessions in memory and writes behind:
``put``/``delete`` never block; the store persists them in the background (``run``) and
``flush`` waits until everything queued so far is durable.
"""

from __future__ import annotations

import abc

import trio

from qgactor.bot.sessions.model import SessionRecord

__all__ = ["SessionStore", "MemorySessionStore"]


class SessionStore(abc.ABC):
    """Where sessions are persisted. Implement this to add a backend."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Open the store (create files/tables). Raises ``OSError`` or a backend error."""

    @abc.abstractmethod
    async def load_all(self) -> list[SessionRecord]:
        """Return every persisted session (called once, after ``open``)."""

    @abc.abstractmethod
    def put(self, record: SessionRecord) -> None:
        """Queue an insert-or-replace of ``record`` (never blocks)."""

    @abc.abstractmethod
    def delete(self, sid: tuple[str, str, str]) -> None:
        """Queue the deletion of the session ``sid`` (never blocks)."""

    @abc.abstractmethod
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Persist queued writes until cancelled; flush what is left when cancelled."""

    @abc.abstractmethod
    async def flush(self) -> None:
        """Wait until every write queued before this call is durable."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and release resources (idempotent)."""


class MemorySessionStore(SessionStore):
    """A store that keeps records in a dict (nothing survives the process)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], SessionRecord] = {}

    async def open(self) -> None:
        """Nothing to open."""

    async def load_all(self) -> list[SessionRecord]:
        """Return the records kept so far."""
        return list(self.records.values())

    def put(self, record: SessionRecord) -> None:
        """Keep ``record``."""
        self.records[record.sid] = record

    def delete(self, sid: tuple[str, str, str]) -> None:
        """Forget ``sid``."""
        self.records.pop(sid, None)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Nothing to do in the background; waits until cancelled."""
        task_status.started()
        await trio.sleep_forever()

    async def flush(self) -> None:
        """Writes are immediate."""

    async def close(self) -> None:
        """Nothing to close."""
