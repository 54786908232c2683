"""Settings, counters and recovery constants of the gateway state machine.

:class:`GatewayConfig` (static settings of one shard), :class:`BackoffPolicy` (reconnect
delays), :class:`GatewayStats` (counters for status/progress), :data:`FATAL_ADVICE` (what the
user must fix per fatal close code) and :data:`RESUME_CLOSE_CODE`.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import attrs

from qgactor.qq.gateway_frames import DEFAULT_MAX_FRAME

__all__ = ["BackoffPolicy", "GatewayConfig", "GatewayStats", "FATAL_ADVICE", "RESUME_CLOSE_CODE"]


#: Close code the client sends when it closes a connection it means to Resume (zombie, op 7,
#: handshake timeout). It is outside the platform's close-code table, so a server that reads
#: client close codes (as Discord-style servers do: 1000/1001 end the session) keeps the
#: session resumable. A close after op 9 (session dropped) uses 1000.
RESUME_CLOSE_CODE = 4999

#: What the user must fix for each close code that forbids reconnecting.
FATAL_ADVICE: dict[int, str] = {
    4001: "the client sent an invalid opcode: this is a qgactor bug, please report it",
    4002: "the client sent an invalid payload: this is a qgactor bug, please report it",
    4010: "invalid shard: set `shards` to \"auto\" or to a count that matches GET /gateway/bot",
    4011: "too many guilds for one connection: set `shards` to \"auto\" or a larger count",
    4012: "invalid gateway version: upgrade qgactor",
    4013: "invalid intents: the configured intents contain unknown bits; fix `intents` in your config",
    4014: (
        "intents not authorised for this bot: remove private-domain intents (e.g. GUILD_MESSAGES, "
        "FORUMS_EVENT) from `intents`, or get them approved on the QQ Open Platform"
    ),
    4914: (
        "the bot is taken down and may only connect to the sandbox: set `sandbox = true` or get "
        "the bot reinstated on the QQ Open Platform"
    ),
    4915: "the bot is banned: contact the QQ Open Platform; reconnecting will not help",
}


@attrs.frozen
class BackoffPolicy:
    """Reconnect delays: ``initial * multiplier**(n-1)`` capped at ``maximum``, times a random
    factor in ``[1 - jitter, 1 + jitter]``, where ``n`` counts failed connections since the
    session was last live. A resume after a healthy connection is immediate."""

    initial: float = 1.0
    maximum: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def delay(self, failures: int, rng: random.Random) -> float:
        """Return the delay in seconds before reconnect attempt number ``failures`` (>= 1)."""
        base = min(self.maximum, self.initial * self.multiplier ** max(0, failures - 1))
        factor = 1.0 + self.jitter * (2.0 * rng.random() - 1.0)
        return max(0.0, min(self.maximum, base * factor))


@attrs.frozen
class GatewayConfig:
    """Static settings of one shard's machine.

    ``validate(name, data)``, if given, is called on each dispatch before it is output; an
    exception from it turns the frame into a BadFrame (e.g. a model parser).
    """

    intents: int
    shard: tuple[int, int] = (0, 1)
    properties: dict[str, str] | None = None
    max_frame_size: int = DEFAULT_MAX_FRAME
    dedup_capacity: int = 10_000
    backoff: BackoffPolicy = BackoffPolicy()
    default_heartbeat_interval: float = 45.0
    handshake_timeout: float = 30.0
    validate: Callable[[str, Any], object] | None = None


@attrs.define
class GatewayStats:
    """Counters of one shard (read by status/progress)."""

    frames: int = 0
    dispatched: int = 0
    duplicates: int = 0
    bad_frames: int = 0
    connects: int = 0
    identifies: int = 0
    resumes: int = 0
    reconnects: int = 0
    heartbeats: int = 0
    heartbeat_acks: int = 0
    zombies: int = 0
    invalid_sessions: int = 0
    reconnect_requests: int = 0
    last_close_code: int | None = None
