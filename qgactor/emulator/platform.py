"""The emulator's state root: world, tokens, sessions, replies, outbox, faults, webhook.

:meth:`Platform.publish` is the one way an event leaves the platform: it records the
passive-reply ids, numbers the dispatch per session (intent and shard routing) and queues
the webhook delivery.
"""

from __future__ import annotations

import collections
import logging
from typing import TYPE_CHECKING, Any, Iterable

import trio

from .auth import TokenStore
from .clock import IdMaker, PlatformClock
from .config import EmulatorConfig
from .events import scene_of_event
from .faults import FaultState
from .http import dump_json
from .replies import Inbound, Outbox, ReplyLedger
from .sessions import GatewaySession, SessionRegistry
from .webhook import WebhookDeliverer
from .world import World

if TYPE_CHECKING:
    from .gateway import GatewayConnection

__all__ = ["Platform", "MESSAGES_KEPT"]

#: Message objects kept for GET/recall/pins (the oldest are forgotten first).
MESSAGES_KEPT = 200_000

log = logging.getLogger(__name__)


class Platform:
    """Everything one emulator instance knows. Handlers receive it explicitly."""

    def __init__(self, config: EmulatorConfig, world: World) -> None:
        self.config = config
        self.world = world
        self.clock = PlatformClock()
        self.ids = IdMaker(config.seed)
        self.tokens = TokenStore(world, config, self.clock, self.ids)
        self.sessions = SessionRegistry(config.resume_window)
        self.connections: set[GatewayConnection] = set()
        self.ledger = ReplyLedger(config)
        self.outbox = Outbox(config.outbox_limit)
        self.faults = FaultState()
        self.webhook = WebhookDeliverer(world, config)
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=10_000)
        self.base_url = ""
        # sent/received message objects by id, oldest first (bounded, O(1) eviction)
        self.messages: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self.state: dict[str, Any] = collections.defaultdict(dict)  # REST side tables
        self._starts_used = 0
        self._starts_period = -1
        self._webhook_seq = 0
        self.published = 0

    # ------------------------------------------------------------------ messages
    def remember_message(self, message_id: str, record: dict[str, Any]) -> None:
        """Keep a message for GET/recall/pins (the oldest are forgotten past :data:`MESSAGES_KEPT`)."""
        self.messages[message_id] = record
        if len(self.messages) > MESSAGES_KEPT:
            self.messages.popitem(last=False)

    # ------------------------------------------------------------------ urls
    @property
    def gateway_url(self) -> str:
        """The websocket URL handed out by ``GET /gateway``."""
        return self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/websocket"

    # ------------------------------------------------------------------ session starts
    def _period(self) -> int:
        return int(trio.current_time() * 1000 // max(1, self.config.session_start_reset_after_ms))

    def session_start_limit(self) -> dict[str, int]:
        """``session_start_limit`` of ``GET /gateway/bot``."""
        period = self._period()
        if period != self._starts_period:
            self._starts_period, self._starts_used = period, 0
        reset_ms = self.config.session_start_reset_after_ms
        elapsed = int(trio.current_time() * 1000) % max(1, reset_ms)
        return {"total": self.config.session_start_total,
                "remaining": max(0, self.config.session_start_total - self._starts_used),
                "reset_after": reset_ms - elapsed, "max_concurrency": self.config.max_concurrency}

    def take_session_start(self) -> bool:
        """Count one Identify; False when ``remaining`` is exhausted."""
        if self.session_start_limit()["remaining"] <= 0:
            return False
        self._starts_used += 1
        return True

    def connection_of(self, session: GatewaySession) -> GatewayConnection | None:
        """The live connection carrying ``session``, if any."""
        return session.connection

    # ------------------------------------------------------------------ publishing
    async def publish(self, name: str, data: Any, *, shard_key: Any = None,
                      records: Iterable[Inbound] = (), event_id: str | None = None) -> dict[str, Any]:
        """Dispatch event ``name`` with payload ``data`` to every matching session and webhook.

        ``records`` are passive-reply records (the message ids) to remember; the envelope
        ``id`` is remembered too, with the scene of the first record or of the event.
        Returns ``{"t", "id", "d", "sessions": [session ids]}``.
        """
        event_id = event_id or self.ids.event(name)
        now = self.clock.now()
        records = list(records)
        for rec in records:
            self.ledger.record(rec)
        base = records[0] if records else None
        if base is not None:
            base.message_id, base.event_id = base.id, event_id
            self.ledger.record(Inbound(event_id, "event", base.scene, now, name, guild_id=base.guild_id,
                                       channel_id=base.channel_id, group_openid=base.group_openid,
                                       user_openid=base.user_openid, content=base.content,
                                       message_id=base.id, event_id=event_id))
        else:
            found = scene_of_event(name, data, self.world)
            if found is not None:
                scene, target = found
                self.ledger.record(Inbound(event_id, "event", scene, now, name, event_id=event_id, **target))
        delivered = []
        data_json = None
        for session in self.sessions.targets(name, shard_key):
            if data_json is None:
                data_json = dump_json(data)
            text = session.frame(name, data, event_id, data_json=data_json)
            conn = session.connection
            if conn is not None:
                await conn.enqueue(text)
            delivered.append(session.session_id)
        envelope = {"id": event_id, "op": 0, "t": name, "d": data}
        if self.webhook.url:
            self._webhook_seq += 1
            self.webhook.enqueue(envelope | {"s": self._webhook_seq})
        self.events.append(envelope)
        self.published += 1
        return {"t": name, "id": event_id, "d": data, "sessions": delivered}
