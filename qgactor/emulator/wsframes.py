"""Writing gateway frames in batches: several websocket text frames in one transport write.

ASGI has one ``send`` per websocket message, and each one costs hypercorn a trip through
wsproto, its protocol objects and a ``send_all`` (a system call). When the gateway's queue
holds many frames (a burst of events), :class:`FrameWriter` serialises them with hypercorn's
own wsproto connection and hands the bytes to the transport in one write. This relies on
hypercorn's internals (checked when the writer is built); with any other server, or if the
structure differs, it falls back to one ASGI ``send`` per frame, which is always correct.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

__all__ = ["FrameWriter", "MAX_BATCH_FRAMES", "MAX_BATCH_BYTES"]

log = logging.getLogger(__name__)

#: Most frames written at once (bounds the latency of the first frame of a batch).
MAX_BATCH_FRAMES = 64
#: Most text characters written at once.
MAX_BATCH_BYTES = 256 * 1024

Send = Callable[[dict[str, Any]], Awaitable[None]]


class FrameWriter:
    """Sends text frames on one websocket; :meth:`send_many` batches when it can.

    Only the connection's single writer task may use it (it is not safe for concurrent use).
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._fast: tuple[Any, Any, Any, Any, Any] | None = None
        try:
            from hypercorn.protocol.events import Data
            from hypercorn.protocol.ws_stream import ASGIWebsocketState
            from wsproto.events import TextMessage
            from wsproto.utilities import LocalProtocolError

            stream = send.__self__  # type: ignore[attr-defined]
            stream.connection.send, stream.stream_id, stream.send, stream.closed, stream.state  # noqa: B018
            if type(stream).__name__ != "WSStream":
                raise TypeError(type(stream).__name__)
            self._fast = (stream, Data, TextMessage, ASGIWebsocketState.CONNECTED, LocalProtocolError)
        except (AttributeError, ImportError, TypeError):
            log.debug("gateway: no batched frame writes for this server; one send per frame")

    @property
    def batching(self) -> bool:
        """True when several frames go out in one transport write."""
        return self._fast is not None

    async def send_one(self, text: str) -> None:
        """Send one text frame (the plain ASGI way)."""
        await self._send({"type": "websocket.send", "text": text})

    async def send_many(self, texts: list[str]) -> None:
        """Send ``texts`` as consecutive text frames, in order."""
        fast = self._fast
        if fast is None or len(texts) == 1:
            for text in texts:
                await self._send({"type": "websocket.send", "text": text})
            return
        stream, data_event, text_message, connected, protocol_error = fast
        if stream.closed or stream.state is not connected:
            return  # like app_send after a close: nothing more goes out
        encode = stream.connection.send
        try:
            data = b"".join([encode(text_message(data=text)) for text in texts])
        except protocol_error:
            return  # the websocket is closing (wsproto refuses); the replay buffer keeps dispatches
        await stream.send(data_event(stream_id=stream.stream_id, data=data))
