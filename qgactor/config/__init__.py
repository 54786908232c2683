"""qgactor.config: typed TOML config for attrs classes, with hot reload.

Declare a class, bind it to a file, load, save, watch::

    from qgactor.config import config_class, ConfigFile, ConfigManager

    @config_class(version=2, upgrades=[rename_key(1, "city_name", "city")])
    class WeatherConfig:
        \"\"\"Settings of the weather plugin.\"\"\"

        city: str = "Shenzhen"
        \"\"\"Default city (this docstring becomes the comment above the key).\"\"\"

    cfg = ConfigFile(WeatherConfig, "plugins/weather.toml")
    loaded = cfg.load()                 # writes the commented file on first run
    cfg.save(attrs.evolve(loaded.value, city="Beijing"))   # keeps the user's comments

    manager = ConfigManager(cfg)
    manager.subscribe(on_change)        # sync or async; receives a ConfigChange
    await nursery.start(manager.run)    # watch the directory, debounce, reload, notify
    manager.current                     # the immutable snapshot

The schema of ``qgactor.toml`` is :class:`~qgactor.config.app.AppConfig`
(``load_app_config``).
"""

from __future__ import annotations

from qgactor.config.actor import ConfigWatcher, GetConfig, ReloadNow, SaveConfig
from qgactor.config.app import (
    ActorConfig,
    AppConfig,
    EmulatorSection,
    LoggingSection,
    PluginsSection,
    ReloadSection,
    app_config_file,
    app_config_manager,
    load_app_config,
)
from qgactor.config.atomic import atomic_write, digest
from qgactor.config.debounce import Debouncer
from qgactor.config.document import generate, update
from qgactor.config.errors import (
    ConfigError,
    ConfigSchemaError,
    ConfigSyntaxError,
    ConfigValidationError,
    ConfigVersionError,
    Problem,
)
from qgactor.config.file import ConfigFile, Loaded, parse_config
from qgactor.config.frozen import FrozenDict, FrozenList, thaw
from qgactor.config.manager import ConfigChange, ConfigManager, ReloadResult, Subscription, changed_keys
from qgactor.config.schema import ClassSchema, FieldSchema, config_class, schema_of
from qgactor.config.sources import fingerprint, poll, watch_events
from qgactor.config.upgrade import VERSION_KEY, Upgrade, rename_key, upgrade

__all__ = [
    "VERSION_KEY",
    "ActorConfig",
    "AppConfig",
    "ConfigWatcher",
    "EmulatorSection",
    "GetConfig",
    "LoggingSection",
    "PluginsSection",
    "ReloadNow",
    "ReloadSection",
    "SaveConfig",
    "app_config_file",
    "app_config_manager",
    "load_app_config",
    "ClassSchema",
    "ConfigChange",
    "ConfigError",
    "ConfigFile",
    "ConfigManager",
    "ConfigSchemaError",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "ConfigVersionError",
    "Debouncer",
    "FieldSchema",
    "FrozenDict",
    "FrozenList",
    "Loaded",
    "Problem",
    "ReloadResult",
    "Subscription",
    "Upgrade",
    "atomic_write",
    "changed_keys",
    "config_class",
    "digest",
    "fingerprint",
    "generate",
    "parse_config",
    "poll",
    "rename_key",
    "schema_of",
    "thaw",
    "update",
    "upgrade",
    "watch_events",
]
