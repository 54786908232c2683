"""The :class:`Plugin` base class and the context object a loaded plugin receives."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from qgactor.plugins.cache import CacheNamespace
from qgactor.plugins.decorators import ComponentSpec, components_of
from qgactor.plugins.events import EmitResult, EventBus, EventSpec
from qgactor.plugins.manifest import Manifest

if TYPE_CHECKING:
    from qgactor.plugins.manager import PluginInfo, PluginManager

__all__ = ["Plugin", "PluginContext", "PluginDefinitionError"]


class PluginDefinitionError(TypeError):
    """A plugin class is malformed (e.g. two components with one name, a bad Config)."""


@attrs.define(slots=True, eq=False)
class PluginContext:
    """Everything a loaded plugin may use; passed explicitly (no globals).

    Attributes:
        name: the plugin's name.
        manifest: its manifest.
        config: its config (an instance of its ``Config`` class, or None without one).
        bot: the :class:`qgactor.bot.Bot` it is loaded into.
        bus: the shared event bus.
        cache: its own tool-result cache namespace.
        manager: the plugin manager (list plugins, call tools).
        log: a logger named ``qgactor.plugins.<name>``.
    """

    name: str
    manifest: Manifest
    config: Any
    bot: Any
    bus: EventBus
    cache: CacheNamespace
    manager: PluginManager
    log: logging.Logger


class Plugin:
    """Base class of a plugin: subclass it in your plugin's module (exactly one subclass).

    Class attributes you may set:
        Config: a nested ``@attrs.define class Config`` whose attribute docstrings become the
            comments of the plugin's own TOML file (``<config dir>/<name>.toml``).
        events: :class:`~qgactor.plugins.events.EventSpec` s of the bus events this plugin
            emits, named ``"<plugin>.<event>"``.
        cache_size: LRU bound of this plugin's cache namespace (default: the manager's).

    Hooks (``def`` or ``async def``): :meth:`on_load` after its components are registered and
    before it receives events; :meth:`on_unload` before it is removed (reload, disable,
    shutdown). An exception in ``on_load`` aborts loading this plugin (the rest still load).

    The instance is created once per load (a crash-restart of its actor keeps it; a reload
    creates a new one). Decorated methods (``@command``, ``@on_event``, ``@schedule``,
    ``@tool``) run under the plugin's own supervisor.
    """

    Config: ClassVar[type | None] = None
    events: ClassVar[Sequence[EventSpec]] = ()
    cache_size: ClassVar[int | None] = None

    _ctx: PluginContext | None = None

    # -- bound by the manager ---------------------------------------------------------
    def _bind(self, ctx: PluginContext) -> None:
        self._ctx = ctx

    @property
    def ctx(self) -> PluginContext:
        """The plugin's context; raises RuntimeError before the manager has loaded it."""
        if self._ctx is None:
            raise RuntimeError(
                f"{type(self).__name__} is not loaded: plugins are created by the PluginManager"
            )
        return self._ctx

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self.ctx.name

    @property
    def config(self) -> Any:
        """The plugin's current config (instance of its ``Config``)."""
        return self.ctx.config

    @property
    def bot(self) -> Any:
        """The bot this plugin is loaded into."""
        return self.ctx.bot

    @property
    def cache(self) -> CacheNamespace:
        """This plugin's tool-result cache namespace (using it is opting in)."""
        return self.ctx.cache

    @property
    def log(self) -> logging.Logger:
        """This plugin's logger."""
        return self.ctx.log

    async def emit(self, event: str, **fields: Any) -> EmitResult:
        """Emit a declared bus event (see :meth:`EventBus.emit` for errors)."""
        return await self.ctx.bus.emit(event, _source=self.ctx.name, **fields)

    async def call_tool(self, qualified_name: str, **kwargs: Any) -> Any:
        """Call another plugin's tool by ``"plugin.tool"`` (see PluginManager.call_tool)."""
        return await self.ctx.manager.call_tool(qualified_name, **kwargs)

    def plugins(self) -> list[PluginInfo]:
        """Information about every known plugin (name, version, state, commands...)."""
        return self.ctx.manager.list()

    # -- hooks --------------------------------------------------------------------------
    async def on_load(self) -> None:
        """Called once per load before the plugin receives events."""

    async def on_unload(self) -> None:
        """Called before the plugin is removed (reload, disable, shutdown)."""

    # -- introspection --------------------------------------------------------------------
    @classmethod
    def component_specs(cls) -> list[tuple[str, ComponentSpec]]:
        """``(method name, spec)`` for every decorated method (subclass overrides win).

        Raises:
            PluginDefinitionError: two components of one kind share a name.
        """
        seen_attrs: set[str] = set()
        out: list[tuple[str, ComponentSpec]] = []
        for klass in cls.__mro__:
            for attr, value in vars(klass).items():
                if attr in seen_attrs:
                    continue
                seen_attrs.add(attr)
                for spec in components_of(value):
                    out.append((attr, spec))
        keys: dict[str, str] = {}
        for attr, spec in out:
            if spec.key in keys and keys[spec.key] != attr:
                raise PluginDefinitionError(
                    f"{cls.__name__}: methods {keys[spec.key]!r} and {attr!r} both define "
                    f"{spec.kind} {spec.name!r}; give one a different name="
                )
            keys[spec.key] = attr
        return out

    @classmethod
    def check_definition(cls) -> None:
        """Validate the class: decorated members are functions, Config is an attrs class.

        Raises:
            PluginDefinitionError: what is wrong and how to fix it.
        """
        for attr, spec in cls.component_specs():
            fn = inspect.getattr_static(cls, attr)
            if isinstance(fn, (staticmethod, classmethod)) or not inspect.isfunction(fn):
                raise PluginDefinitionError(
                    f"{cls.__name__}.{attr}: @{spec.kind} must decorate a plain method "
                    "(def or async def taking self)"
                )
        if cls.Config is not None and not attrs.has(cls.Config):
            raise PluginDefinitionError(
                f"{cls.__name__}.Config must be an attrs class (decorate it with @attrs.define)"
            )
        for spec in cls.events:
            if not isinstance(spec, EventSpec):
                raise PluginDefinitionError(
                    f"{cls.__name__}.events must hold EventSpec objects, got {spec!r}"
                )
