"""One plugin's place in the manager: its state, its active version and its gate.

Everything the bot or the event bus calls for a plugin goes through the slot's gate
(:meth:`PluginSlot.invoke`), never straight to the plugin's method. The gate

* waits (bounded) while the plugin is reloading, then runs the handler of the *new* version
  with the same component key — so events that arrive during a reload are neither lost nor
  handled twice;
* sends the call to the plugin's worker actor, so the handler runs under the plugin's own
  supervisor;
* keeps track of calls in flight so a reload can let them finish (bounded) and a stop can
  resolve them.
"""

from __future__ import annotations

import enum
import logging
import types
from collections.abc import Callable
from typing import Any

import attrs
import trio

from qgactor.plugins.loader import PluginSource
from qgactor.plugins.manifest import Manifest
from qgactor.plugins.plugin import Plugin, PluginContext
from qgactor.plugins.worker import HandlerFailed, Invoke, Pending
from qgactor.runtime import ActorDead, ActorRef

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
        disabled or crashed, component removed by a reload, reload wait exceeded) or the
        handler failed (the failure is logged by the worker and handled by the supervisor).
        """
        if not self.ready.is_set():
            self.stats_waited += 1
            with trio.move_on_after(self.reload_wait) as scope:
                await self.ready.wait()
            if scope.cancelled_caught:
                self.stats_dropped += 1
                log.warning("plugin %s: %s waited %.1fs for a reload and was dropped",
                            self.name, key, self.reload_wait)
                return None
        version, worker = self.version, self.worker
        if version is None or worker is None or self.state is not PluginState.LOADED:
            self.stats_dropped += 1
            log.debug("plugin %s is %s: %s not delivered", self.name, self.state.value, key)
            return None
        fn = version.table.get(key)
        if fn is None:
            self.stats_dropped += 1
            log.info("plugin %s: component %s no longer exists after a reload; event dropped",
                     self.name, key)
            return None
        pending = Pending(key)
        self.inflight.add(pending)
        try:
            try:
                await worker.tell(Invoke(fn, args, kwargs, pending))
            except ActorDead:
                self.stats_dropped += 1
                return None
            try:
                return await pending.wait()
            except HandlerFailed:
                return None
        finally:
            self.inflight.discard(pending)

    async def invoke_raising(self, key: str, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`invoke` but raise instead of returning None on failure (tools).

        Raises:
            LookupError: the plugin is not loaded or has no such component.
            HandlerFailed: the handler raised.
        """
        if not self.ready.is_set():
            with trio.move_on_after(self.reload_wait):
                await self.ready.wait()
        version, worker = self.version, self.worker
        if version is None or worker is None or self.state is not PluginState.LOADED:
            raise LookupError(f"plugin {self.name!r} is {self.state.value}, not loaded")
        fn = version.table.get(key)
        if fn is None:
            raise LookupError(f"plugin {self.name!r} has no {key}")
        pending = Pending(key)
        self.inflight.add(pending)
        try:
            try:
                await worker.tell(Invoke(fn, args, kwargs, pending))
            except ActorDead:
                raise LookupError(f"plugin {self.name!r} stopped") from None
            return await pending.wait()
        finally:
            self.inflight.discard(pending)
