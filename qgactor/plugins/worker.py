"""The actor that runs one plugin's handlers (``plugin:NAME:worker`` under ``plugin:NAME``).

Conversation timeouts and ends are not crashes: they are logged at INFO and the call returns
None. Each handler call arrives as an :class:`Invoke` message and runs as a task of the worker's
current incarnation, so a plugin serves many events at once (a guessing game waiting for the
next reply does not block its other commands), and an exception in a handler crashes the
worker: its supervisor restarts it with backoff, and past its restart intensity the plugin is
disabled. The caller waits on a :class:`Pending`, which always resolves (result, error, or
cancellation when the plugin stops).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import attrs
import trio

from qgactor.bot.conversations import ConversationError
from qgactor.runtime import Actor, ActorDead

__all__ = ["Invoke", "Pending", "PluginWorker", "HandlerFailed", "call_maybe_sync"]

log = logging.getLogger(__name__)


class HandlerFailed(Exception):
    """A plugin handler raised, or was cancelled because its plugin stopped."""


class Pending:
    """The outcome of one handler call, resolved exactly once."""

    __slots__ = ("_event", "result", "error", "label")

    def __init__(self, label: str) -> None:
        self._event = trio.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.label = label

    @property
    def done(self) -> bool:
        """True once resolved."""
        return self._event.is_set()

    def succeed(self, result: Any) -> None:
        """Resolve with a result (ignored if already resolved)."""
        if not self._event.is_set():
            self.result = result
            self._event.set()

    def fail(self, error: BaseException) -> None:
        """Resolve with an error (ignored if already resolved)."""
        if not self._event.is_set():
            self.error = error
            self._event.set()

    async def wait(self) -> Any:
        """Wait for the outcome; return the result.

        Raises:
            HandlerFailed: the handler raised or was cancelled (the cause is chained).
        """
        await self._event.wait()
        if self.error is not None:
            raise HandlerFailed(f"{self.label} failed: {self.error!r}") from self.error
        return self.result


@attrs.frozen(slots=True, eq=False)
class Invoke:
    """Ask a plugin worker to run ``fn(*args, **kwargs)`` and resolve ``pending``."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    pending: Pending


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


class PluginWorker(Actor):
    """Runs handler calls of one plugin; a raising handler crashes it (see module doc)."""

    def __init__(
        self, plugin: str, limiter: Callable[[], trio.CapacityLimiter | None] | None = None
    ) -> None:
        self.plugin = plugin
        self.limiter = limiter

    async def receive(self, msg: Any) -> Any:
        """Start an :class:`Invoke` as a task of this incarnation; ignore anything else."""
        if isinstance(msg, Invoke):
            try:
                self.ctx.start_soon(self._run, msg, name=f"{self.plugin}:{msg.pending.label}")
            except ActorDead:
                # this incarnation is ending (another handler just crashed it): hand the call
                # to the next incarnation instead of losing it
                try:
                    requeued = self.ref.tell_nowait(msg)
                except Exception:
                    requeued = False
                if not requeued:
                    msg.pending.fail(RuntimeError(f"plugin {self.plugin!r} worker stopped"))
        else:
            log.warning("plugin %s worker got an unexpected message %r", self.plugin, msg)
        return None

    async def _run(self, inv: Invoke) -> None:
        try:
            limiter = self.limiter() if self.limiter is not None else None
            result = await call_maybe_sync(inv.fn, *inv.args, _limiter=limiter, **inv.kwargs)
        except ConversationError as exc:
            # a user walking away (timeout) or a conversation ending is not a plugin bug
            log.info("plugin %s: %s: %s", self.plugin, inv.pending.label, exc)
            inv.pending.succeed(None)
            return
        except BaseException as exc:
            inv.pending.fail(exc)
            if not isinstance(exc, trio.Cancelled):
                log.debug("plugin %s: %s raised %s: %s (its supervisor restarts the plugin)",
                          self.plugin, inv.pending.label, type(exc).__name__, exc)
            raise
        inv.pending.succeed(result)
