"""The receiving side of a bot: websocket gateway shards and the webhook receiver.

- :func:`gateway_spec`: the ``gateway`` actor (one_for_one over ``shard-N`` rest_for_one
  supervisors, each a connection actor and a heartbeat actor).
- :func:`webhook_spec`: the webhook receiver actor (hypercorn HTTP server).

Both feed :class:`~qgactor.bot.inbound.InboundEvent` to a sink actor and answer
``ask("status")`` with their counters.
"""

from __future__ import annotations

from qgactor.bot.gateway.shards import IdentifyGate, SessionStartLimitError, ShardPlan, plan_shards
from qgactor.bot.gateway.supervisor import GatewayActor, GatewayOptions, GatewayShared, gateway_spec
from qgactor.bot.gateway.webhook import WebhookActor, webhook_spec
from qgactor.qq.gateway import BackoffPolicy
from qgactor.qq.gateway_events import GatewayFatalError

__all__ = [
    "gateway_spec",
    "webhook_spec",
    "GatewayActor",
    "GatewayOptions",
    "GatewayShared",
    "WebhookActor",
    "BackoffPolicy",
    "GatewayFatalError",
    "SessionStartLimitError",
    "ShardPlan",
    "plan_shards",
    "IdentifyGate",
]
