"""qgactor.plugins: plugins as actors, with manifests, dependency checks, hot reload, an event
bus and a tool-result cache.

Writing a plugin (``plugins/weather.py``)::

    import attrs
    from qgactor.plugins import Manifest, Plugin, command, on_event

    __plugin__ = Manifest(version="1.0.0", description="Answers weather questions")

    class Weather(Plugin):
        @attrs.define
        class Config:
            city: str = "Shenzhen"
            \"\"\"Default city.\"\"\"

        @command("weather")
        async def weather(self, msg):
            await msg.reply(f"{msg.rest or self.config.city}: sunny")

Loading them into a bot::

    manager = PluginManager(bot, "plugins")
    manager.attach()          # prepare + bot.add_service(plugins host, watcher)
"""

from qgactor.plugins.cache import MISSING, CacheNamespace, CacheStats, ToolCache
from qgactor.plugins.decorators import ComponentSpec, command, on_event, schedule, tool
from qgactor.plugins.dependencies import DependencyProblem, LoadPlan, plan_load
from qgactor.plugins.events import (
    STOP,
    BusEvent,
    EmitResult,
    EventBus,
    EventBusError,
    EventFieldError,
    EventSpec,
    OrderingError,
    UnknownEventError,
)
from qgactor.plugins.info import CommandInfo, PluginInfo, ReloadResult
from qgactor.plugins.lifecycle import PluginLoadError
from qgactor.plugins.loader import PluginImporter, PluginImportError, PluginSource, discover
from qgactor.plugins.manager import MANAGER_EVENTS, PluginManager
from qgactor.plugins.manifest import Manifest, ManifestError, read_manifest
from qgactor.plugins.plugin import Plugin, PluginContext, PluginDefinitionError
from qgactor.plugins.slot import PluginState
from qgactor.plugins.worker import HandlerFailed

__all__ = [
    "Plugin",
    "PluginContext",
    "PluginDefinitionError",
    "command",
    "on_event",
    "schedule",
    "tool",
    "ComponentSpec",
    "Manifest",
    "ManifestError",
    "read_manifest",
    "DependencyProblem",
    "LoadPlan",
    "plan_load",
    "PluginManager",
    "MANAGER_EVENTS",
    "PluginInfo",
    "CommandInfo",
    "ReloadResult",
    "PluginState",
    "PluginLoadError",
    "PluginImporter",
    "PluginImportError",
    "PluginSource",
    "discover",
    "EventBus",
    "EventSpec",
    "BusEvent",
    "EmitResult",
    "STOP",
    "EventBusError",
    "EventFieldError",
    "UnknownEventError",
    "OrderingError",
    "ToolCache",
    "CacheNamespace",
    "CacheStats",
    "MISSING",
    "HandlerFailed",
]
