"""Scoped key-value sessions with timeouts, persisted behind a store interface."""

from __future__ import annotations

from qgactor.bot.sessions.manager import SessionManager, TimeoutCallback
from qgactor.bot.sessions.model import (
    Scope,
    Session,
    SessionError,
    SessionExists,
    SessionId,
    SessionNotFound,
    SessionRecord,
    SessionStatus,
)
from qgactor.bot.sessions.sqlite import SqliteSessionStore
from qgactor.bot.sessions.store import MemorySessionStore, SessionStore

__all__ = [
    "Scope",
    "Session",
    "SessionError",
    "SessionExists",
    "SessionId",
    "SessionManager",
    "SessionNotFound",
    "SessionRecord",
    "SessionStatus",
    "SessionStore",
    "MemorySessionStore",
    "SqliteSessionStore",
    "TimeoutCallback",
]
