"""Kernel benchmark: raw trio channels vs qgactor tell/ask, idle-actor memory, named teardown.

Run: ``python benchmarks/bench_kernel.py`` (full) or ``--quick`` (a few seconds, for CI).
Prints each kernel figure next to the raw trio figure it is compared with. Figures go to
``benchmarks/notes/kernel.md``. Not a test: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import tracemalloc
from typing import Any

import trio

from qgactor.runtime import Actor, Mailbox, open_actor_nursery


class Sink(Actor):
    """Counts messages; answers ``ask`` with the count."""

    def __init__(self) -> None:
        self.n = 0

    async def receive(self, msg: Any) -> Any:
        self.n += 1
        return self.n


class Idle(Actor):
    """Does nothing."""


def _rss() -> int:
    try:
        import psutil

        return psutil.Process(os.getpid()).memory_info().rss
    except ImportError:  # pragma: no cover
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def raw_channel_throughput(n: int, capacity: int) -> float:
    send, recv = trio.open_memory_channel[Any](capacity)
    count = 0

    async def consumer() -> None:
        nonlocal count
        async for _ in recv:
            count += 1

    t0 = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        async with send:
            for i in range(n):
                await send.send(i)
    dt = time.perf_counter() - t0
    assert count == n
    return n / dt


async def tell_throughput(n: int, capacity: int) -> float:
    async with open_actor_nursery() as an:
        ref = await an.spawn(Sink, name="sink", mailbox=Mailbox(capacity=capacity))
        t0 = time.perf_counter()
        for i in range(n):
            await ref.tell(i)
        assert await ref.ask("done") == n + 1  # the ask is queued behind every tell
        dt = time.perf_counter() - t0
    return n / dt


async def raw_roundtrip(n: int) -> tuple[float, list[float]]:
    """A request/reply over two raw trio channels (the hand-written equivalent of ask)."""
    req_s, req_r = trio.open_memory_channel[Any](100)
    lat: list[float] = []

    async def server() -> None:
        async for msg, reply in req_r:
            await reply.send(msg)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server)
        rep_s, rep_r = trio.open_memory_channel[Any](1)
        t0 = time.perf_counter()
        for i in range(n):
            a = time.perf_counter()
            await req_s.send((i, rep_s))
            await rep_r.receive()
            lat.append(time.perf_counter() - a)
        dt = time.perf_counter() - t0
        nursery.cancel_scope.cancel()
    return n / dt, lat


async def ask_roundtrip(n: int) -> tuple[float, list[float]]:
    lat: list[float] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Sink, name="echo")
        t0 = time.perf_counter()
        for i in range(n):
            a = time.perf_counter()
            await ref.ask(i)
            lat.append(time.perf_counter() - a)
        dt = time.perf_counter() - t0
    return n / dt, lat


async def ask_concurrent(n: int, askers: int) -> float:
    async with open_actor_nursery() as an:
        ref = await an.spawn(Sink, name="echo")

        async def asker(k: int) -> None:
            for i in range(k):
                await ref.ask(i)

        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(askers):
                nursery.start_soon(asker, n // askers)
        dt = time.perf_counter() - t0
    return (n // askers * askers) / dt


async def idle_memory(n: int) -> tuple[float, float, float, float]:
    """Bytes per idle actor (tracemalloc and RSS), spawn time, named teardown time."""
    gc.collect()
    tracemalloc.start()
    base_traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    gc.collect()
    rss0 = _rss()
    teardown = 0.0
    async with open_actor_nursery() as an:
        t0 = time.perf_counter()
        for i in range(n):
            await an.spawn(Idle, name=f"idle-{i}")
        spawn_dt = time.perf_counter() - t0
        gc.collect()
        rss1 = _rss()
        per_rss = (rss1 - rss0) / n
        t1 = time.perf_counter()
    teardown = time.perf_counter() - t1
    # tracemalloc separately (it slows allocation down, so not during the timed spawn)
    tracemalloc.start()
    async with open_actor_nursery() as an:
        m = min(n, 20_000)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(m):
            await an.spawn(Idle, name=f"t-{i}")
        gc.collect()
        per_traced = (tracemalloc.get_traced_memory()[0] - before) / m
    tracemalloc.stop()
    del base_traced
    return per_traced, per_rss, spawn_dt, teardown


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


async def main(quick: bool) -> None:
    n = 50_000 if quick else 500_000
    n_ask = 20_000 if quick else 200_000
    n_idle = 20_000 if quick else 100_000
    cap = 1000
    print(f"python {os.sys.version.split()[0]}, trio {trio.__version__}, quick={quick}")
    raw = max([await raw_channel_throughput(n, cap) for _ in range(3)])
    tell = max([await tell_throughput(n, cap) for _ in range(3)])
    print(f"raw trio channel  : {raw:12,.0f} msg/s (send/receive, buffer {cap})")
    print(f"tell              : {tell:12,.0f} msg/s   ratio to raw: {tell / raw:.2f}x")
    raw_rt, raw_lat = await raw_roundtrip(n_ask)
    rt, lat = await ask_roundtrip(n_ask)
    rt = max(rt, (await ask_roundtrip(n_ask))[0])
    print(f"raw round trip    : {raw_rt:12,.0f} /s  p50 {statistics.median(raw_lat) * 1e6:6.1f} us  "
          f"p99 {pct(raw_lat, 0.99) * 1e6:6.1f} us")
    print(f"ask (1 asker)     : {rt:12,.0f} /s  p50 {statistics.median(lat) * 1e6:6.1f} us  "
          f"p99 {pct(lat, 0.99) * 1e6:6.1f} us   ratio to raw: {rt / raw_rt:.2f}x")
    conc = await ask_concurrent(n_ask, 16)
    print(f"ask (16 askers)   : {conc:12,.0f} /s   ratio to raw round trip: {conc / raw_rt:.2f}x")
    per_traced, per_rss, spawn_dt, teardown = await idle_memory(n_idle)
    print(f"idle actor memory : {per_traced:8.0f} B traced (20k)  {per_rss:8.0f} B RSS ({n_idle:,})")
    print(f"spawn {n_idle:,} named : {spawn_dt:.3f} s ({n_idle / spawn_dt:,.0f}/s)")
    print(f"teardown {n_idle:,} named: {teardown:.3f} s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    args = ap.parse_args()
    trio.run(main, args.quick)
