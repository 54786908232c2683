"""One plugin's place in the manager: its state, its active version and its gate.

Everything the bot or the event bus calls for a plugin goes through the slot's gate
(:meth:`PluginSlot.invoke`), never straight to the plugin's method. The gate

* waits (bounded) while the plugin is reloading, then runs the handler of the *new* version
  with the same component key — so events that arrive during a reload are neither lost nor
  handled twice;
* runs the handler in the calling task but under the plugin worker's current incarnation
  (:mod:`qgactor.plugins.worker`): a raising handler crashes the worker, so the plugin's own
  supervisor restarts it (with backoff) or disables the plugin; while the worker restarts,
  calls wait (bounded, like a reload) and run on the next incarnation;
* keeps track of calls in flight so a reload can let them finish (bounded) and a stop can
  resolve them.
"""

from __future__ import annotations

import enum
import logging
import math
import types
from collections.abc import Callable
from typing import Any

import attrs
import trio

from qgactor.plugins.loader import PluginSource
from qgactor.plugins.manifest import Manifest
from qgactor.plugins.plugin import Plugin, PluginContext
from qgactor.bot.conversations import ConversationError
from qgactor.bot.dispatch import is_async_callable
from qgactor.plugins.worker import HandlerFailed, Pending, WorkerLane, call_maybe_sync
from qgactor.runtime import ActorRef

__all__ = ["PluginState", "PluginSlot", "Version"]

log = logging.getLogger(__name__)


class PluginState(str, enum.Enum):
    """Where a plugin stands.

    ``LOADED`` serves events; ``RELOADING`` makes its events wait; ``DISABLED`` was turned
    off by the user (persisted); ``CRASHED`` exceeded its restart intensity (until reload,
    enable or restart); ``FAILED`` could not import or load; ``SKIPPED`` has unmet
    dependencies; ``UNLOADED`` is not loaded (e.g. during shutdown).
    """

    LOADED = "loaded"
    RELOADING = "reloading"
    DISABLED = "disabled"
    CRASHED = "crashed"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNLOADED = "unloaded"


@attrs.define(slots=True, eq=False)
class Version:
    """One imported and instantiated version of a plugin.

    Attributes:
        cls: the plugin class.
        instance: the plugin object.
        modules: the plugin's modules (kept to restore this version if a reload fails).
        table: component key → bound method to call.
        context: the context given to the instance.
    """

    cls: type[Plugin]
    instance: Plugin
    modules: dict[str, types.ModuleType]
    table: dict[str, Callable[..., Any]]
    context: PluginContext
    asynchronous: frozenset[str] = attrs.field(init=False)
    """Keys of the ``async def`` components (awaited directly; the others run in a thread)."""

    def __attrs_post_init__(self) -> None:
        self.asynchronous = frozenset(k for k, fn in self.table.items() if is_async_callable(fn))


class PluginSlot:
    """State and gate of one plugin (see the module docstring)."""

    def __init__(self, source: PluginSource, *, reload_wait: float) -> None:
        self.source = source
        self.state = PluginState.UNLOADED
        self.reason: str = ""
        """Why the plugin is not loaded (failure, crash, dependencies), for listings."""
        self.version: Version | None = None
        self.worker: ActorRef | None = None
        self.supervisor: ActorRef | None = None
        self.lane: WorkerLane | None = None
        """The gate's handle on the worker's current incarnation (see :mod:`.worker`)."""
        self.reload_wait = reload_wait
        self.ready = trio.Event()
        self.inflight: set[Pending] = set()
        self.reloads = 0
        self.components: list[Any] = []
        """The bot components registered for this plugin (gates)."""
        self.stats_waited = 0
        """Calls that had to wait for a reload to finish."""
        self.stats_dropped = 0
        """Calls not delivered (plugin disabled, handler gone, or wait exceeded)."""
        self.stats_calls = 0
        """Handler calls run."""
        self.stats_failures = 0
        """Handler calls that raised (each crashed the worker's incarnation)."""

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self.source.name

    @property
    def manifest(self) -> Manifest:
        """The plugin's manifest."""
        return self.source.manifest

    # -- gate control ---------------------------------------------------------------------
    def hold(self) -> None:
        """Make new calls wait (start of a reload)."""
        if self.ready.is_set():
            self.ready = trio.Event()
        self.state = PluginState.RELOADING

    def open(self) -> None:
        """Let waiting and new calls through (end of a load or reload, or after a failure;
        calls then find the current version or none)."""
        self.ready.set()

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for calls in flight to finish; True if none remain."""
        with trio.move_on_after(timeout):
            while self.inflight:
                pending = next(iter(self.inflight))
                try:
                    await pending.wait()
                except HandlerFailed:
                    pass
                self.inflight.discard(pending)
        return not self.inflight

    def fail_inflight(self, reason: str) -> None:
        """Resolve every call in flight with an error (the plugin stopped)."""
        for pending in list(self.inflight):
            pending.fail(RuntimeError(f"plugin {self.name!r} stopped: {reason}"))
        self.inflight.clear()

    # -- the gate -------------------------------------------------------------------------
    async def invoke(self, key: str, *args: Any, **kwargs: Any) -> Any:
        """Run the current version's component ``key`` under the plugin's supervisor.

        Returns the handler's result, or None if the call could not be delivered (plugin
        disabled or crashed, component removed by a reload, reload or restart wait exceeded)
        or the handler failed (the failure crashes the plugin's worker; its supervisor logs
        and handles it).
        """
        return await self._call(key, args, kwargs, raising=False)

    async def invoke_raising(self, key: str, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`invoke` but raise instead of returning None on failure (tools).

        Raises:
            LookupError: the plugin is not loaded or has no such component.
            HandlerFailed: the handler raised (it still crashes the plugin's worker) or was
                cancelled because the plugin stopped.
        """
        return await self._call(key, args, kwargs, raising=True)

    def _undelivered(self, raising: bool, why: str) -> None:
        self.stats_dropped += 1
        if raising:
            raise LookupError(why)

    async def _call(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any], *,
                    raising: bool) -> Any:
        deadline = math.inf
        if not self.ready.is_set():
            deadline = trio.current_time() + self.reload_wait
            self.stats_waited += 1
            with trio.move_on_at(deadline):
                await self.ready.wait()
            if not self.ready.is_set():
                log.warning("plugin %s: %s waited %.1fs for a reload and was dropped",
                            self.name, key, self.reload_wait)
                return self._undelivered(raising, f"plugin {self.name!r} is still reloading")
        lane = self.lane
        run = lane.run if lane is not None else None
        if run is None or not run.open:
            # the worker is restarting after a crash (or still starting): wait, bounded
            if lane is not None and self.state is PluginState.LOADED:
                self.stats_waited += 1
                if deadline == math.inf:
                    deadline = trio.current_time() + self.reload_wait
                with trio.move_on_at(deadline):
                    run = await lane.wait_run()
            if run is None or not run.open:
                if lane is not None and not lane.gone and self.state is PluginState.LOADED:
                    log.warning("plugin %s: %s waited %.1fs for its worker to restart and was "
                                "dropped", self.name, key, self.reload_wait)
                else:
                    log.debug("plugin %s is %s: %s not delivered", self.name,
                              self.state.value, key)
                return self._undelivered(
                    raising, f"plugin {self.name!r} is {self.state.value}, not loaded")
        version = self.version
        if version is None or self.state is not PluginState.LOADED:
            log.debug("plugin %s is %s: %s not delivered", self.name, self.state.value, key)
            return self._undelivered(
                raising, f"plugin {self.name!r} is {self.state.value}, not loaded")
        fn = version.table.get(key)
        if fn is None:
            log.info("plugin %s: component %s no longer exists after a reload; event dropped",
                     self.name, key)
            return self._undelivered(raising, f"plugin {self.name!r} has no {key}")
        pending = Pending(key)
        self.inflight.add(pending)
        self.stats_calls += 1
        try:
            with trio.CancelScope() as scope:
                run.scopes.add(scope)
                try:
                    if key in version.asynchronous:
                        result = await fn(*args, **kwargs)
                    else:
                        result = await call_maybe_sync(
                            fn, *args, _limiter=lane.thread_limiter(), **kwargs)  # type: ignore[union-attr]
                except ConversationError as exc:
                    # a user walking away (timeout) or a conversation ending is not a plugin bug
                    log.info("plugin %s: %s: %s", self.name, key, exc)
                    result = None
                except Exception as exc:
                    self.stats_failures += 1
                    pending.fail(exc)
                    run.crash(exc, f"{self.name}: {key}")
                    if raising:
                        raise HandlerFailed(f"{key} failed: {exc!r}") from exc
                    return None
                finally:
                    run.scopes.discard(scope)
            if scope.cancelled_caught:
                why = f"plugin {self.name!r} stopped while {key} ran"
                pending.fail(RuntimeError(why))
                if raising:
                    raise HandlerFailed(why)
                return None
            pending.succeed(result)
            return result
        finally:
            if not pending.done:  # the caller was cancelled (e.g. a bus handler timeout)
                pending.fail(RuntimeError(f"{key} was cancelled by its caller"))
            self.inflight.discard(pending)
