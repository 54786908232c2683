"""What one shard's connection and heartbeat actors share: the session machine and the socket.

A :class:`ShardLink` is created once per shard by :func:`~qgactor.bot.gateway.gateway_spec`
and passed to both actors, so the session (id, seq, duplicate windows) survives restarts of
either actor. trio is single-threaded, so the machine is only touched between awaits.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import attrs
import trio

from qgactor.qq.gateway import GatewayMachine
from qgactor.qq.gateway_events import CloseConnection, SendFrame
from qgactor.qq.websocket import WebSocket, WebSocketClosed

__all__ = ["ShardLink", "ShardFatal"]

log = logging.getLogger(__name__)


@attrs.frozen
class ShardFatal:
    """Told to the gateway actor when a shard got a close code that forbids reconnecting."""

    shard: tuple[int, int]
    code: int | None
    message: str


class ShardLink:
    """One shard's session state plus its current websocket (if any).

    Attributes: ``machine`` (the sans-I/O :class:`~qgactor.qq.gateway.GatewayMachine`),
    ``shard`` (``(id, count)``), ``reading_blocked`` (true while the connection waits for the
    dispatcher's mailbox, so ACKs may be queued unread behind events and must not be taken
    as a zombie), ``connected_once`` (a :class:`trio.Event` set at the first READY/RESUMED).
    """

    def __init__(self, machine: GatewayMachine, close_timeout: float = 2.0) -> None:
        """Wrap ``machine``; ``close_timeout`` bounds waiting for a close handshake."""
        self.machine = machine
        self.shard = machine.config.shard
        self.close_timeout = close_timeout
        self.ws: WebSocket | None = None
        self.nursery: trio.Nursery | None = None  # the current socket's nursery (runs closes)
        self.reading_blocked = False
        self.connected_once = trio.Event()
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<ShardLink shard={self.shard} state={self.machine.state.value}>"

    def changed(self) -> None:
        """Wake whoever waits in :meth:`wait_changed` (the heartbeat actor)."""
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        """Wait until :meth:`changed` is called next."""
        await self._changed.wait()

    async def send(self, frame: SendFrame) -> bool:
        """Send ``frame`` on the current socket; False (logged at debug) if there is none/closed.

        Sends from both actors are serialised by the websocket's send lock."""
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send_text(frame.text)
        except WebSocketClosed:
            log.debug("shard %s: socket closed before op %s could be sent", self.shard, frame.op)
            return False
        return True

    def close(self, request: CloseConnection) -> None:
        """Start closing the current socket as the machine asked; does not wait.

        The close handshake runs in the socket's own nursery (bounded by ``close_timeout``, then
        the socket is closed), so neither the heartbeat actor nor the reader ever blocks on it;
        the reader sees the close.
        """
        ws, nursery = self.ws, self.nursery
        if ws is None or nursery is None:
            return
        log.info("shard %s: closing the connection: %s", self.shard, request.reason)
        nursery.start_soon(partial(ws.close, request.code, request.reason[:120], timeout=self.close_timeout))

    def status(self) -> dict[str, Any]:
        """The machine's status dict plus whether reading is held up by backpressure."""
        return {**self.machine.status(), "reading_blocked": self.reading_blocked}
