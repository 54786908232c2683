"""Reloading one plugin (and the plugins that depend on it) without losing events.

Reload of plugin P with (transitive) dependents D1..Dn:

1. re-read P's manifest and check its needs; import P's new code and build the new version
   while the old one keeps serving. An import, definition or config error stops here: the
   old modules are put back and nothing else changed.
2. hold the gates of P and D* (their events wait, bounded), deactivate D* (reverse order) and
   P: in-flight calls get ``drain_timeout`` to finish (and otherwise finish on the old
   version: the worker actor is kept), ``on_unload`` runs, caches are cleared.
3. register the new P (one synchronous swap) and activate it (``on_load``). If that fails,
   the old version is restored (modules, a fresh instance of the old class) and activated
   instead, and the result says why.
4. re-import and re-activate D* in load order; open the gates: waiting events run on the
   new versions.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from qgactor.plugins.dependencies import check_requirements
from qgactor.plugins.info import ReloadResult
from qgactor.plugins.lifecycle import PluginLoadError
from qgactor.plugins.loader import discover
from qgactor.plugins.slot import PluginState

if TYPE_CHECKING:
    from qgactor.plugins.lifecycle import Lifecycle

__all__ = ["reload_plugin"]

log = logging.getLogger(__name__)


async def reload_plugin(life: Lifecycle, name: str) -> ReloadResult:
    """Reload ``name`` as described in the module docstring; never raises for plugin errors
    (the result says what went wrong).

    Raises:
        RuntimeError: the ``plugins`` host actor is not running.
    """
    t0 = time.perf_counter()

    def result(ok: bool, error: str = "", reloaded: tuple[str, ...] = ()) -> ReloadResult:
        if error:
            log.error("reload of plugin %s failed: %s", name, error)
        return ReloadResult(name, ok, error, reloaded, time.perf_counter() - t0)

    life._require_host()
    sources, errors = discover(life.m.plugins_dir)
    if name in errors:
        return result(False, errors[name])
    if name not in life.m.slots or name not in sources:
        changed = await life.rescan()
        slot = life.m.slots.get(name)
        ok = slot is not None and slot.state is PluginState.LOADED
        return result(ok, "" if ok or slot is None else slot.reason, tuple(changed))
    slot = life.m.slots[name]
    if slot.state is PluginState.DISABLED:
        return result(False, f"plugin {name!r} is disabled; enable it first")
    new_source = sources[name]
    if slot.version is None or slot.state is not PluginState.LOADED:
        slot.source = new_source
        slot.state, slot.reason = PluginState.UNLOADED, ""
        if slot.version is not None:
            life.unregister(slot)
        await life.load_pending()
        ok = slot.state is PluginState.LOADED
        if ok:
            slot.reloads += 1
        return result(ok, slot.reason, (name,))
    problems = check_requirements(new_source.manifest,
                                  qgactor_version=life.m.qgactor_version)
    problems_text = [str(p) for p in problems] + [
        f"needs plugin {d!r} which is not loaded" for d in new_source.manifest.dependencies
        if d not in life.m.slots or life.m.slots[d].state is not PluginState.LOADED]
    if problems_text:
        return result(False, "; ".join(problems_text))

    old_version, old_source = slot.version, slot.source
    slot.source = new_source
    try:
        new_version = life.prepare(slot)
    except PluginLoadError as exc:
        slot.source = old_source
        life.m.importer.set_source(old_source)
        life.m.importer.restore(name, old_version.modules)
        return result(False, str(exc))

    dependents = [life.m.slots[d] for d in life.m.dependents(name)
                  if life.m.slots[d].state is PluginState.LOADED]
    for s in (slot, *dependents):
        s.hold()
    for d in reversed(dependents):
        await life.deactivate(d, f"dependency {name} reloading", keep_gates=True)
    await life.deactivate(slot, "reloading", keep_gates=True)
    error = ""
    try:
        life.register(slot, new_version)
        await life.activate(slot)
    except PluginLoadError as exc:
        error = str(exc)
        slot.source = old_source
        life.m.importer.set_source(old_source)
        life.m.importer.restore(name, old_version.modules)
        await life.bring_back(slot, old_version)
    reloaded = [name]
    for d in dependents:
        old_d = d.version
        try:
            life.register(d, life.prepare(d))
            await life.activate(d)
            reloaded.append(d.name)
        except PluginLoadError as exc:
            log.error("dependent plugin %s could not reload: %s", d.name, exc)
            if old_d is not None:
                life.m.importer.restore(d.name, old_d.modules)
                await life.bring_back(d, old_d)
    for s in (slot, *dependents):
        s.open()
    if not error:
        slot.reloads += 1
        log.info("plugin %s reloaded in %.1f ms", name, (time.perf_counter() - t0) * 1000)
    return result(not error, error, tuple(reloaded))

