"""The message that carries one platform event from a transport actor to the dispatcher.

Both transports (the websocket gateway's shard actors and the webhook receiver) turn what
arrives from the wire into an :class:`InboundEvent` and ``tell`` it to the dispatcher, whose
mailbox applies backpressure. This is the only contract between the receiving side of the
bot and the rest of it.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

__all__ = ["InboundEvent"]


@attrs.frozen(slots=True)
class InboundEvent:
    """One dispatch (op 0) event received from the platform, not yet parsed into a model.

    Attributes:
        name: the dispatch event name (``t``), e.g. ``"AT_MESSAGE_CREATE"``.
        data: the raw ``d`` object exactly as received (unknown fields included).
        event_id: the envelope ``id`` (used as ``event_id`` for passive replies), if any.
        seq: the envelope ``s`` within its gateway session, if any (webhooks may have none).
        shard: ``(shard_id, shard_count)`` of the connection that received it, or ``None``
            for webhook deliveries.
        transport: ``"websocket"`` or ``"webhook"``.
        received_at: ``trio.current_time()`` when the frame was read (for latency metrics).
    """

    name: str
    data: Any
    event_id: str | None = None
    seq: int | None = None
    shard: tuple[int, int] | None = None
    transport: Literal["websocket", "webhook"] = "websocket"
    received_at: float = 0.0
