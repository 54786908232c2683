"""Helpers of the gateway tests: a collecting sink actor and a gateway running against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

from qgactor.bot.gateway import BackoffPolicy, GatewayOptions, gateway_spec
from qgactor.bot.inbound import InboundEvent
from qgactor.emulator import Emulator, open_emulator
from qgactor.qq import ApiClient, Endpoints, Limits, RetryPolicy, TokenSource
from qgactor.runtime import Actor, ActorNursery, ActorRef, Mailbox, Overflow, open_actor_nursery

#: Fast reconnects for tests (the policy logic is the same as production's).
FAST_BACKOFF = BackoffPolicy(initial=0.05, maximum=0.3, multiplier=2.0, jitter=0.5)
FAST = GatewayOptions(identify_period=0.05, backoff=FAST_BACKOFF, handshake_timeout=3.0, connect_timeout=3.0)


class Collected:
    """What a :class:`Collector` received, with a way to wait for a condition."""

    def __init__(self) -> None:
        self.events: list[InboundEvent] = []
        self._changed = trio.Event()

    def add(self, event: InboundEvent) -> None:
        self.events.append(event)
        self._changed.set()
        self._changed = trio.Event()

    def named(self, *names: str) -> list[InboundEvent]:
        return [e for e in self.events if e.name in names]

    async def wait_for(self, predicate: Callable[[list[InboundEvent]], bool], timeout: float = 5.0) -> None:
        with trio.fail_after(timeout):
            while not predicate(self.events):
                await self._changed.wait()


class Collector(Actor):
    """A sink actor that records every InboundEvent (optionally slowly)."""

    def __init__(self, box: Collected, delay: float = 0.0) -> None:
        self.box = box
        self.delay = delay

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, InboundEvent):
            if self.delay:
                await trio.sleep(self.delay)
            self.box.add(msg)
        return None


class Env:
    """A running emulator + API client + token source + actor system with a collecting sink."""

    def __init__(self, emu: Emulator, api: ApiClient, tokens: TokenSource, system: ActorNursery,
                 sink: ActorRef, box: Collected) -> None:
        self.emu, self.api, self.tokens, self.system, self.sink, self.box = emu, api, tokens, system, sink, box

    async def start_gateway(self, *, shards: int | str = 1, intents: int = (1 << 30) | (1 << 25) | 1 | (1 << 12) | (1 << 9),
                            options: GatewayOptions = FAST, name: str = "gateway") -> ActorRef:
        return await self.system.spawn(gateway_spec(api=self.api, token_source=self.tokens, intents=intents,
                                                    shards=shards, sink=self.sink, name=name, options=options))

    async def status(self, name: str = "gateway") -> dict[str, Any]:
        ref = self.system.lookup(name)
        assert ref is not None
        return await ref.ask("status")

    async def wait_status(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0,
                          name: str = "gateway") -> dict[str, Any]:
        with trio.fail_after(timeout):
            while True:
                st = await self.status(name)
                if predicate(st):
                    return st
                await trio.sleep(0.002)


@asynccontextmanager
async def gateway_env(*, sink_delay: float = 0.0, sink_capacity: int = 1000, root_restarts: int = 3,
                      **emu_config: Any) -> AsyncIterator[Env]:
    emu_config.setdefault("heartbeat_interval_ms", 2000)
    emu_config.setdefault("seed", 1)
    async with open_emulator(**emu_config) as emu:
        tokens = TokenSource(emu.appid, emu.secret, token_url=emu.token_url)
        retry = RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.1, max_retry_after=1.0)
        async with ApiClient(tokens, endpoints=Endpoints.custom(emu.api_url, emu.token_url), retry=retry,
                             limits=Limits(timeout=5.0)) as api:
            async with open_actor_nursery(max_restarts=root_restarts, within=30.0) as system:
                box = Collected()
                sink = await system.spawn(Collector, box, sink_delay, name="sink",
                                          mailbox=Mailbox(capacity=sink_capacity, overflow=Overflow.BACKPRESSURE))
                yield Env(emu, api, tokens, system, sink, box)
