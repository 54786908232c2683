"""Plain-data views of plugins for listings (``plugin list``, the help plugin, status pages)."""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["PluginInfo", "CommandInfo", "ReloadResult"]


@attrs.frozen(slots=True)
class CommandInfo:
    """One command of a plugin: its name, words, regex patterns and description."""

    name: str
    words: tuple[str, ...]
    patterns: tuple[str, ...]
    description: str


@attrs.frozen(slots=True)
class PluginInfo:
    """What is known about one plugin.

    Attributes:
        name, version, description, author: from the manifest.
        state: ``loaded``, ``reloading``, ``disabled``, ``crashed``, ``failed``, ``skipped`` or
            ``unloaded`` (see :class:`~qgactor.plugins.slot.PluginState`).
        reason: why it is not loaded (empty when loaded).
        path: its file or folder.
        dependencies: other plugins it needs.
        allow_hot_reload: from the manifest.
        commands: its commands (from its class once imported).
        reloads: successful reloads since start.
        calls: handler calls run (handlers run in the caller's task under the plugin's worker,
            so the worker's ``processed`` count in the actor tree does not count them).
        failures: handler calls that raised (each one crashed the plugin's worker).
        waited, dropped: calls that waited for a reload or restart / that were not delivered.
    """

    name: str
    version: str
    description: str
    author: str
    state: str
    reason: str
    path: Path
    dependencies: dict[str, str]
    allow_hot_reload: bool
    commands: tuple[CommandInfo, ...] = ()
    reloads: int = 0
    calls: int = 0
    failures: int = 0
    waited: int = 0
    dropped: int = 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly dict (for the management endpoint and the console)."""
        d = attrs.asdict(self)
        d["path"] = str(self.path)
        return d


@attrs.frozen(slots=True)
class ReloadResult:
    """The outcome of :meth:`PluginManager.reload`.

    Attributes:
        plugin: the plugin asked for.
        ok: the new code is live.
        error: why not (import error, on_load error, bad config...), else empty; when not ok
            the previous version keeps running if there was one.
        reloaded: every plugin reloaded (the plugin and its dependents), in load order.
        seconds: how long the reload took.
    """

    plugin: str
    ok: bool
    error: str = ""
    reloaded: tuple[str, ...] = ()
    seconds: float = 0.0
