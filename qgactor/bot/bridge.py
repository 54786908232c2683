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

The worker threads are qgactor's own (a small process-wide cache, :class:`_WorkerThreads`)
rather than ``trio.to_thread.run_sync``'s: a handler call then costs about a third of the CPU
(trio renames its thread for every call and wakes a dedicated thread per job). The semantics
are trio's: the handler sees a copy of the task's context variables, a cancelled task waits
for its thread, and ``trio.from_thread.run``/``run_sync``/``check_cancelled`` work without a
token inside handlers (their calls run in trio's system nursery).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import queue
import threading
from typing import Any, Awaitable, Callable, TypeVar

import outcome
import trio

try:  # where trio's to_thread marks its threads for trio.from_thread (private; optional)
    from trio._threads import PARENT_TASK_DATA as _PARENT_TASK_DATA
except ImportError:  # pragma: no cover - another trio version: bare from_thread calls need a token
    _PARENT_TASK_DATA = None

__all__ = ["in_trio_thread", "dual", "DualProxy", "ThreadSafeProxy", "NotInBotThread", "run_in_worker"]

T = TypeVar("T")

#: Per worker thread: the ``_Job`` (handler call) it is running, if any (see ``run_in_worker``).
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
    job: _Job | None = getattr(_worker, "job", None)
    if job is not None and job.token is token:
        # a handler thread of this bot: run in the handler's task, cancelled with it
        return job.call(fn, args)
    return trio.from_thread.run(fn, *args, trio_token=token)


def run_sync_blocking(token: trio.lowlevel.TrioToken | None, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in the bot's trio thread (for state owned by it) and return the result.

    Raises:
        NotInBotThread: no trio token is known (the bot is not running).
    """
    if token is None:
        raise NotInBotThread("the bot is not running: start it before calling blocking helpers")
    return trio.from_thread.run_sync(fn, *args, trio_token=token)


class _Call:
    """A worker thread's request to its handler task: ``await fn(*args)``, outcome to ``reply``."""

    __slots__ = ("fn", "args", "reply")

    def __init__(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], reply: queue.SimpleQueue) -> None:
        self.fn = fn
        self.args = args
        self.reply = reply


def _resume(task: trio.lowlevel.Task, message: Any) -> None:
    trio.lowlevel.reschedule(task, outcome.Value(message))


class _Job:
    """One ``def`` handler call: run by a worker thread, waited for by its trio task."""

    __slots__ = ("fn", "arg", "task", "token", "trio_token", "context", "cancel_register", "_reply")

    def __init__(self, fn: Callable[[Any], Any], arg: Any, token: trio.lowlevel.TrioToken | None) -> None:
        self.fn = fn
        self.arg = arg
        self.task = trio.lowlevel.current_task()
        self.token = token  # the bot's token (run_blocking recognises its own handler threads)
        self.trio_token = trio.lowlevel.current_trio_token()
        self.context = contextvars.copy_context()  # as trio.to_thread: the task's context vars
        self.cancel_register: list[Any] = [None]  # for trio.from_thread.check_cancelled()
        self._reply: queue.SimpleQueue[outcome.Outcome[Any]] | None = None

    def execute(self) -> outcome.Outcome[Any]:
        """In the worker thread: run the handler, marked as this bot's handler thread."""
        _worker.job = self
        compat = _PARENT_TASK_DATA
        if compat is not None:  # bare trio.from_thread.run/run_sync/check_cancelled work too
            compat.token = self.trio_token
            compat.abandon_on_cancel = True  # (their calls run in trio's system nursery)
            compat.cancel_register = self.cancel_register
            compat.task_register = [self.task]
        try:
            return outcome.capture(self.context.run, self.fn, self.arg)
        finally:
            _worker.job = None
            if compat is not None:
                del compat.token, compat.abandon_on_cancel, compat.cancel_register, compat.task_register

    def call(self, fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        """In the worker thread: ``await fn(*args)`` in the handler's task; return or raise its outcome."""
        reply = self._reply
        if reply is None:
            reply = self._reply = queue.SimpleQueue()
        self.trio_token.run_sync_soon(_resume, self.task, _Call(fn, args, reply))
        return reply.get().unwrap()  # type: ignore[no-any-return]


class _WorkerThreads:
    """A cache of worker threads for ``def`` handlers (process-wide, like trio's own thread cache,
    and holding no bot state): jobs go through one queue, idle threads wait on it and end after
    ``idle_timeout`` seconds without work.

    Cheaper than ``trio.to_thread.run_sync`` per call (no thread renaming, no per-call closures;
    a thread that finished a job takes the next queued one without sleeping). Concurrency is
    bounded by the caller's limiter, not here.
    """

    def __init__(self, idle_timeout: float = 10.0) -> None:
        self.idle_timeout = idle_timeout
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for a job that no submitter has reserved yet
        self.threads = 0

    def submit(self, job: _Job) -> None:
        """Queue ``job`` for a free thread (starting one if none is idle)."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                self.threads += 1
                start = True
        if start:
            try:
                threading.Thread(target=self._work, name="qgactor-handler", daemon=True).start()
            except BaseException:
                with self._lock:
                    self.threads -= 1
                raise
        self._jobs.put(job)

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            try:
                job = jobs.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:
                    if not self._idle:  # a submitter reserved this thread: its job is coming
                        continue
                    self._idle -= 1
                    self.threads -= 1
                return
            result = job.execute()
            with self._lock:  # idle before delivering: a job the delivery starts can reuse us
                self._idle += 1
            try:
                job.trio_token.run_sync_soon(_resume, job.task, result)
            except trio.RunFinishedError:
                pass
            del job, result


_THREADS = _WorkerThreads()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_THREADS._reset)


async def run_in_worker(token: trio.lowlevel.TrioToken | None, fn: Callable[[Any], T], arg: Any,
                        limiter: Any = None) -> T:
    """Run the plain ``def`` handler ``fn(arg)`` in a worker thread and return its result.

    Cancellation waits for the thread to return (it is never abandoned); blocking helpers the
    handler calls meanwhile are cancelled (see the module docstring). ``token`` is the bot's trio
    token; ``limiter`` bounds the threads (a ``trio.CapacityLimiter`` or any object with its
    ``acquire_on_behalf_of``/``release_on_behalf_of``; default: trio's default thread limiter).
    The handler sees the calling task's context variables (a copy), as with
    ``trio.to_thread.run_sync``. Raises whatever ``fn`` raises.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    if limiter is None:
        limiter = trio.to_thread.current_default_thread_limiter()
    job = _Job(fn, arg, token)
    nowait = getattr(limiter, "acquire_on_behalf_of_nowait", None)
    try:
        if nowait is None:
            raise trio.WouldBlock
        nowait(job)  # a free thread costs no checkpoint: the wait for the thread follows
    except trio.WouldBlock:
        await limiter.acquire_on_behalf_of(job)
    try:
        _THREADS.submit(job)

        def abort(raise_cancel: Any) -> trio.lowlevel.Abort:
            job.cancel_register[0] = raise_cancel
            return trio.lowlevel.Abort.FAILED  # wait for the thread; its helpers see the cancel

        while True:
            message = await trio.lowlevel.wait_task_rescheduled(abort)
            if message.__class__ is _Call:
                # the thread calls back (run_blocking): run it here, in the handler's task
                message.reply.put(await outcome.acapture(message.fn, *message.args))
                continue
            return message.unwrap()  # type: ignore[no-any-return]
    finally:
        limiter.release_on_behalf_of(job)


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
