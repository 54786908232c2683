"""End-to-end gateway cost: emulator -> websocket -> GatewayMachine -> sink actor's mailbox.

The emulator runs in a child process, so this process holds only the bot side: shard
connection + heartbeat actors, the machine, and a counting sink actor behind a bounded
backpressure mailbox (capacity 1000), as a dispatcher would be. Events are published from a
separate thread (its own trio loop and HTTP client), and the bot's CPU is the trio thread's
own CPU time (``time.thread_time``), so "CPU per event" is the read path alone: socket bytes ->
websocket frames -> JSON -> session machine -> ``InboundEvent`` told to the sink.

Scenarios:
- burst: N AT_MESSAGE_CREATE events published at once (the emulator writes up to 64 frames
  per socket write, so one read carries many frames), 1 shard, then 4 shards;
- paced: events published one HTTP call at a time, so nearly every read carries one frame
  (what an echo bot at moderate load sees);
- drop -> resumed: the emulator drops shard 0's socket; time until the session is resumed.

Usage: python benchmarks/gateway_e2e.py [--quick] [--events N] [--paced N] [--drops N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import trio

from qgactor.bot.gateway import BackoffPolicy, GatewayOptions, gateway_spec
from qgactor.bot.inbound import InboundEvent
from qgactor.emulator import ControlClient
from qgactor.qq import ApiClient, Endpoints, TokenSource
from qgactor.runtime import Actor, Mailbox, Overflow, open_actor_nursery

EMULATOR = r'''
import json, sys, trio
from qgactor.emulator import open_emulator
async def main():
    async with open_emulator(heartbeat_interval_ms=5000, replay_buffer={replay}, max_concurrency=4,
                             seed=1) as emu:
        print(json.dumps({{"base": emu.base_url, "appid": emu.appid, "secret": emu.secret,
                           "token_url": emu.token_url}}), flush=True)
        await trio.sleep_forever()
try:
    trio.run(main)
except KeyboardInterrupt:
    pass
'''


class Counter(Actor):
    """Counts AT_MESSAGE_CREATE events and sets ``done`` when ``target`` arrived."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, InboundEvent) and msg.name == "AT_MESSAGE_CREATE":
            state = self.state
            state["n"] += 1
            if state["n"] >= state["target"]:
                state["done"].set()
        return None


def _event(i: int, tag: str) -> dict[str, Any]:
    gid = str((i % 64) << 22)  # spread over shards: shard = (guild_id >> 22) % count
    return {"name": "AT_MESSAGE_CREATE", "shard_key": gid, "id": f"{tag}e{i}",
            "data": {"id": f"{tag}m{i}", "channel_id": "c", "guild_id": gid, "content": f"hi {i}"}}


def _publish_in_thread(base: str, batches: list[list[dict[str, Any]]]) -> threading.Thread:
    """Publish ``batches`` (one control call each, in order) from a thread with its own loop."""

    async def publish() -> None:
        async with _Control(base) as c:
            for batch in batches:
                await c.publish_batch(batch)

    thread = threading.Thread(target=trio.run, args=(publish,), daemon=True)
    thread.start()
    return thread


class _Control:
    """A ControlClient that closes its own HTTP client (async context manager)."""

    def __init__(self, base: str) -> None:
        self.client = ControlClient(base)

    async def __aenter__(self) -> ControlClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


async def run(emu: dict[str, Any], shards: int, bursts: list[tuple[str, list[list[dict[str, Any]]]]],
              drops: int) -> dict[str, Any]:
    """Connect ``shards`` shards, deliver every scenario of ``bursts``, then ``drops`` drops."""
    opts = GatewayOptions(identify_period=0.01, backoff=BackoffPolicy(0.05, 0.3))
    tokens = TokenSource(emu["appid"], emu["secret"], token_url=emu["token_url"])
    results: dict[str, Any] = {}
    async with ApiClient(tokens, endpoints=Endpoints.custom(emu["base"], emu["token_url"])) as api, \
            _Control(emu["base"]) as control:
        async with open_actor_nursery() as system:
            state: dict[str, Any] = {"n": 0, "target": 0, "done": trio.Event()}
            sink = await system.spawn(Counter, state, name="sink", mailbox=Mailbox(1000, Overflow.BACKPRESSURE))
            gw = await system.spawn(gateway_spec(api=api, token_source=tokens, intents=1 << 30, shards=shards,
                                                 sink=sink, options=opts))
            with trio.fail_after(30):
                while (await gw.ask("status"))["connected"] < shards:
                    await trio.sleep(0.005)
            for label, batches in bursts:
                count = sum(len(b) for b in batches)
                state.update(n=0, target=count, done=trio.Event())
                cpu0, t0 = time.thread_time(), time.perf_counter()
                thread = _publish_in_thread(emu["base"], batches)
                with trio.fail_after(300):
                    await state["done"].wait()
                wall, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
                await trio.to_thread.run_sync(thread.join)
                results[label] = {"events": count, "events_per_s": count / wall, "cpu_us_per_event": cpu / count * 1e6}
            resume_ms = []
            for _ in range(drops):
                before = (await gw.ask("status"))["shards"][0]["resumes"]
                t1 = time.perf_counter()
                await control.drop(shard=0)
                with trio.fail_after(30):
                    while True:
                        st = await gw.ask("status")
                        if st["shards"][0]["resumes"] != before and st["connected"] == shards:
                            break
                        await trio.sleep(0.001)
                resume_ms.append((time.perf_counter() - t1) * 1000)
            results["resume_ms_median"] = statistics.median(resume_ms) if resume_ms else 0.0
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run for CI (seconds)")
    ap.add_argument("--events", type=int, help="events per burst (default 20,000; --quick 2,000)")
    ap.add_argument("--paced", type=int, help="events published one at a time (default 2,000; --quick 200)")
    ap.add_argument("--drops", type=int, help="drop -> resume measurements (default 50; --quick 5)")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--emulator-path", help="A/B runs: import the emulator from this source tree (PYTHONPATH)")
    args = ap.parse_args()
    n = args.events or (2_000 if args.quick else 20_000)
    paced = args.paced if args.paced is not None else (200 if args.quick else 2_000)
    drops = args.drops if args.drops is not None else (5 if args.quick else 50)
    env = dict(os.environ)
    if args.emulator_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.emulator_path, env.get("PYTHONPATH")]))
    child = subprocess.Popen([sys.executable, "-c", EMULATOR.format(replay=2 * n + paced + 1000)],
                             stdout=subprocess.PIPE, text=True, env=env)
    figures: dict[str, Any] = {}
    try:
        assert child.stdout is not None
        emu = json.loads(child.stdout.readline())
        for shards in (1, 4):
            bursts = [("burst", [[_event(i, f"b{shards}") for i in range(n)]])]
            if shards == 1 and paced:
                bursts.append(("paced", [[_event(i, "p")] for i in range(paced)]))
            r = trio.run(run, emu, shards, bursts, drops)
            figures[f"{shards} shard(s)"] = r
            for label, _ in bursts:
                f = r[label]
                print(f"{shards} shard(s), {label}: {f['events']} events at {f['events_per_s']:,.0f} events/s; "
                      f"bot CPU {f['cpu_us_per_event']:.1f} us/event")
            print(f"{shards} shard(s): drop -> resumed in {r['resume_ms_median']:.1f} ms (median of {drops})")
    finally:
        child.terminate()
        child.wait(10)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)


if __name__ == "__main__":
    main()
