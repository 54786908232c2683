"""``plugins``: the actor that hosts every plugin's supervisor (one_for_one, linked children).

Its children are the ``plugin:NAME`` supervisors (TEMPORARY: a supervisor that gives up is not
restarted; the host is told through a monitor and disables that plugin only). The host also
runs the event bus's observer task. On start it activates the prepared plugins; on stop it
unloads them (dependents first).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from qgactor.runtime import Actor, ActorRef, Down, ExitReason

if TYPE_CHECKING:
    from qgactor.plugins.manager import PluginManager

__all__ = ["PluginsHost"]

log = logging.getLogger(__name__)


class PluginsHost(Actor):
    """The ``plugins`` actor of a bot (see the module docstring)."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager

    async def on_start(self) -> None:
        """Start the bus observer task and activate the prepared plugins."""
        self.ctx.start_soon(self.manager.bus.run, name="plugins:bus")
        async with self.manager.lock:
            await self.manager.life.start(self)

    async def receive(self, msg: Any) -> Any:
        """Handle ``Down`` of a plugin supervisor (crash loop → that plugin is disabled)."""
        if isinstance(msg, Down):
            async with self.manager.lock:
                await self.manager.life.on_down(msg)
        return None

    async def on_stop(self, reason: ExitReason) -> None:
        """Unload every plugin (``on_unload`` hooks run, bounded)."""
        async with self.manager.lock:
            await self.manager.life.shutdown()

    async def stop_child(self, ref: ActorRef) -> None:
        """Stop one plugin supervisor for good (graceful, then cancelled)."""
        await self.ctx.system.stop(ref)
