"""The ``gateway`` actor: plans the shards, then supervises one ``shard-N`` subtree per shard.

Tree (``name`` defaults to ``"gateway"``)::

    gateway                      GatewayActor: GET /gateway/bot, shard plan, status
    └── gateway.shards           Supervisor, one_for_one
        └── gateway.shard-N      Supervisor, rest_for_one
            ├── gateway.shard-N.connection   ConnectionActor (reads, identifies/resumes)
            └── gateway.shard-N.heartbeat    HeartbeatActor (beats, detects zombies)

Each shard's session (:class:`~qgactor.bot.gateway.link.ShardLink`) lives in a
:class:`GatewayShared` created by :func:`gateway_spec`, so it survives restarts of any actor
in the tree and the next connection resumes.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable, Literal

import attrs

from qgactor.bot.gateway.connection import ConnectionActor
from qgactor.bot.gateway.heartbeat import HeartbeatActor
from qgactor.bot.gateway.link import ShardFatal, ShardLink
from qgactor.bot.gateway.shards import IdentifyGate, ShardPlan, plan_shards
from qgactor.qq.gateway import BackoffPolicy, GatewayConfig, GatewayMachine
from qgactor.qq.gateway_events import GatewayFatalError, GatewayState
from qgactor.qq.gateway_frames import DEFAULT_MAX_FRAME
from qgactor.runtime import Actor, ActorRef, ChildSpec, Restart, Strategy, Supervisor

__all__ = ["GatewayActor", "GatewayShared", "GatewayOptions", "gateway_spec"]

log = logging.getLogger(__name__)


@attrs.frozen
class GatewayOptions:
    """Tunables of the websocket gateway (defaults suit production).

    ``identify_period``: the window of ``session_start_limit.max_concurrency`` (5 s);
    ``backoff``: reconnect delays; ``max_frame_size``: larger frames are bad frames;
    ``dedup_capacity``: remembered seqs/event ids/message ids; ``handshake_timeout``: seconds
    to wait for Hello; ``connect_timeout``: seconds to open the socket; ``properties``: the
    Identify ``properties``; ``validate(name, data)``: optional payload check (e.g. a model
    parser) whose exception turns the frame into a counted bad frame;
    ``shard_max_restarts``/``shard_within``: restart intensity of each shard supervisor.
    """

    identify_period: float = 5.0
    backoff: BackoffPolicy = BackoffPolicy()
    max_frame_size: int = DEFAULT_MAX_FRAME
    dedup_capacity: int = 10_000
    handshake_timeout: float = 30.0
    connect_timeout: float = 10.0
    properties: dict[str, str] | None = None
    validate: Callable[[str, Any], object] | None = None
    shard_max_restarts: int = 3
    shard_within: float = 30.0
    seed: int | None = None


class GatewayShared:
    """State of the gateway that outlives its actors: the plan and one link per shard."""

    def __init__(self) -> None:
        """Start empty; :class:`GatewayActor` fills it on its first start."""
        self.plan: ShardPlan | None = None
        self.links: dict[int, ShardLink] = {}
        self.gate: IdentifyGate | None = None

    def __repr__(self) -> str:
        return f"<GatewayShared shards={len(self.links)}>"

    def status(self) -> dict[str, Any]:
        """Plan, per-shard status dicts and totals (connected shards, counters). No secrets."""
        shards = [link.status() for _, link in sorted(self.links.items())]
        total = {k: sum(s[k] for s in shards) for k in ("dispatched", "duplicates", "bad_frames",
                                                        "reconnects", "zombies", "heartbeats")}
        return {
            "url": self.plan.url if self.plan else None,
            "shard_count": self.plan.count if self.plan else None,
            "connected": sum(1 for s in shards if s["state"] == GatewayState.CONNECTED.value),
            "session_ids": [s["session_id"] for s in shards],
            "fatal": next((s["fatal"] for s in shards if s["fatal"]), None),
            "shards": shards,
            **total,
        }


class GatewayActor(Actor):
    """Plans the shards (``GET /gateway/bot``) and starts the shard supervisors.

    When a shard gets a close code that forbids reconnecting, this actor crashes with
    :class:`~qgactor.qq.gateway_events.GatewayFatalError` (its message says what to fix), and
    so does every restart of it, so the error reaches the bot's root supervisor.

    ``on_start`` raises :class:`~qgactor.bot.gateway.shards.SessionStartLimitError` when the
    session budget cannot cover every shard, ``ValueError`` for a bad ``shards`` value, and
    whatever the API client raises for ``GET /gateway/bot``. ``ask("status")`` returns
    :meth:`GatewayShared.status`.
    """

    def __init__(
        self,
        *,
        api: Any,
        credentials: Any,
        intents: int,
        shards: int | Literal["auto"],
        sink: ActorRef,
        shared: GatewayShared,
        name: str,
        gateway_url: str | None,
        options: GatewayOptions,
    ) -> None:
        """See :func:`gateway_spec`."""
        self.api = api
        self.credentials = credentials
        self.intents = int(intents)
        self.shards = shards
        self.sink = sink
        self.shared = shared
        self.name = name
        self.gateway_url = gateway_url
        self.options = options

    def __repr__(self) -> str:
        return f"<GatewayActor {self.name} shards={self.shards!r}>"

    async def on_start(self) -> None:
        """Plan the shards once (kept across restarts) and spawn ``{name}.shards``."""
        shared, opts = self.shared, self.options
        if shared.plan is None:
            info = await self.api.get_gateway_bot()
            plan = plan_shards(info, self.shards, url_override=self.gateway_url)
            log.info("gateway: %d shard(s) at %s (sessions remaining %s, max_concurrency %d)",
                     plan.count, plan.url, plan.remaining, plan.max_concurrency)
            rng = random.Random(opts.seed)
            shared.gate = IdentifyGate(plan.max_concurrency, opts.identify_period)
            for i in range(plan.count):
                config = GatewayConfig(
                    intents=self.intents, shard=(i, plan.count), properties=opts.properties,
                    max_frame_size=opts.max_frame_size, dedup_capacity=opts.dedup_capacity,
                    backoff=opts.backoff, handshake_timeout=opts.handshake_timeout, validate=opts.validate)
                shared.links[i] = ShardLink(GatewayMachine(config, rng=random.Random(rng.random())))
            shared.plan = plan
        plan = shared.plan
        assert shared.gate is not None
        for link in shared.links.values():
            if link.machine.fatal is not None:
                raise GatewayFatalError(link.machine.fatal.code, link.machine.fatal.message)
        shard_specs = []
        for i in range(plan.count):
            link = shared.links[i]
            base = f"{self.name}.shard-{i}"
            children = [
                ChildSpec(ConnectionActor, args=(link,),
                          kwargs=dict(url=plan.url, credentials=self.credentials, sink=self.sink,
                                      gate=shared.gate, connect_timeout=opts.connect_timeout,
                                      report_to=self.ref),
                          name=f"{base}.connection", restart=Restart.TRANSIENT, shutdown=2.0),
                ChildSpec(HeartbeatActor, args=(link,), name=f"{base}.heartbeat", shutdown=1.0),
            ]
            shard_specs.append(Supervisor.spec(base, children, strategy=Strategy.REST_FOR_ONE,
                                               max_restarts=opts.shard_max_restarts, within=opts.shard_within))
        await self.ctx.spawn(Supervisor.spec(f"{self.name}.shards", shard_specs, strategy=Strategy.ONE_FOR_ONE,
                                             max_restarts=opts.shard_max_restarts, within=opts.shard_within))

    async def receive(self, msg: Any) -> Any:
        """``"status"`` → :meth:`GatewayShared.status`; other messages are ignored."""
        if msg == "status":
            return self.shared.status()
        if isinstance(msg, ShardFatal):
            log.error("gateway: shard %s stopped for good: %s", msg.shard, msg.message)
            raise GatewayFatalError(msg.code, msg.message)
        return None


def gateway_spec(
    *,
    api: Any,
    token_source: Any,
    intents: int,
    shards: int | Literal["auto"] = "auto",
    sink: ActorRef,
    name: str = "gateway",
    gateway_url: str | None = None,
    options: GatewayOptions | None = None,
    restart: Restart = Restart.PERMANENT,
) -> ChildSpec:
    """The child spec of the websocket gateway (see the module docstring for the tree).

    ``api``: an object with ``async get_gateway_bot()`` (the ``ApiClient``); ``token_source``:
    the credentials (``TokenSource`` or ``LegacyToken``: ``header()``, ``invalidate()``);
    ``intents``: the Identify intents; ``shards``: a count or ``"auto"``; ``sink``: the actor
    receiving :class:`~qgactor.bot.inbound.InboundEvent` (the dispatcher, with a
    backpressure mailbox); ``gateway_url``: override the URL from ``/gateway/bot``;
    ``options``: :class:`GatewayOptions`. The returned spec's actor answers ``ask("status")``.
    Building the spec never raises; the actor's start raises what :class:`GatewayActor` lists
    (a crash, handled by the supervisor the spec is spawned under).
    """
    return ChildSpec(
        GatewayActor,
        kwargs=dict(api=api, credentials=token_source, intents=intents, shards=shards, sink=sink,
                    shared=GatewayShared(), name=name, gateway_url=gateway_url,
                    options=options or GatewayOptions()),
        name=name,
        restart=restart,
        shutdown=None,
    )
