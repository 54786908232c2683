"""The session manager: scoped key-value sessions in memory, written behind to a store.

All methods must be called from the trio thread that runs the manager (the handler helpers
hop there from worker threads). Timeouts use the trio clock (so ``MockClock`` drives them in
tests); persisted times use the wall clock, so that a restart resumes the remaining timeout.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import time
from typing import Any, Awaitable, Callable, Iterable

import attrs
import trio

from qgactor.bot.sessions.model import (
    Scope,
    Session,
    SessionExists,
    SessionId,
    SessionNotFound,
    SessionRecord,
    SessionStatus,
)
from qgactor.bot.sessions.store import MemorySessionStore, SessionStore

__all__ = ["SessionManager", "TimeoutCallback"]

log = logging.getLogger(__name__)

#: Called (in its own task) with a session that ended because its timeout passed.
TimeoutCallback = Callable[[Session], Awaitable[None]]

_UNSET: Any = object()


def _copy(s: Session) -> Session:
    return attrs.evolve(s, data=json.loads(json.dumps(s.data)),
                        reply_to=dict(s.reply_to) if s.reply_to else None)


def _to_record(s: Session) -> SessionRecord:
    return SessionRecord(
        scope=s.id.scope.value, scope_id=s.id.scope_id, key=s.id.key,
        data=json.dumps(s.data, ensure_ascii=False), status=s.status.value,
        created_at=s.created_at, updated_at=s.updated_at, timeout=s.timeout,
        timeout_reply=s.timeout_reply,
        reply_to=json.dumps(s.reply_to, ensure_ascii=False) if s.reply_to is not None else None,
    )


def _from_record(r: SessionRecord) -> Session:
    return Session(
        id=SessionId(Scope(r.scope), r.scope_id, r.key), data=json.loads(r.data),
        status=SessionStatus(r.status), created_at=r.created_at, updated_at=r.updated_at,
        timeout=r.timeout, timeout_reply=r.timeout_reply,
        reply_to=json.loads(r.reply_to) if r.reply_to else None,
    )


class SessionManager:
    """Owns the sessions of one bot.

    Args:
        store: where sessions persist (default: in memory only).
        on_timeout: awaited (in a separate task, errors logged) for each session that times out.
        inactive_ttl: seconds without activity after which INACTIVE sessions are removed
            (None: never).
        gc_interval: seconds between garbage-collection sweeps of INACTIVE sessions.
        wall_clock: returns the wall time in seconds (tests may tie it to the trio clock).
    """

    def __init__(
        self,
        store: SessionStore | None = None,
        *,
        on_timeout: TimeoutCallback | None = None,
        inactive_ttl: float | None = 7 * 24 * 3600.0,
        gc_interval: float = 60.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store if store is not None else MemorySessionStore()
        self.on_timeout = on_timeout
        self.inactive_ttl = inactive_ttl
        self.gc_interval = gc_interval
        self.wall_clock = wall_clock
        self._sessions: dict[SessionId, Session] = {}
        self._deadlines: dict[SessionId, float] = {}
        self._heap: list[tuple[float, int, SessionId]] = []
        self._counter = 0
        self._timer_wake: trio.Event | None = None
        self._nursery: trio.Nursery | None = None
        self.timeouts_fired = 0
        self.collected = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        """Open the store and load the persisted sessions (resuming their remaining timeouts).

        Raises:
            whatever the store raises when it cannot be opened or read.
        """
        await self.store.open()
        now_wall, now = self.wall_clock(), trio.current_time()
        self._sessions.clear()
        self._deadlines.clear()
        self._heap.clear()
        for rec in await self.store.load_all():
            s = _from_record(rec)
            self._sessions[s.id] = s
            if s.status is SessionStatus.ACTIVE and s.timeout is not None:
                remaining = s.timeout - max(0.0, now_wall - s.updated_at)
                self._set_deadline(s.id, now + max(0.0, remaining))

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the store writer, the timeout timer and the garbage collector until cancelled;
        then flush and close the store. Call :meth:`open` first."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await nursery.start(self.store.run)
                nursery.start_soon(self._timer)
                nursery.start_soon(self._gc_loop)
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None
            self._timer_wake = None
            with trio.CancelScope(shield=True):
                await self.store.close()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """:meth:`open`, then :meth:`serve` until cancelled."""
        try:
            await self.open()
        except BaseException:
            with trio.CancelScope(shield=True):
                await self.store.close()
            raise
        await self.serve(task_status=task_status)

    # -- timers ----------------------------------------------------------------------------
    def _set_deadline(self, sid: SessionId, deadline: float | None) -> None:
        if deadline is None:
            self._deadlines.pop(sid, None)
            return
        self._deadlines[sid] = deadline
        self._counter += 1
        heapq.heappush(self._heap, (deadline, self._counter, sid))
        if self._timer_wake is not None and self._heap[0][2] == sid:
            self._timer_wake.set()

    def _arm(self, s: Session) -> None:
        if s.status is SessionStatus.ACTIVE and s.timeout is not None:
            self._set_deadline(s.id, trio.current_time() + s.timeout)
        else:
            self._set_deadline(s.id, None)

    async def _timer(self) -> None:
        while True:
            now = trio.current_time()
            while self._heap and self._heap[0][0] <= now:
                deadline, _, sid = heapq.heappop(self._heap)
                if self._deadlines.get(sid) != deadline:
                    continue  # stale entry: the session was touched or ended
                self._fire(sid)
            self._timer_wake = trio.Event()
            wait = self._heap[0][0] - now if self._heap else math.inf
            with trio.move_on_after(wait):
                await self._timer_wake.wait()

    def _fire(self, sid: SessionId) -> None:
        s = self._sessions.pop(sid, None)
        self._deadlines.pop(sid, None)
        if s is None:
            return
        self.store.delete((sid.scope.value, sid.scope_id, sid.key))
        self.timeouts_fired += 1
        log.debug("session %s timed out", sid)
        if self.on_timeout is not None and self._nursery is not None:
            self._nursery.start_soon(self._call_timeout, s)

    async def _call_timeout(self, s: Session) -> None:
        try:
            assert self.on_timeout is not None
            await self.on_timeout(s)
        except Exception:
            log.exception("the timeout callback for session %s failed", s.id)

    async def _gc_loop(self) -> None:
        while True:
            await trio.sleep(self.gc_interval)
            self.collect()

    def collect(self) -> int:
        """Remove INACTIVE sessions idle for longer than ``inactive_ttl``; return how many."""
        if self.inactive_ttl is None:
            return 0
        cutoff = self.wall_clock() - self.inactive_ttl
        dead = [sid for sid, s in self._sessions.items()
                if s.status is SessionStatus.INACTIVE and s.updated_at < cutoff]
        for sid in dead:
            self._drop(sid)
        self.collected += len(dead)
        return len(dead)

    # -- operations ------------------------------------------------------------------------
    def _persist(self, s: Session) -> None:
        self.store.put(_to_record(s))

    def _drop(self, sid: SessionId) -> None:
        self._sessions.pop(sid, None)
        self._set_deadline(sid, None)
        self.store.delete((sid.scope.value, sid.scope_id, sid.key))

    @staticmethod
    def _sid(scope: Scope | str, scope_id: str, key: str) -> SessionId:
        sc = scope if isinstance(scope, Scope) else Scope(str(scope).lower())
        if sc is Scope.GLOBAL:
            scope_id = ""
        return SessionId(sc, str(scope_id), str(key))

    def new(
        self,
        scope: Scope | str,
        scope_id: str,
        key: str,
        data: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        timeout_reply: str | None = None,
        reply_to: dict[str, Any] | None = None,
        status: SessionStatus = SessionStatus.ACTIVE,
        replace: bool = False,
    ) -> Session:
        """Create a session and return a copy of it.

        Raises:
            SessionExists: it exists and ``replace`` is false.
            TypeError: ``data`` is not JSON-serialisable.
            ValueError: a non-positive timeout or an unknown scope.
        """
        sid = self._sid(scope, scope_id, key)
        if sid in self._sessions and not replace:
            raise SessionExists(f"session {sid} already exists; use update() or new(..., replace=True)")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"session timeout must be positive seconds or None, got {timeout!r}")
        payload = dict(data or {})
        json.dumps(payload)  # raises TypeError early, before anything is stored
        now = self.wall_clock()
        s = Session(id=sid, data=payload, status=status, created_at=now, updated_at=now,
                    timeout=timeout, timeout_reply=timeout_reply, reply_to=reply_to)
        self._sessions[sid] = s
        self._arm(s)
        self._persist(s)
        return _copy(s)

    def get(self, scope: Scope | str, scope_id: str, key: str) -> Session | None:
        """Return a copy of the session, or ``None`` if there is none (does not count as activity)."""
        s = self._sessions.get(self._sid(scope, scope_id, key))
        return _copy(s) if s is not None else None

    def _existing(self, scope: Scope | str, scope_id: str, key: str) -> Session:
        sid = self._sid(scope, scope_id, key)
        s = self._sessions.get(sid)
        if s is None:
            raise SessionNotFound(f"no session {sid}; create it with new()")
        return s

    def update(
        self,
        scope: Scope | str,
        scope_id: str,
        key: str,
        data: dict[str, Any] | None = None,
        *,
        status: SessionStatus | None = None,
        timeout: float | None = _UNSET,
        timeout_reply: str | None = _UNSET,
        reply_to: dict[str, Any] | None = _UNSET,
    ) -> Session:
        """Merge ``data`` into the session, optionally change its status/timeout, restart its
        timeout, and return a copy.

        Raises:
            SessionNotFound: there is no such session.
            TypeError: the merged data is not JSON-serialisable (nothing is changed).
        """
        s = self._existing(scope, scope_id, key)
        merged = {**s.data, **(data or {})}
        json.dumps(merged)
        s.data = merged
        if status is not None:
            s.status = status
        if timeout is not _UNSET:
            s.timeout = timeout
        if timeout_reply is not _UNSET:
            s.timeout_reply = timeout_reply
        if reply_to is not _UNSET:
            s.reply_to = reply_to
        s.updated_at = self.wall_clock()
        self._arm(s)
        self._persist(s)
        return _copy(s)

    def touch(self, scope: Scope | str, scope_id: str, key: str) -> None:
        """Count activity on the session (restarts its timeout).

        Raises:
            SessionNotFound: there is no such session.
        """
        self.update(scope, scope_id, key)

    def remove(self, scope: Scope | str, scope_id: str, key: str, *names: str) -> Session:
        """Delete the values ``names`` from the session's data (missing names are ignored).

        Raises:
            SessionNotFound: there is no such session.
        """
        s = self._existing(scope, scope_id, key)
        for n in names:
            s.data.pop(n, None)
        s.updated_at = self.wall_clock()
        self._arm(s)
        self._persist(s)
        return _copy(s)

    def end(self, scope: Scope | str, scope_id: str, key: str) -> bool:
        """End (delete) the session; return whether it existed. No timeout reply is sent."""
        sid = self._sid(scope, scope_id, key)
        if sid not in self._sessions:
            return False
        self._drop(sid)
        return True

    def list(
        self,
        scope: Scope | str | None = None,
        scope_id: str | None = None,
        *,
        key: str | None = None,
        status: SessionStatus | None = None,
    ) -> list[Session]:
        """Return copies of the sessions matching every filter given."""
        sc = None if scope is None else (scope if isinstance(scope, Scope) else Scope(str(scope).lower()))
        out = []
        for sid, s in self._sessions.items():
            if sc is not None and sid.scope is not sc:
                continue
            if scope_id is not None and sid.scope_id != scope_id:
                continue
            if key is not None and sid.key != key:
                continue
            if status is not None and s.status is not status:
                continue
            out.append(_copy(s))
        return out

    def __len__(self) -> int:
        return len(self._sessions)

    def stats(self) -> dict[str, Any]:
        """Return counters for status pages: sessions, timers, timeouts fired, collected."""
        return {
            "sessions": len(self._sessions),
            "timers": len(self._deadlines),
            "timeouts_fired": self.timeouts_fired,
            "collected": self.collected,
            "store": type(self.store).__name__,
        }

    def ids(self) -> Iterable[SessionId]:
        """Return the ids of all sessions."""
        return list(self._sessions)
