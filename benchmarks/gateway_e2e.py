"""End-to-end gateway throughput: emulator -> websocket -> GatewayMachine -> sink actor.

Publishes N AT_MESSAGE_CREATE events into a local emulator and measures how long the gateway
takes to deliver all of them to a collecting sink actor (bounded mailbox, backpressure), with
1 shard, then with 4 shards. Also reports the time to reconnect + resume after a drop.

Usage: python benchmarks/gateway_e2e.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import trio

from qgactor.bot.gateway import BackoffPolicy, GatewayOptions, gateway_spec
from qgactor.bot.inbound import InboundEvent
from qgactor.emulator import open_emulator
from qgactor.qq import ApiClient, Endpoints, TokenSource
from qgactor.runtime import Actor, Mailbox, Overflow, open_actor_nursery


class Counter(Actor):
    """Counts events and sets ``done`` when ``target`` arrived."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, InboundEvent) and msg.name == "AT_MESSAGE_CREATE":
            self.state["n"] += 1
            if self.state["n"] >= self.state["target"]:
                self.state["done"].set()
        return None


async def run(n: int, shards: int, drops: int) -> dict[str, float]:
    opts = GatewayOptions(identify_period=0.01, backoff=BackoffPolicy(0.05, 0.3))
    async with open_emulator(heartbeat_interval_ms=5000, replay_buffer=n + 1000, max_concurrency=shards,
                             seed=1) as emu:
        tokens = TokenSource(emu.appid, emu.secret, token_url=emu.token_url)
        async with ApiClient(tokens, endpoints=Endpoints.custom(emu.api_url, emu.token_url)) as api:
            async with open_actor_nursery() as system:
                state: dict[str, Any] = {"n": 0, "target": n, "done": trio.Event()}
                sink = await system.spawn(Counter, state, name="sink",
                                          mailbox=Mailbox(1000, Overflow.BACKPRESSURE))
                gw = await system.spawn(gateway_spec(api=api, token_source=tokens, intents=1 << 30,
                                                     shards=shards, sink=sink, options=opts))
                while (await gw.ask("status"))["connected"] < shards:
                    await trio.sleep(0.005)
                t0 = time.perf_counter()
                for i in range(n):
                    gid = str((i % 64) << 22)
                    await emu.platform.publish("AT_MESSAGE_CREATE", {"id": f"m{i}", "channel_id": "c",
                                                                     "guild_id": gid, "content": "hi"},
                                               shard_key=gid, event_id=f"e{i}")
                publish_s = time.perf_counter() - t0
                await state["done"].wait()
                total_s = time.perf_counter() - t0
                resume_ms = []
                for _ in range(drops):
                    before = (await gw.ask("status"))["shards"][0]["resumes"]
                    t1 = time.perf_counter()
                    await emu.control.drop(shard=0)
                    while (await gw.ask("status"))["shards"][0]["resumes"] == before or \
                            (await gw.ask("status"))["connected"] < shards:
                        await trio.sleep(0.001)
                    resume_ms.append((time.perf_counter() - t1) * 1000)
                return {"events_per_s": n / total_s, "publish_s": publish_s, "total_s": total_s,
                        "resume_ms_median": statistics.median(resume_ms) if resume_ms else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small run for CI (seconds)")
    args = ap.parse_args()
    n = 2_000 if args.quick else 20_000
    drops = 5 if args.quick else 50
    for shards in (1, 4):
        r = trio.run(run, n, shards, drops)
        print(f"{shards} shard(s): {n} events delivered in {r['total_s']:.2f}s "
              f"({r['events_per_s']:,.0f} events/s end to end); drop -> resumed in "
              f"{r['resume_ms_median']:.1f} ms (median of {drops})")


if __name__ == "__main__":
    main()
