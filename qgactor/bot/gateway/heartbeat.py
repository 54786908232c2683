"""The heartbeat actor of one shard: keeps the session alive independently of the reader.

It sleeps until the machine's next deadline (the heartbeat interval from Hello, in ms), then
ticks the machine and sends the op 1 heartbeat (carrying the last ``s``) on the shard's
socket, or closes a zombie connection whose previous heartbeat was never acknowledged; the
connection actor then reconnects and resumes. It never waits on the dispatcher, so a slow
handler cannot delay heartbeats.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from qgactor.bot.gateway.link import ShardLink
from qgactor.qq.gateway_events import CloseConnection, SendFrame
from qgactor.runtime import Actor

__all__ = ["HeartbeatActor"]

log = logging.getLogger(__name__)


class HeartbeatActor(Actor):
    """Sends one shard's heartbeats on schedule (see the module docstring). Never raises."""

    def __init__(self, link: ShardLink) -> None:
        """Beat for the shard behind ``link``."""
        self.link = link

    def __repr__(self) -> str:
        return f"<HeartbeatActor shard={self.link.shard}>"

    async def on_start(self) -> None:
        """Start the heartbeat loop."""
        self.ctx.start_soon(self._run)

    async def receive(self, msg: Any) -> Any:
        """``"status"`` → heartbeat interval, latency and counts; other messages are ignored."""
        if msg == "status":
            m = self.link.machine
            return {"interval": m.heartbeat_interval, "latency": m.latency,
                    "heartbeats": m.stats.heartbeats, "acks": m.stats.heartbeat_acks,
                    "zombies": m.stats.zombies}
        return None

    async def _run(self) -> None:
        link = self.link
        while True:
            deadline = link.machine.next_deadline
            if deadline is None:
                await link.wait_changed()
                continue
            with trio.move_on_at(deadline):
                await link.wait_changed()
                continue
            outs = link.machine.tick(trio.current_time(), acks_readable=not link.reading_blocked)
            for out in outs:
                if isinstance(out, SendFrame):
                    await link.send(out)
                elif isinstance(out, CloseConnection):
                    log.warning("shard %s: %s", link.shard, out.reason)
                    link.close(out)
