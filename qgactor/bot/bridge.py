"""Calling into the bot's trio thread from plain ``def`` handlers running in worker threads.

Handlers receive the same context object whether they are ``def`` or ``async def``. Its I/O
methods are *dual*: called from the trio thread they return an awaitable; called from any
other thread they block until done (via ``trio.from_thread`` with the bot's trio token) and
return the result.

Plain ``def`` handlers run through :func:`run_in_worker`, which waits for the thread on
cancellation instead of abandoning it (a thread cannot be stopped; an abandoned one would run
on past the bot's shutdown and its stop jobs). So that shutdown is not held up by a handler
blocked in a helper (``conv.ask`` waiting for a user, a reply being sent), a blocking helper
called from such a worker thread runs in the handler's own task and is cancelled with it
(the thread sees ``trio.Cancelled`` and unwinds).
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Awaitable, Callable, TypeVar

import trio

__all__ = ["in_trio_thread", "dual", "DualProxy", "ThreadSafeProxy", "NotInBotThread", "run_in_worker"]

T = TypeVar("T")

#: Per worker thread: the trio token of the bot whose handler runs in it (see ``run_in_worker``).
_worker = threading.local()


class NotInBotThread(RuntimeError):
    """Raised when a blocking helper is used from a thread the bot cannot reach (no trio token)."""


def in_trio_thread() -> bool:
    """Return True when called from a thread that is running trio (a task is current)."""
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


def run_blocking(token: trio.lowlevel.TrioToken | None, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``await fn(*args)`` in the bot's trio thread and wait for the result.

    Raises:
        NotInBotThread: no trio token is known (the bot is not running).
        whatever ``fn`` raises.
    """
    if token is None:
        raise NotInBotThread("the bot is not running: start it before calling blocking helpers")
    if getattr(_worker, "token", None) is token:
        # a handler thread of this bot: run in the handler's task, cancelled with it
        return trio.from_thread.run(fn, *args)
    return trio.from_thread.run(fn, *args, trio_token=token)


def run_sync_blocking(token: trio.lowlevel.TrioToken | None, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in the bot's trio thread (for state owned by it) and return the result.

    Raises:
        NotInBotThread: no trio token is known (the bot is not running).
    """
    if token is None:
        raise NotInBotThread("the bot is not running: start it before calling blocking helpers")
    return trio.from_thread.run_sync(fn, *args, trio_token=token)


def _call_marked(token: trio.lowlevel.TrioToken | None, fn: Callable[[Any], T], arg: Any) -> T:
    _worker.token = token
    try:
        return fn(arg)
    finally:
        _worker.token = None


async def run_in_worker(token: trio.lowlevel.TrioToken | None, fn: Callable[[Any], T], arg: Any,
                        limiter: Any = None) -> T:
    """Run the plain ``def`` handler ``fn(arg)`` in a worker thread and return its result.

    Cancellation waits for the thread to return (it is never abandoned); blocking helpers the
    handler calls meanwhile are cancelled (see the module docstring). ``token`` is the bot's trio
    token; ``limiter`` bounds the threads (a ``trio.CapacityLimiter`` or any object with its
    ``acquire_on_behalf_of``/``release_on_behalf_of``). Raises whatever ``fn`` raises.
    """
    return await trio.to_thread.run_sync(_call_marked, token, fn, arg, limiter=limiter,
                                         abandon_on_cancel=False)


def dual(method: Callable[..., Awaitable[T]]) -> Callable[..., Any]:
    """Decorate an ``async def`` method (or a ``def`` returning a coroutine) of an object with a
    ``_token`` attribute so that it returns an awaitable in the trio thread and blocks
    (returning the result) elsewhere."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if in_trio_thread():
            return method(self, *args, **kwargs)
        return run_blocking(self._token, functools.partial(method, self, *args, **kwargs))

    return wrapper


class _Proxy:
    """An object ``target`` seen from worker threads through the bot's trio ``token``."""

    __slots__ = ("_target", "_token")

    def __init__(self, target: Any, token: trio.lowlevel.TrioToken | None) -> None:
        self._target = target
        self._token = token

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._target!r}>"


class DualProxy(_Proxy):
    """Wrap an object with ``async`` methods (e.g. the API client) so that each method is dual:
    awaitable in the trio thread, blocking in worker threads. Other attributes pass through."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        if in_trio_thread():
            return attr
        token = self._token

        @functools.wraps(attr)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return run_blocking(token, functools.partial(attr, *args, **kwargs))

        return blocking


class ThreadSafeProxy(_Proxy):
    """Wrap an object whose plain methods must run in the bot's trio thread (e.g. the session
    manager): called from a worker thread, each method hops to the trio thread and returns the
    result; called from the trio thread, it runs directly."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr) or in_trio_thread():
            return attr
        token = self._token

        @functools.wraps(attr)
        def hop(*args: Any, **kwargs: Any) -> Any:
            return run_sync_blocking(token, functools.partial(attr, *args, **kwargs))

        return hop
