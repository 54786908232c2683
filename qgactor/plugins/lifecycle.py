"""Load, activate, deactivate and crash handling of plugins (the manager's engine).

Building a version (import, config, instance) lives in :mod:`qgactor.plugins.versions`, the
reload sequence in :mod:`qgactor.plugins.reloading`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs
import trio

from qgactor.config import ConfigError
from qgactor.plugins.components import register_version, unregister
from qgactor.plugins.events import UnknownEventError
from qgactor.plugins.info import ReloadResult
from qgactor.plugins.loader import discover
from qgactor.plugins.plugin import Plugin
from qgactor.plugins.slot import PluginSlot, PluginState, Version
from qgactor.plugins.versions import PluginLoadError, build_version, load_plugin_config
from qgactor.plugins.worker import PluginWorker, WorkerLane, call_maybe_sync
from qgactor.runtime import ChildSpec, Down, Restart, Strategy, Supervisor

if TYPE_CHECKING:
    from qgactor.plugins.host import PluginsHost
    from qgactor.plugins.manager import PluginManager

__all__ = ["Lifecycle", "PluginLoadError"]

log = logging.getLogger(__name__)


class Lifecycle:
    """The load/unload/reload engine behind :class:`PluginManager` (holds no lock itself;
    the manager serialises calls)."""

    def __init__(self, manager: PluginManager) -> None:
        self.m = manager
        self.host: PluginsHost | None = None
        self.config_digests: dict[str, str] = {}
        self.code_digests: dict[str, str] = {}

    # -- prepare ---------------------------------------------------------------------------
    def load_config(self, slot: PluginSlot, cls: type[Plugin]) -> Any:
        """Load (creating it with comments on first use) the plugin's TOML config; see
        :func:`qgactor.plugins.versions.load_plugin_config`."""
        return load_plugin_config(self, slot, cls)

    def prepare(self, slot: PluginSlot, *, reuse: Version | None = None) -> Version:
        """Import (unless reusing an old version's class) and instantiate a plugin; see
        :func:`qgactor.plugins.versions.build_version`.

        Raises:
            PluginLoadError: what failed, with the cause chained.
        """
        return build_version(self, slot, reuse=reuse)

    def register(self, slot: PluginSlot, version: Version) -> None:
        """Swap the slot's registrations to ``version``; raises PluginLoadError."""
        before = self.m.registry.intents()
        try:
            register_version(slot, version, registry=self.m.registry, bus=self.m.bus,
                             tools=self.m.tools)
        except Exception as exc:
            hint = ""
            if isinstance(exc, UnknownEventError):
                hint = ("; to handle another plugin's events, list that plugin under the "
                        "manifest's dependencies so it loads first")
            raise PluginLoadError(
                f"plugin {slot.name!r}: cannot register its components: "
                f"{type(exc).__name__}: {exc}{hint}") from exc
        added = self.m.registry.intents() & ~before
        if added and self.host is not None and getattr(self.m.bot, "settings", None) is not None \
                and getattr(self.m.bot.settings, "intents", None) is None:
            log.warning("plugin %s handles events whose intents (%s) were not subscribed when "
                        "the bot connected; restart the bot to receive them", slot.name, added)

    def unregister(self, slot: PluginSlot) -> None:
        """Remove the slot's registrations."""
        unregister(slot, registry=self.m.registry, bus=self.m.bus, tools=self.m.tools)

    def prepare_and_register(self, slot: PluginSlot) -> bool:
        """Prepare + register (sync, before the host runs); on failure mark FAILED."""
        missing = self._unready_deps(slot)
        if missing:
            self._skip(slot, missing)
            return False
        try:
            version = self.prepare(slot)
            self.register(slot, version)
        except PluginLoadError as exc:
            self._fail(slot, exc)
            return False
        slot.hold()
        slot.state = PluginState.UNLOADED
        return True

    def _unready_deps(self, slot: PluginSlot) -> list[str]:
        return [d for d in slot.manifest.dependencies
                if d not in self.m.slots or self.m.slots[d].version is None
                or self.m.slots[d].state in (PluginState.FAILED, PluginState.CRASHED,
                                             PluginState.DISABLED, PluginState.SKIPPED)]

    def _skip(self, slot: PluginSlot, missing: list[str]) -> None:
        slot.state = PluginState.SKIPPED
        slot.reason = "needs plugin(s) " + ", ".join(repr(d) for d in missing) + \
            " which are not loaded"
        log.warning("plugin %s skipped: %s", slot.name, slot.reason)

    def _fail(self, slot: PluginSlot, exc: BaseException) -> None:
        slot.state = PluginState.FAILED
        slot.reason = str(exc)
        # an invalid config file is the user's to fix: file, key and line say it all, a
        # traceback of the config loader would only hide them; code errors keep theirs
        user_error = isinstance(exc.__cause__, ConfigError)
        log.error("plugin %s failed to load: %s", slot.name, exc,
                  exc_info=None if user_error else (exc.__cause__ or exc))

    # -- activate / deactivate -------------------------------------------------------------
    def _require_host(self) -> PluginsHost:
        if self.host is None:
            raise RuntimeError("the plugins host actor is not running; start it with "
                               "bot.add_service(manager.service_spec()) (or manager.attach())")
        return self.host

    async def activate(self, slot: PluginSlot) -> None:
        """Start the plugin's supervisor and worker (unless they survive from the previous
        version), run ``on_load``, open its gate.

        Raises:
            PluginLoadError: ``on_load`` raised or timed out (a supervisor started here is
                stopped again).
        """
        host = self._require_host()
        version = slot.version
        assert version is not None
        name = slot.name
        fresh = slot.supervisor is None or not slot.supervisor.alive
        if fresh:
            worker_name = f"plugin:{name}:worker"
            if slot.lane is not None:
                slot.lane.shut()
            lane = slot.lane = WorkerLane(self._thread_limiter)
            spec = Supervisor.spec(
                f"plugin:{name}",
                [ChildSpec(PluginWorker, args=(name, lane), name=worker_name, shutdown=2.0)],
                strategy=Strategy.ONE_FOR_ONE, max_restarts=self.m.max_restarts,
                within=self.m.within, backoff=self.m.backoff,
            )
            sup = await host.ctx.spawn(attrs.evolve(spec, restart=Restart.TEMPORARY))
            host.ctx.watch(sup)
            slot.supervisor, slot.worker = sup, host.ctx.lookup(worker_name)
        try:
            with trio.fail_after(self.m.hook_timeout):
                await call_maybe_sync(version.instance.on_load)
        except Exception as exc:
            if fresh:
                await self._stop_supervisor(slot)
            if isinstance(exc, trio.TooSlowError):
                raise PluginLoadError(
                    f"plugin {name!r}: on_load took longer than {self.m.hook_timeout}s") from exc
            raise PluginLoadError(
                f"plugin {name!r}: on_load raised {type(exc).__name__}: {exc}") from exc
        slot.state, slot.reason = PluginState.LOADED, ""
        slot.open()
        log.info("plugin %s %s loaded", name, slot.manifest.version)
        await self._emit("plugin.loaded", name=name, version=slot.manifest.version)

    def _thread_limiter(self) -> trio.CapacityLimiter | None:
        """The running bot's limiter for plain ``def`` handlers (None: trio's default)."""
        services = getattr(self.m.bot, "services", None)
        return getattr(services, "thread_limiter", None)

    async def _stop_supervisor(self, slot: PluginSlot) -> None:
        sup = slot.supervisor
        slot.supervisor = slot.worker = None
        self._shut_lane(slot)
        host = self.host
        if sup is None or host is None:
            return
        host.ctx.unwatch(sup)
        if sup.alive:
            await host.stop_child(sup)

    @staticmethod
    def _shut_lane(slot: PluginSlot) -> None:
        if slot.lane is not None:
            slot.lane.shut()
            slot.lane = None

    async def deactivate(self, slot: PluginSlot, reason: str, *, keep_gates: bool,
                         stop_worker: bool | None = None) -> None:
        """Stop serving the current version.

        With ``keep_gates`` (a reload, a bot shutdown): the registrations stay and new calls
        wait at the gate; calls in flight get up to ``drain_timeout`` to finish before
        ``on_unload`` runs. Without (disable, crash, removal): the registrations are removed.
        ``stop_worker`` (default: ``not keep_gates``) stops the plugin's supervisor,
        cancelling what still runs after the drain; a reload keeps it, so calls in flight
        finish on the old version. The plugin's cache namespace is cleared in every case.
        """
        if stop_worker is None:
            stop_worker = not keep_gates
        version = slot.version
        if keep_gates:
            slot.hold()
        if not await slot.drain(self.m.drain_timeout):
            log.warning("plugin %s: %d call(s) still running after %.1fs (%s)", slot.name,
                        len(slot.inflight), self.m.drain_timeout,
                        "cancelled" if stop_worker else "they finish on the old version")
        if stop_worker:
            await self._stop_supervisor(slot)
            slot.fail_inflight(reason)
        if version is not None:
            try:
                with trio.fail_after(self.m.hook_timeout):
                    await call_maybe_sync(version.instance.on_unload)
            except Exception:
                log.exception("plugin %s: on_unload failed (ignored)", slot.name)
        self.m.cache.clear(slot.name)
        if not keep_gates:
            self.unregister(slot)
            slot.open()
        await self._emit("plugin.unloaded", name=slot.name, reason=reason)

    async def _emit(self, event: str, **fields: Any) -> None:
        try:
            await self.m.bus.emit(event, **fields)
        except Exception:
            log.exception("emitting %s failed", event)

    # -- whole-set operations -------------------------------------------------------------
    async def start(self, host: PluginsHost) -> None:
        """Called by the host's ``on_start``: activate every registered plugin in order."""
        self.host = host
        if not self.m._prepared:
            self.m.prepare()
        for slot in self.m.slots.values():
            # after a host restart the old supervisors are gone; after a bot restart the
            # registrations are still there: hold their gates until activated
            if slot.version is not None and slot.state in (PluginState.LOADED,
                                                           PluginState.UNLOADED):
                slot.supervisor = slot.worker = None
                self._shut_lane(slot)
                slot.hold()
                slot.state = PluginState.UNLOADED
        await self.load_pending()

    async def load_pending(self) -> None:
        """Prepare/register/activate, in plan order, every plugin that can load but is not
        loaded (new, enabled, or waiting for a dependency)."""
        plan = self.m.scan()
        for name in plan.order:
            slot = self.m.slots[name]
            if slot.state is PluginState.LOADED:
                continue
            if slot.state in (PluginState.FAILED, PluginState.CRASHED):
                continue
            if slot.version is None and not self.prepare_and_register(slot):
                continue
            missing = self._unready_deps(slot)
            if missing:
                self.unregister(slot)
                slot.open()
                self._skip(slot, missing)
                continue
            try:
                await self.activate(slot)
            except PluginLoadError as exc:
                self.unregister(slot)
                slot.open()
                self._fail(slot, exc)

    async def shutdown(self) -> None:
        """Called by the host's ``on_stop``: unload every loaded plugin, dependents first.

        Registrations stay, so a bot started again in this process knows the plugins'
        commands and intents before it connects (until the host activates them again, their
        calls are dropped); :meth:`PluginManager.close` removes them.
        """
        order = list(self.m.plan.order) if self.m.plan else list(self.m.slots)
        for name in reversed(order):
            slot = self.m.slots.get(name)
            if slot is not None and slot.state is PluginState.LOADED:
                await self.deactivate(slot, "shutdown", keep_gates=True, stop_worker=True)
                slot.state = PluginState.UNLOADED
                slot.open()  # late events are dropped at once, not held during shutdown
        self.host = None

    async def disable(self, name: str) -> None:
        """Unload ``name``'s dependents (they become skipped) and ``name`` (disabled)."""
        slot = self.m.slots[name]
        for dep in reversed(self.m.dependents(name)):
            d = self.m.slots[dep]
            if d.state is PluginState.LOADED:
                d.state = PluginState.SKIPPED
                d.reason = f"needs plugin {name!r} which is disabled"
                await self.deactivate(d, f"dependency {name} disabled", keep_gates=False)
        was_loaded = slot.state is PluginState.LOADED
        slot.state, slot.reason = PluginState.DISABLED, "disabled by the user"
        if was_loaded or slot.version is not None:
            await self.deactivate(slot, "disabled", keep_gates=False)

    async def rescan(self) -> list[str]:
        """Unload plugins whose files are gone, load new ones; return changed names."""
        sources, _errors = discover(self.m.plugins_dir)
        changed: list[str] = []
        for name in [n for n in self.m.slots if n not in sources]:
            slot = self.m.slots[name]
            for dep in reversed(self.m.dependents(name)):
                d = self.m.slots[dep]
                if d.state is PluginState.LOADED:
                    d.state, d.reason = PluginState.SKIPPED, f"needs plugin {name!r} (removed)"
                    await self.deactivate(d, f"dependency {name} removed", keep_gates=False)
                    changed.append(dep)
            if slot.state is PluginState.LOADED or slot.version is not None:
                slot.state = PluginState.UNLOADED
                await self.deactivate(slot, "removed from disk", keep_gates=False)
            self.m.importer.purge(name)
            del self.m.slots[name]
            changed.append(name)
        before = {n: s.state for n, s in self.m.slots.items()}
        await self.load_pending()
        changed += [n for n, s in self.m.slots.items() if before.get(n) != s.state]
        return sorted(set(changed))

    # -- reload ----------------------------------------------------------------------------
    async def reload(self, name: str) -> ReloadResult:
        """Reload one plugin and its dependents (see :mod:`qgactor.plugins.reloading`)."""
        from qgactor.plugins.reloading import reload_plugin

        return await reload_plugin(self, name)

    async def bring_back(self, slot: PluginSlot, old: Version) -> None:
        """Re-activate a fresh instance of an old version after a failed reload."""
        try:
            version = self.prepare(slot, reuse=old)
            self.register(slot, version)
            await self.activate(slot)
        except PluginLoadError as exc:
            await self._stop_supervisor(slot)
            slot.fail_inflight("failed to load")
            self.unregister(slot)
            self._fail(slot, exc)

    # -- crashes ------------------------------------------------------------------------------
    async def on_down(self, down: Down) -> None:
        """A plugin supervisor stopped by itself: a crash loop past its restart intensity."""
        slot = next((s for s in self.m.slots.values() if s.supervisor is down.ref), None)
        if slot is None:
            return
        error = down.reason.error
        slot.supervisor = slot.worker = None
        self._shut_lane(slot)
        slot.state = PluginState.CRASHED
        slot.fail_inflight("crash loop")
        root = error
        while root is not None and root.__cause__ is not None:
            root = root.__cause__
        slot.reason = (f"disabled after crashing more than {self.m.max_restarts} times in "
                       f"{self.m.within:g}s; last error: {type(root).__name__}: {root}")
        log.error("plugin %s %s; the bot and the other plugins keep running; fix it and "
                  "reload or enable it", slot.name, slot.reason)
        await self.deactivate(slot, "crash loop", keep_gates=False)
        slot.state = PluginState.CRASHED
        await self._emit("plugin.crashed", name=slot.name, error=f"{type(root).__name__}: {root}")
