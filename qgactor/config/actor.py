"""A :class:`ConfigManager` as an actor, so the bot's supervision tree owns the watch loop.

Spawn it with ``ConfigWatcher.spec(manager)`` (e.g. ``bot.add_service(...)``). The manager is
created by the caller and passed in, so the snapshot and the subscribers survive a restart of
the actor (a crash of the watch loop restarts only the loop). Messages (``ask``):
:class:`ReloadNow`, :class:`GetConfig`, :class:`SaveConfig`.
"""

from __future__ import annotations

from typing import Any

import attrs

from qgactor.config.manager import ConfigManager
from qgactor.runtime import Actor, ChildSpec, Restart

__all__ = ["ConfigWatcher", "GetConfig", "ReloadNow", "SaveConfig"]


@attrs.frozen
class ReloadNow:
    """Re-read the file now; answers the :class:`~qgactor.config.manager.ReloadResult`."""


@attrs.frozen
class GetConfig:
    """Answers the current snapshot."""


@attrs.frozen
class SaveConfig:
    """Write ``value`` (keeping the user's comments) and make it current; answers the new snapshot."""

    value: Any


class ConfigWatcher(Actor):
    """Runs ``manager.run()`` (watch, debounce, reload, notify) as long as the actor lives.

    ``on_start`` loads the file if the manager has not loaded it yet; an invalid file then
    crashes the start (the supervisor's restart policy applies and the log says file, key, line).
    """

    def __init__(self, manager: ConfigManager[Any]) -> None:
        self.manager = manager

    @classmethod
    def spec(cls, manager: ConfigManager[Any], *, name: str = "config-watcher", **options: Any) -> ChildSpec:
        """A permanent :class:`ChildSpec` for this actor; ``options`` go to ``ChildSpec``."""
        options.setdefault("restart", Restart.PERMANENT)
        return ChildSpec(cls, args=(manager,), name=name, **options)

    async def on_start(self) -> None:
        """Load if needed, then start the watch loop as a task of this incarnation."""
        if self.manager.generation == 0:
            self.manager.load()
        self.ctx.start_soon(self.manager.run, name=f"config-watch:{self.manager.path.name}")

    async def receive(self, msg: Any) -> Any:
        """Handle :class:`ReloadNow`, :class:`GetConfig` and :class:`SaveConfig`.

        Raises:
            TypeError: an unknown message (the actor's supervisor logs the crash).
        """
        if isinstance(msg, ReloadNow):
            return await self.manager.reload()
        if isinstance(msg, GetConfig):
            return self.manager.current
        if isinstance(msg, SaveConfig):
            return await self.manager.save(msg.value)
        raise TypeError(f"ConfigWatcher does not understand {type(msg).__name__}; "
                        "send ReloadNow(), GetConfig() or SaveConfig(value)")
