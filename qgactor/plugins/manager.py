"""The plugin manager: discovery, dependency plan, load, runtime control and reload.

Lifecycle of one plugin: *prepare* (import under the private namespace, find its one
:class:`Plugin` subclass, read its config file, instantiate) → *register* (its commands,
handlers and jobs with the bot, its bus events and handlers, its tools — all pointing at its
gate) → *on_load* → *activate* (its ``plugin:NAME`` supervisor with the worker actor runs,
its gate opens). Unloading runs the other way, after in-flight calls finish (bounded).

Control operations (``enable``, ``disable``, ``reload``, ``rescan``) are serialised by a lock
and need the ``plugins`` host actor to be running (``bot.add_service(manager.service_spec())``,
done by :meth:`attach`). Load/unload and crash handling live in :mod:`qgactor.plugins.lifecycle`,
the reload sequence in :mod:`qgactor.plugins.reloading`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import trio

from qgactor._version import __version__
from qgactor.bot.registry import ComponentRegistry
from qgactor.plugins.cache import ToolCache
from qgactor.plugins.components import ToolEntry
from qgactor.plugins.dependencies import DependencyProblem, LoadPlan, plan_load
from qgactor.plugins.events import EventBus, EventSpec
from qgactor.plugins.info import CommandInfo, PluginInfo, ReloadResult
from qgactor.plugins.lifecycle import Lifecycle
from qgactor.plugins.loader import DEFAULT_NAMESPACE, PluginImporter, PluginSource, discover
from qgactor.plugins.slot import PluginSlot, PluginState
from qgactor.plugins.state import DEFAULT_STATE_FILE, PluginStateFile
from qgactor.runtime import Backoff, ChildSpec

__all__ = ["PluginManager", "MANAGER_EVENTS"]

log = logging.getLogger(__name__)

MANAGER_EVENTS = (
    EventSpec("plugin.loaded", {"name": str, "version": str}, "a plugin was loaded or reloaded"),
    EventSpec("plugin.unloaded", {"name": str, "reason": str}, "a plugin was unloaded"),
    EventSpec("plugin.crashed", {"name": str, "error": str},
              "a plugin exceeded its restart intensity and was disabled"),
)
"""Bus events the manager declares and emits."""


def _registry_of(bot: Any) -> ComponentRegistry:
    for attr in ("registry", "components"):
        reg = getattr(bot, attr, None)
        if isinstance(reg, ComponentRegistry):
            return reg
    services = getattr(bot, "services", None)
    reg = getattr(services, "registry", None)
    if isinstance(reg, ComponentRegistry):
        return reg
    raise TypeError(f"cannot find the component registry of {bot!r}; pass registry=")


def source_digest(source: PluginSource) -> str:
    """SHA-256 over a plugin's code files (and manifest), to tell real edits from touches."""
    h = hashlib.sha256()
    if source.is_package:
        files = sorted(p for p in source.path.rglob("*")
                       if p.is_file() and (p.suffix == ".py" or p.name == "manifest.toml")
                       and "__pycache__" not in p.parts)
    else:
        files = [source.path]
    for f in files:
        h.update(str(f.relative_to(source.path.parent)).encode())
        try:
            h.update(f.read_bytes())
        except OSError:
            h.update(b"<unreadable>")
    return h.hexdigest()


class PluginManager:
    """Loads the plugins of one directory into one bot and controls them at run time.

    Args:
        bot: the :class:`qgactor.bot.Bot` (components are registered in its registry).
        plugins_dir: the folder holding ``NAME.py`` / ``NAME/`` plugins.
        registry: the component registry (default: the bot's).
        config_dir: where ``NAME.toml`` plugin configs live (default: ``plugins_dir``).
        state_file: where enabled/disabled state persists (default:
            ``plugins_dir/.plugins-state.toml``).
        namespace: module namespace plugin code is imported under (one per manager; default
            ``qgactor_plugins``, or ``qgactor_plugins_N`` if another manager in this process
            holds it).
        bus, cache: share an event bus or tool cache (default: new ones).
        max_restarts, within, backoff: restart intensity of each ``plugin:NAME`` supervisor;
            past it the plugin is disabled (state ``crashed``).
        reload_wait: how long calls for a reloading plugin wait before being dropped.
        drain_timeout: how long a reload waits for in-flight calls of the old version.
        hook_timeout: bound on ``on_load`` / ``on_unload``.
    """

    def __init__(
        self,
        bot: Any,
        plugins_dir: Path | str,
        *,
        registry: ComponentRegistry | None = None,
        config_dir: Path | str | None = None,
        state_file: Path | str | None = None,
        namespace: str | None = None,
        bus: EventBus | None = None,
        cache: ToolCache | None = None,
        max_restarts: int = 3,
        within: float = 30.0,
        backoff: Backoff | None = None,
        reload_wait: float = 5.0,
        drain_timeout: float = 2.0,
        hook_timeout: float = 10.0,
        qgactor_version: str = __version__,
    ) -> None:
        self.bot = bot
        self.registry = registry if registry is not None else _registry_of(bot)
        self.plugins_dir = Path(plugins_dir)
        self.config_dir = Path(config_dir) if config_dir is not None else self.plugins_dir
        self.state = PluginStateFile(
            Path(state_file) if state_file is not None else self.plugins_dir / DEFAULT_STATE_FILE
        )
        self.importer = PluginImporter(namespace or DEFAULT_NAMESPACE, auto=namespace is None)
        self.bus = bus if bus is not None else EventBus()
        self.cache = cache if cache is not None else ToolCache()
        self.max_restarts = max_restarts
        self.within = within
        self.backoff = backoff if backoff is not None else Backoff()
        self.reload_wait = reload_wait
        self.drain_timeout = drain_timeout
        self.hook_timeout = hook_timeout
        self.qgactor_version = qgactor_version
        self.slots: dict[str, PluginSlot] = {}
        """Every discovered plugin by name."""
        self.manifest_errors: dict[str, str] = {}
        """Plugins whose manifest could not be read, with the error."""
        self.tools: dict[str, ToolEntry] = {}
        self.plan: LoadPlan | None = None
        self.lock = trio.Lock()
        self.watcher_ready = trio.Event()
        """Set once the plugins watcher (if started) is watching."""
        self.life = Lifecycle(self)
        self._prepared = False

    # -- setup ----------------------------------------------------------------------------
    def prepare(self) -> LoadPlan:
        """Discover, check dependencies, import and register every loadable plugin (sync).

        Call before the bot starts so the plugins' commands and handlers (and the intents they
        need) are known when it connects; events that arrive before the ``plugins`` host has
        activated them wait at their gates. Problems are logged and reported in the returned
        plan and in :meth:`list`; they never raise.

        Raises:
            FileNotFoundError: the plugins directory does not exist.
        """
        if self._prepared:
            return self.plan  # type: ignore[return-value]
        self.importer.install()
        for spec in MANAGER_EVENTS:
            if spec.name not in {s.name for s in self.bus.specs()}:
                self.bus.declare(spec)
        plan = self.scan()
        for name in plan.order:
            self.life.prepare_and_register(self.slots[name])
        self._prepared = True
        return plan

    def scan(self) -> LoadPlan:
        """Re-read the plugins directory and recompute the load plan (does not load)."""
        sources, errors = discover(self.plugins_dir)
        self.manifest_errors = errors
        for name, error in errors.items():
            log.error("plugin %s: invalid manifest: %s", name, error)
        for name, source in sources.items():
            slot = self.slots.get(name)
            if slot is None:
                self.slots[name] = PluginSlot(source, reload_wait=self.reload_wait)
            elif slot.version is None:
                slot.source = source
        disabled = self.state.load_disabled()
        pre: dict[str, list[DependencyProblem]] = {
            n: [DependencyProblem(n, "manifest", e, "fix its manifest")] for n, e in errors.items()
        }
        for n in disabled:
            pre.setdefault(n, []).append(
                DependencyProblem(n, "disabled", f"plugin {n!r} is disabled",
                                  f"enable it with `plugin enable {n}`"))
        for n, slot in self.slots.items():
            if slot.state in (PluginState.FAILED, PluginState.CRASHED) and slot.version is None:
                pre.setdefault(n, []).append(
                    DependencyProblem(n, slot.state.value, slot.reason, f"fix plugin {n!r}"))
        manifests = {n: s.source.manifest for n, s in self.slots.items() if n in sources}
        plan = plan_load(manifests, qgactor_version=self.qgactor_version, preskipped=pre)
        for name, problems in plan.skipped.items():
            slot = self.slots.get(name)
            if slot is None or slot.version is not None:
                continue
            if name in disabled:
                slot.state, slot.reason = PluginState.DISABLED, "disabled by the user"
            elif slot.state not in (PluginState.FAILED, PluginState.CRASHED):
                slot.state = PluginState.SKIPPED
                slot.reason = "; ".join(f"{p.detail} ({p.fix})" for p in problems)
        report = plan.report()
        if report:
            log.warning("plugins not loaded:\n%s", report)
        self.plan = plan
        return plan

    def service_spec(self) -> ChildSpec:
        """The ``plugins`` host actor as a child spec for ``bot.add_service``."""
        from qgactor.plugins.host import PluginsHost

        return ChildSpec(PluginsHost, args=(self,), name="plugins", shutdown=30.0)

    def watcher_spec(self, *, debounce: float = 0.05, force_polling: bool | None = None,
                     poll_interval: float = 0.25) -> ChildSpec:
        """The ``plugins-watcher`` actor (code and config changes → reload of that plugin);
        ``force_polling=True`` polls every ``poll_interval`` s instead of using OS events."""
        from qgactor.plugins.watcher import PluginWatcher

        return ChildSpec(PluginWatcher, args=(self,), kwargs=dict(
            debounce=debounce, force_polling=force_polling, poll_interval=poll_interval),
            name="plugins-watcher")

    def attach(self, *, watch: bool = True) -> LoadPlan:
        """:meth:`prepare`, then add the ``plugins`` host (and the watcher) to the bot's tree
        with ``bot.add_service``. Returns the load plan."""
        plan = self.prepare()
        self.bot.add_service(self.service_spec())
        if watch:
            self.bot.add_service(self.watcher_spec())
        return plan

    def close(self) -> None:
        """Remove every plugin's registrations from the bot and forget the imported plugin
        modules (call after the host has stopped; the manager can be prepared again)."""
        for slot in self.slots.values():
            if slot.version is not None:
                self.life.unregister(slot)
                slot.state = PluginState.UNLOADED
            slot.open()
        self.importer.uninstall()
        self._prepared = False

    # -- queries ---------------------------------------------------------------------------
    def list(self) -> list[PluginInfo]:
        """Every plugin known (discovered, or with an invalid manifest), sorted by name."""
        out = [self.info(name) for name in sorted(self.slots)]
        for name, error in sorted(self.manifest_errors.items()):
            if name not in self.slots:
                out.append(PluginInfo(name, "?", "", "", "failed", error,
                                      self.plugins_dir / name, {}, False))
        return sorted(out, key=lambda i: i.name)

    def info(self, name: str) -> PluginInfo:
        """Information about one plugin; raises KeyError naming the known plugins."""
        slot = self._slot(name)
        m = slot.manifest
        commands: list[CommandInfo] = []
        if slot.version is not None:
            for _attr, spec in slot.version.cls.component_specs():
                if spec.kind != "command":
                    continue
                o = spec.options
                words = [o["command"]] if isinstance(o["command"], str) else list(o["command"] or ())
                regex = o["regex"]
                pats = [] if regex is None else [regex] if isinstance(regex, str) else [
                    getattr(r, "pattern", r) for r in (
                        [regex] if hasattr(regex, "pattern") else regex)]
                commands.append(CommandInfo(spec.name, tuple(words), tuple(map(str, pats)),
                                            o.get("description") or ""))
        return PluginInfo(
            name=name, version=m.version, description=m.description, author=m.author,
            state=slot.state.value, reason=slot.reason, path=slot.source.path,
            dependencies=dict(m.dependencies), allow_hot_reload=m.allow_hot_reload,
            commands=tuple(commands), reloads=slot.reloads, calls=slot.stats_calls,
            failures=slot.stats_failures, waited=slot.stats_waited, dropped=slot.stats_dropped,
        )

    def _slot(self, name: str) -> PluginSlot:
        try:
            return self.slots[name]
        except KeyError:
            raise KeyError(f"no plugin named {name!r}; known: "
                           f"{', '.join(sorted(self.slots)) or 'none'}") from None

    def dependents(self, name: str) -> list[str]:
        """Plugins that (transitively) depend on ``name`` and have a registered version,
        in load order (dependencies first)."""
        out: list[str] = []
        frontier = {name}
        while frontier:
            nxt = {n for n, s in self.slots.items()
                   if s.version is not None and n not in out and n != name
                   and frontier & set(s.manifest.dependencies)}
            out.extend(sorted(nxt))
            frontier = nxt
        order = list(self.plan.order) if self.plan else []
        return sorted(set(out), key=lambda n: (order.index(n) if n in order else len(order), n))

    # -- runtime control -------------------------------------------------------------------
    async def reload(self, name: str) -> ReloadResult:
        """Reload one plugin (and its dependents) from disk; see :mod:`.lifecycle`.

        On an import, config or ``on_load`` error the previous version is restored and
        keeps running; the result says why. A new plugin name triggers a rescan.

        Raises:
            RuntimeError: the ``plugins`` host is not running.
        """
        async with self.lock:
            return await self.life.reload(name)

    async def enable(self, name: str) -> PluginInfo:
        """Enable a plugin (persisted) and load it and any plugins waiting for it.

        Raises:
            KeyError: unknown plugin.
            RuntimeError: the ``plugins`` host is not running.
        """
        async with self.lock:
            self._slot(name)
            disabled = self.state.load_disabled()
            disabled.discard(name)
            self.state.save_disabled(disabled)
            slot = self.slots[name]
            if slot.state in (PluginState.DISABLED, PluginState.CRASHED, PluginState.FAILED):
                slot.state, slot.reason = PluginState.UNLOADED, ""
            await self.life.load_pending()
            return self.info(name)

    async def disable(self, name: str) -> PluginInfo:
        """Disable a plugin (persisted across restarts): unload its dependents, then it.

        Raises:
            KeyError: unknown plugin.
        """
        async with self.lock:
            self._slot(name)
            disabled = self.state.load_disabled()
            disabled.add(name)
            self.state.save_disabled(disabled)
            await self.life.disable(name)
            return self.info(name)

    async def rescan(self) -> list[str]:
        """Load plugins added to the directory and unload removed ones; return the names
        whose state changed."""
        async with self.lock:
            return await self.life.rescan()

    async def call_tool(self, qualified_name: str, **kwargs: Any) -> Any:
        """Call a plugin's tool ``"plugin.tool"`` with keyword arguments, under that plugin's
        supervisor, through its cache policy.

        Raises:
            LookupError: no such tool or its plugin is not loaded.
            qgactor.plugins.worker.HandlerFailed: the tool raised.
        """
        entry = self.tools.get(qualified_name)
        if entry is None:
            raise LookupError(f"no tool {qualified_name!r}; available: "
                              f"{', '.join(sorted(self.tools)) or 'none'}")
        slot = self.slots[entry.plugin]
        if entry.ttl is None and entry.bucket is None:
            return await slot.invoke_raising(entry.key, **kwargs)
        space = self.cache.namespace(entry.plugin)
        key = (entry.key, tuple(sorted(kwargs.items())))
        return await space.get_or_compute(
            key, lambda: slot.invoke_raising(entry.key, **kwargs),
            ttl=entry.ttl, bucket=entry.bucket,
        )

    async def emit(self, event: str, **fields: Any) -> Any:
        """Emit a bus event from outside any plugin (see :meth:`EventBus.emit`)."""
        return await self.bus.emit(event, **fields)
