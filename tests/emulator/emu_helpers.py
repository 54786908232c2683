"""Helpers of the emulator tests: a raw gateway client speaking the protocol by hand."""

from __future__ import annotations

import json
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

ALL_MSG_INTENTS = (1 << 30) | (1 << 25) | (1 << 12) | (1 << 9) | (1 << 0) | (1 << 1)


class RawGateway:
    """A bare websocket client speaking the gateway protocol by hand."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws

    async def recv(self, timeout: float = 3.0) -> dict[str, Any]:
        with trio.fail_after(timeout):
            return json.loads(await self.ws.get_message())

    async def recv_dispatch(self, timeout: float = 3.0) -> dict[str, Any]:
        """Next op 0 frame (skipping heartbeat ACKs)."""
        while True:
            frame = await self.recv(timeout)
            if frame["op"] == 0:
                return frame

    async def send(self, payload: Any) -> None:
        await self.ws.send_message(payload if isinstance(payload, str) else json.dumps(payload))

    async def identify(self, token: str, intents: int = ALL_MSG_INTENTS, shard: list[int] | None = None,
                       **extra: Any) -> dict[str, Any]:
        d = {"token": token, "intents": intents, "shard": shard or [0, 1]} | extra
        await self.send({"op": 2, "d": d})
        return await self.recv()

    async def closed_code(self, timeout: float = 3.0) -> int | None:
        """Read until the server closes; return the close code."""
        with trio.fail_after(timeout):
            try:
                while True:
                    await self.ws.get_message()
            except ConnectionClosed as exc:
                return exc.reason.code
