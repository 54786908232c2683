"""The actor that a plugin's handlers run under (``plugin:NAME:worker`` under ``plugin:NAME``).

A handler call does not travel to the worker as a message: the gate (:mod:`qgactor.plugins.slot`)
runs it in the calling task, inside a cancel scope that belongs to the worker's current
incarnation (a :class:`WorkerRun`). That costs no task spawn and no task switch, yet keeps
the supervision semantics of running "in" the worker:

* a handler that raises crashes the worker: :meth:`WorkerRun.crash` wakes a task of the
  incarnation that re-raises the error, so the ``plugin:NAME`` supervisor restarts the worker
  with backoff, and past its restart intensity the plugin is disabled;
* when the incarnation ends (crash, plugin stopped or disabled), the handler calls still
  running under it are cancelled, as the worker's own tasks would be;
* while the worker restarts, new calls wait (bounded) for the next incarnation
  (:meth:`WorkerLane.wait_run`) instead of waiting in a mailbox.

Conversation timeouts and ends are not crashes (the gate logs them at INFO and returns None).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import trio

from qgactor.runtime import Actor, ExitReason

__all__ = ["Pending", "PluginWorker", "WorkerLane", "WorkerRun", "HandlerFailed",
           "call_maybe_sync"]

log = logging.getLogger(__name__)


class HandlerFailed(Exception):
    """A plugin handler raised, or was cancelled because its plugin stopped."""


class Pending:
    """The outcome of one handler call in flight, resolved exactly once (the event a drain
    waits on is created only if someone waits)."""

    __slots__ = ("_event", "_done", "result", "error", "label")

    def __init__(self, label: str) -> None:
        self._event: trio.Event | None = None
        self._done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.label = label

    @property
    def done(self) -> bool:
        """True once resolved."""
        return self._done

    def _resolve(self) -> None:
        self._done = True
        if self._event is not None:
            self._event.set()

    def succeed(self, result: Any) -> None:
        """Resolve with a result (ignored if already resolved)."""
        if not self._done:
            self.result = result
            self._resolve()

    def fail(self, error: BaseException) -> None:
        """Resolve with an error (ignored if already resolved)."""
        if not self._done:
            self.error = error
            self._resolve()

    async def wait(self) -> Any:
        """Wait for the outcome; return the result.

        Raises:
            HandlerFailed: the handler raised or was cancelled (the cause is chained).
        """
        if not self._done:
            if self._event is None:
                self._event = trio.Event()
            await self._event.wait()
        if self.error is not None:
            raise HandlerFailed(f"{self.label} failed: {self.error!r}") from self.error
        return self.result


async def call_maybe_sync(fn: Callable[..., Any], *args: Any,
                          _limiter: trio.CapacityLimiter | None = None, **kwargs: Any) -> Any:
    """Await ``fn(...)`` if it is async; run a plain function in a worker thread (bounded by
    ``_limiter`` if given, e.g. the bot's handler thread limiter)."""
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__func__", None)
    ):
        return await fn(*args, **kwargs)
    result = await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs),
                                           limiter=_limiter, abandon_on_cancel=True)
    if inspect.isawaitable(result):
        return await result
    return result


class WorkerRun:
    """One incarnation of a plugin's worker as the gate sees it: the cancel scopes of the
    handler calls running under it, and the way to crash it."""

    __slots__ = ("plugin", "scopes", "open", "error", "crashed")

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.scopes: set[trio.CancelScope] = set()
        """Cancel scopes of the handler calls running under this incarnation."""
        self.open = True
        """False once it crashed or ended: new calls wait for the next incarnation."""
        self.error: BaseException | None = None
        self.crashed = trio.Event()

    def crash(self, error: BaseException, label: str) -> None:
        """A handler raised ``error``: crash this incarnation (its supervisor decides what
        happens next). A second error while the first is being handled is only logged."""
        if self.open:
            self.open = False
            self.error = error
            self.crashed.set()
            log.debug("plugin %s: %s raised %s: %s (its supervisor restarts the plugin)",
                      self.plugin, label, type(error).__name__, error)
        else:
            log.error("plugin %s: %s raised while the plugin was already restarting",
                      self.plugin, label, exc_info=error)

    def close(self) -> None:
        """End this incarnation: cancel the handler calls still running under it."""
        self.open = False
        for scope in list(self.scopes):
            scope.cancel()


class WorkerLane:
    """The gate's handle on a plugin's worker across its restarts (one per ``plugin:NAME``
    supervisor): the current :class:`WorkerRun` and the thread limiter for ``def`` handlers."""

    __slots__ = ("run", "gone", "limiter", "_changed")

    def __init__(self, limiter: Callable[[], trio.CapacityLimiter | None] | None = None) -> None:
        self.run: WorkerRun | None = None
        self.gone = False
        """True once the supervisor was stopped for good (calls are not delivered)."""
        self.limiter = limiter
        self._changed = trio.Event()

    def thread_limiter(self) -> trio.CapacityLimiter | None:
        """The limiter for plain ``def`` handlers (None: trio's default)."""
        return self.limiter() if self.limiter is not None else None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def attach(self, run: WorkerRun) -> None:
        """A worker incarnation started: calls run under ``run`` from now on."""
        self.run = run
        self._notify()

    def detach(self, run: WorkerRun) -> None:
        """A worker incarnation ended: cancel its calls; new calls wait for the next one."""
        run.close()
        if self.run is run:
            self.run = None
        self._notify()

    def shut(self) -> None:
        """The supervisor is gone for good: cancel what runs, release the waiting calls."""
        self.gone = True
        if self.run is not None:
            self.run.close()
            self.run = None
        self._notify()

    async def wait_run(self) -> WorkerRun | None:
        """The current open incarnation, waiting for one while the worker restarts (the
        caller bounds the wait); None if the lane was shut."""
        while not self.gone:
            run = self.run
            if run is not None and run.open:
                return run
            await self._changed.wait()
        return None


class PluginWorker(Actor):
    """The incarnation holder of one plugin's handler calls (see the module docstring)."""

    def __init__(self, plugin: str, lane: WorkerLane) -> None:
        self.plugin = plugin
        self.lane = lane
        self.run = WorkerRun(plugin)

    async def on_start(self) -> None:
        """Start the crash relay and let calls run under this incarnation."""
        self.ctx.start_soon(self._relay_crash, name=f"plugin:{self.plugin}:crash-relay")
        self.lane.attach(self.run)

    async def _relay_crash(self) -> None:
        await self.run.crashed.wait()
        assert self.run.error is not None
        raise self.run.error

    async def on_stop(self, reason: ExitReason) -> None:
        """Cancel the calls still running under this incarnation."""
        self.lane.detach(self.run)
