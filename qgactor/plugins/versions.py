"""Building one version of a plugin: import its code under the plugin namespace, find its one
:class:`~qgactor.plugins.plugin.Plugin` subclass, load (creating it on first use) its TOML
config, instantiate it and bind its context. Used by the load and reload sequences
(:mod:`qgactor.plugins.lifecycle`, :mod:`qgactor.plugins.reloading`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from qgactor.config import ConfigError, ConfigFile
from qgactor.plugins.components import build_table
from qgactor.plugins.loader import PluginImportError, classes_defined_in
from qgactor.plugins.plugin import Plugin, PluginContext, PluginDefinitionError
from qgactor.plugins.slot import PluginSlot, Version

if TYPE_CHECKING:
    from qgactor.plugins.lifecycle import Lifecycle

__all__ = ["PluginLoadError", "build_version", "load_plugin_config"]


class PluginLoadError(Exception):
    """A plugin could not be imported, configured, instantiated, registered or loaded."""


def load_plugin_config(life: Lifecycle, slot: PluginSlot, cls: type[Plugin]) -> Any:
    """Load (creating it with comments on first use) the plugin's TOML config."""
    if cls.Config is None:
        life.config_digests.pop(slot.name, None)
        return None
    path = life.m.config_dir / f"{slot.name}.toml"
    try:
        loaded = ConfigFile(cls.Config, path).load(create=True)
    except (ConfigError, OSError) as exc:
        raise PluginLoadError(f"config {path}: {exc}") from exc
    life.config_digests[slot.name] = loaded.digest
    return loaded.value


def build_version(life: Lifecycle, slot: PluginSlot, *,
                  reuse: Version | None = None) -> Version:
    """Import (unless reusing an old version's class) and instantiate a plugin.

    Raises:
        PluginLoadError: what failed, with the cause chained. Partially imported modules
            are purged.
    """
    from qgactor.plugins.manager import source_digest  # the manager imports this module

    name = slot.name
    imp = life.m.importer
    if reuse is None:
        imp.set_source(slot.source)
        try:
            imp.import_plugin(name)
        except PluginImportError as exc:
            raise PluginLoadError(str(exc)) from exc.__cause__
        modules = imp.modules_of(name)
        classes = classes_defined_in(modules, Plugin)
        if len(classes) != 1:
            imp.purge(name)
            found = ", ".join(c.__name__ for c in classes) or "none"
            raise PluginLoadError(
                f"plugin {name!r} must define exactly one Plugin subclass in its own "
                f"module(s); found {found}"
            )
        cls = classes[0]
        life.code_digests[name] = source_digest(slot.source)
    else:
        cls, modules = reuse.cls, reuse.modules
    try:
        cls.check_definition()
        config = load_plugin_config(life, slot, cls)
        instance = cls()
    except PluginLoadError:
        if reuse is None:
            imp.purge(name)
        raise
    except (PluginDefinitionError, Exception) as exc:
        if reuse is None:
            imp.purge(name)
        raise PluginLoadError(f"plugin {name!r}: {type(exc).__name__}: {exc}") from exc
    ctx = PluginContext(
        name=name, manifest=slot.manifest, config=config, bot=life.m.bot, bus=life.m.bus,
        cache=life.m.cache.namespace(name, max_entries=cls.cache_size),
        manager=life.m, log=logging.getLogger(f"qgactor.plugins.{name}"),
    )
    instance._bind(ctx)
    return Version(cls, instance, dict(modules), build_table(instance), ctx)
