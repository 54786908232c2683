"""Session data: scopes, statuses, the session record and the session errors."""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = [
    "Scope",
    "SessionStatus",
    "SessionId",
    "Session",
    "SessionRecord",
    "SessionError",
    "SessionExists",
    "SessionNotFound",
]


class Scope(enum.Enum):
    """Whom a session belongs to.

    USER: one user (across places); GUILD: one guild; CHANNEL: one channel (for groups the group,
    for C2C the chat); GROUP: one QQ group; GLOBAL: the whole bot.
    """

    USER = "user"
    GUILD = "guild"
    CHANNEL = "channel"
    GROUP = "group"
    GLOBAL = "global"


class SessionStatus(enum.Enum):
    """ACTIVE sessions end after their timeout of inactivity (if any); INACTIVE ones never time
    out but are garbage-collected after the manager's ``inactive_ttl`` without activity."""

    ACTIVE = "active"
    INACTIVE = "inactive"


@attrs.frozen(slots=True)
class SessionId:
    """The identity of a session: scope, the id of the scope's owner, and a name."""

    scope: Scope
    scope_id: str
    key: str

    def __str__(self) -> str:
        return f"{self.scope.value}:{self.scope_id}:{self.key}"


class SessionError(Exception):
    """Base class of session errors."""


class SessionExists(SessionError):
    """Raised by ``new`` when the session already exists (pass ``replace=True`` to overwrite)."""


class SessionNotFound(SessionError, LookupError):
    """Raised by ``update``/``remove`` when the session does not exist (create it with ``new``)."""


@attrs.define(slots=True)
class Session:
    """One session (a copy: change it through the session manager, not by mutating this).

    Attributes:
        id: scope, scope id and key.
        data: the stored values (JSON-serialisable).
        status: ACTIVE or INACTIVE.
        created_at, updated_at: wall-clock times (seconds since the epoch) of creation and of
            the last activity (``new``, ``update``, ``remove``, ``touch``).
        timeout: seconds of inactivity after which an ACTIVE session ends (None: never).
        timeout_reply: text sent where the session was last active when it times out.
        reply_to: where the timeout reply goes (scene and ids; set by the handler helpers).
    """

    id: SessionId
    data: dict[str, Any] = attrs.Factory(dict)
    status: SessionStatus = SessionStatus.ACTIVE
    created_at: float = 0.0
    updated_at: float = 0.0
    timeout: float | None = None
    timeout_reply: str | None = None
    reply_to: dict[str, Any] | None = None

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def get(self, name: str, default: Any = None) -> Any:
        """Return ``data[name]`` or ``default``."""
        return self.data.get(name, default)


@attrs.frozen(slots=True)
class SessionRecord:
    """The persisted form of a session (what a :class:`SessionStore` reads and writes).

    ``data`` and ``reply_to`` are JSON text, so a record is an immutable snapshot.
    """

    scope: str
    scope_id: str
    key: str
    data: str
    status: str
    created_at: float
    updated_at: float
    timeout: float | None
    timeout_reply: str | None
    reply_to: str | None

    @property
    def sid(self) -> tuple[str, str, str]:
        """The primary key ``(scope, scope_id, key)``."""
        return (self.scope, self.scope_id, self.key)
