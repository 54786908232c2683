"""Session helpers bound to one message: scope ids come from where the message was sent.

Session operations are in memory (persisted behind the scenes), so the helpers' methods are
plain calls: the same code works in ``async def`` and plain ``def`` handlers (from a worker
thread they hop to the bot's trio thread). Only :meth:`SessionHandle.update` and friends are
*also* awaitable, so that ``await session.update(n=1)`` reads naturally in async code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from qgactor.bot.bridge import in_trio_thread, run_sync_blocking
from qgactor.bot.sessions import (
    Scope,
    Session,
    SessionError,
    SessionManager,
    SessionStatus,
)

if TYPE_CHECKING:
    from qgactor.bot.context import EventContext

__all__ = ["SessionHelper", "SessionHandle", "scope_id_for"]

T = TypeVar("T")


class _Done:
    """The result of a session call that may also be awaited (``await`` returns the value)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self):  # type: ignore[no-untyped-def]
        return self.value
        yield  # pragma: no cover - makes this a generator

    def __getattr__(self, name: str) -> Any:  # plain calls read the result directly
        return getattr(self.value, name)

    def __repr__(self) -> str:
        return repr(self.value)


def _in_bot_thread(manager_call: Callable[..., T], token: Any, *args: Any, **kwargs: Any) -> T:
    if in_trio_thread():
        return manager_call(*args, **kwargs)
    return run_sync_blocking(token, lambda: manager_call(*args, **kwargs))


def scope_id_for(ctx: "EventContext", scope: Scope) -> str:
    """Return the id of ``scope``'s owner for the event of ``ctx``.

    Raises:
        SessionError: the event has no such owner (e.g. GROUP scope for a guild message).
    """
    if scope is Scope.GLOBAL:
        return ""
    if scope is Scope.USER:
        value = ctx.user_id
    elif scope is Scope.GUILD:
        value = ctx.guild_id
    elif scope is Scope.GROUP:
        value = ctx.group_id
    else:
        value = ctx.place_id
    if not value:
        raise SessionError(
            f"{scope.name} scope needs an event with a {scope.value} id; "
            f"this {ctx.name} event has none (use another scope or bot.sessions with an explicit id)"
        )
    return value


def _scope(scope: Scope | str) -> Scope:
    return scope if isinstance(scope, Scope) else Scope(str(scope).lower())


class SessionHandle:
    """One session of the current user/place, as returned by ``await msg.session(...)``.

    ``get``/``data``/``status`` read the session; ``update(**values)``, ``remove(*names)``,
    ``set_status(status)`` and ``end()`` change it (call them plainly, or ``await`` them).
    """

    __slots__ = ("_manager", "_token", "scope", "scope_id", "key")

    def __init__(self, manager: SessionManager, token: Any, scope: Scope, scope_id: str, key: str) -> None:
        self._manager = manager
        self._token = token
        self.scope = scope
        self.scope_id = scope_id
        self.key = key

    def __repr__(self) -> str:
        return f"<SessionHandle {self.scope.value}:{self.scope_id}:{self.key}>"

    def _current(self) -> Session | None:
        return _in_bot_thread(self._manager.get, self._token, self.scope, self.scope_id, self.key)

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the session's values ({} if it has ended)."""
        s = self._current()
        return s.data if s is not None else {}

    @property
    def status(self) -> SessionStatus | None:
        """The session's status, or ``None`` if it has ended."""
        s = self._current()
        return s.status if s is not None else None

    @property
    def exists(self) -> bool:
        """Whether the session still exists (it may have timed out or been ended)."""
        return self._current() is not None

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value ``name`` (``default`` if missing)."""
        return self.data.get(name, default)

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def update(self, values: dict[str, Any] | None = None, **more: Any) -> _Done:
        """Merge values into the session (restarts its timeout).

        Raises:
            SessionNotFound: the session has ended meanwhile.
            TypeError: a value is not JSON-serialisable.
        """
        merged = {**(values or {}), **more}
        return _Done(_in_bot_thread(self._manager.update, self._token, self.scope, self.scope_id,
                                    self.key, merged))

    def remove(self, *names: str) -> _Done:
        """Delete values by name. Raises ``SessionNotFound`` if the session has ended."""
        return _Done(_in_bot_thread(self._manager.remove, self._token, self.scope, self.scope_id,
                                    self.key, *names))

    def set_status(self, status: SessionStatus) -> _Done:
        """Make the session ACTIVE (times out) or INACTIVE (kept until garbage-collected)."""
        return _Done(_in_bot_thread(self._manager.update, self._token, self.scope, self.scope_id,
                                    self.key, None, status=status))

    def end(self) -> _Done:
        """End the session now (no timeout reply); the value is whether it existed."""
        return _Done(_in_bot_thread(self._manager.end, self._token, self.scope, self.scope_id, self.key))


class SessionHelper:
    """``msg.sessions``: new/get/update/remove/end/list for sessions of this message's scopes.

    Every method takes ``scope`` (default USER); the scope's id comes from the message.
    Sessions created here remember where the message came from, so a timeout reply goes there.
    """

    __slots__ = ("_ctx",)

    def __init__(self, ctx: "EventContext") -> None:
        self._ctx = ctx

    @property
    def _manager(self) -> SessionManager:
        return self._ctx.services.sessions

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return _in_bot_thread(fn, self._ctx.services.token, *args, **kwargs)

    def new(
        self,
        key: str,
        data: dict[str, Any] | None = None,
        *,
        scope: Scope | str = Scope.USER,
        timeout: float | None = None,
        timeout_reply: str | None = None,
        status: SessionStatus = SessionStatus.ACTIVE,
        replace: bool = False,
    ) -> Session:
        """Create a session (see ``SessionManager.new``; raises ``SessionExists``)."""
        sc = _scope(scope)
        return self._call(
            self._manager.new, sc, scope_id_for(self._ctx, sc), key, data, timeout=timeout,
            timeout_reply=timeout_reply, reply_to=self._ctx.reply_address(), status=status,
            replace=replace,
        )

    def get(self, key: str, *, scope: Scope | str = Scope.USER) -> Session | None:
        """Return a copy of the session or ``None``."""
        sc = _scope(scope)
        return self._call(self._manager.get, sc, scope_id_for(self._ctx, sc), key)

    def update(self, key: str, data: dict[str, Any] | None = None, *,
               scope: Scope | str = Scope.USER, status: SessionStatus | None = None) -> Session:
        """Merge ``data`` and restart the timeout; the timeout reply will go to this message's
        place. Raises ``SessionNotFound``."""
        sc = _scope(scope)
        return self._call(self._manager.update, sc, scope_id_for(self._ctx, sc), key, data,
                          status=status, reply_to=self._ctx.reply_address())

    def remove(self, key: str, *names: str, scope: Scope | str = Scope.USER) -> Session:
        """Delete values ``names``. Raises ``SessionNotFound``."""
        sc = _scope(scope)
        return self._call(self._manager.remove, sc, scope_id_for(self._ctx, sc), key, *names)

    def end(self, key: str, *, scope: Scope | str = Scope.USER) -> bool:
        """End the session; return whether it existed."""
        sc = _scope(scope)
        return self._call(self._manager.end, sc, scope_id_for(self._ctx, sc), key)

    def list(self, *, scope: Scope | str = Scope.USER, status: SessionStatus | None = None) -> list[Session]:
        """Return the sessions of this message's owner of ``scope``."""
        sc = _scope(scope)
        return self._call(self._manager.list, sc, scope_id_for(self._ctx, sc), status=status)

    def handle(self, key: str = "default", *, scope: Scope | str = Scope.USER,
               timeout: float | None = None, timeout_reply: str | None = None,
               create: bool = True) -> SessionHandle | None:
        """Return a :class:`SessionHandle` on the session, creating it if missing (unless
        ``create`` is false, then ``None`` if missing)."""
        sc = _scope(scope)
        sid = scope_id_for(self._ctx, sc)
        token = self._ctx.services.token

        def get_or_new() -> SessionHandle | None:
            m = self._manager
            if m.get(sc, sid, key) is None:
                if not create:
                    return None
                m.new(sc, sid, key, timeout=timeout, timeout_reply=timeout_reply,
                      reply_to=self._ctx.reply_address())
            return SessionHandle(m, token, sc, sid, key)

        return self._call(get_or_new)
