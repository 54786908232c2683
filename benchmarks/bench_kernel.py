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


class Timer:
    """Wall-clock and CPU time of a block (CPU time is robust when other processes share the
    cores: the benchmark is single-threaded, so CPU time is the work it did)."""

    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = max(1e-9, time.process_time() - self.c0)


def _rss() -> int:
    try:
        import psutil

        return psutil.Process(os.getpid()).memory_info().rss
    except ImportError:  # pragma: no cover
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def raw_channel_throughput(n: int, capacity: int) -> tuple[float, float]:
    send, recv = trio.open_memory_channel[Any](capacity)
    count = 0

    async def consumer() -> None:
        nonlocal count
        async for _ in recv:
            count += 1

    with Timer() as t:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consumer)
            async with send:
                for i in range(n):
                    await send.send(i)
    assert count == n
    return n / t.wall, n / t.cpu


async def tell_throughput(n: int, capacity: int) -> tuple[float, float]:
    async with open_actor_nursery() as an:
        ref = await an.spawn(Sink, name="sink", mailbox=Mailbox(capacity=capacity))
        with Timer() as t:
            for i in range(n):
                await ref.tell(i)
            assert await ref.ask("done") == n + 1  # the ask is queued behind every tell
    return n / t.wall, n / t.cpu


async def raw_roundtrip(n: int) -> tuple[float, float, list[float]]:
    """A request/reply over two raw trio channels (the hand-written equivalent of ask)."""
    req_s, req_r = trio.open_memory_channel[Any](100)
    lat: list[float] = []

    async def server() -> None:
        async for msg, reply in req_r:
            await reply.send(msg)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server)
        rep_s, rep_r = trio.open_memory_channel[Any](1)
        with Timer() as t:
            for i in range(n):
                a = time.perf_counter()
                await req_s.send((i, rep_s))
                await rep_r.receive()
                lat.append(time.perf_counter() - a)
        nursery.cancel_scope.cancel()
    return n / t.wall, n / t.cpu, lat


async def ask_roundtrip(n: int) -> tuple[float, float, list[float]]:
    lat: list[float] = []
    async with open_actor_nursery() as an:
        ref = await an.spawn(Sink, name="echo")
        with Timer() as t:
            for i in range(n):
                a = time.perf_counter()
                await ref.ask(i)  # default 5 s timeout
                lat.append(time.perf_counter() - a)
    return n / t.wall, n / t.cpu, lat


async def ask_concurrent(n: int, askers: int) -> tuple[float, float]:
    async with open_actor_nursery() as an:
        ref = await an.spawn(Sink, name="echo")

        async def asker(k: int) -> None:
            for i in range(k):
                await ref.ask(i)

        with Timer() as t:
            async with trio.open_nursery() as nursery:
                for _ in range(askers):
                    nursery.start_soon(asker, n // askers)
    total = n // askers * askers
    return total / t.wall, total / t.cpu


async def idle_memory(n: int) -> tuple[float, float, float, Timer, Timer]:
    """Bytes per idle actor (tracemalloc, RSS), spawn and named-teardown timers."""
    gc.collect()
    rss0 = _rss()
    async with open_actor_nursery() as an:
        with Timer() as spawn:
            for i in range(n):
                await an.spawn(Idle, name=f"idle-{i}")
        gc.collect()
        per_rss = (_rss() - rss0) / n
        teardown = Timer().__enter__()
    teardown.__exit__()
    # tracemalloc separately (it slows allocation down, so not during the timed spawn)
    m = min(n, 20_000)
    tracemalloc.start()
    async with open_actor_nursery(hibernate_after=None) as an:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(m):
            await an.spawn(Idle, name=f"t-{i}")
        gc.collect()
        per_traced = (tracemalloc.get_traced_memory()[0] - before) / m
        # the same actors after one message each: now each has a parked trio task (until the
        # sweeper retires it; hibernation is off in this system)
        for r in an.children:
            await r.ask(None)
        gc.collect()
        per_awake = (tracemalloc.get_traced_memory()[0] - before) / m
    tracemalloc.stop()
    return per_traced, per_awake, per_rss, spawn, teardown


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


async def main(quick: bool) -> None:
    n = 20_000 if quick else 200_000
    n_ask = 5_000 if quick else 100_000
    n_idle = 10_000 if quick else 100_000
    cap = 1000
    rounds = 2 if quick else 3
    print(f"python {os.sys.version.split()[0]}, trio {trio.__version__}, quick={quick}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("throughputs: best of several rounds; 'wall' = elapsed time, 'cpu' = this process's "
          "CPU time (robust when other processes compete for the cores)")

    def best(results: list[Any]) -> Any:
        return max(results, key=lambda r: r[1])

    raw = best([await raw_channel_throughput(n, cap) for _ in range(rounds)])
    tell = best([await tell_throughput(n, cap) for _ in range(rounds)])
    print(f"raw trio channel  : {raw[0]:11,.0f} msg/s wall {raw[1]:11,.0f} msg/s cpu "
          f"(await send / await receive, buffer {cap})")
    print(f"tell              : {tell[0]:11,.0f} msg/s wall {tell[1]:11,.0f} msg/s cpu "
          f"ratio to raw: {tell[0] / raw[0]:.2f}x wall, {tell[1] / raw[1]:.2f}x cpu")
    raw_rt = best([await raw_roundtrip(n_ask) for _ in range(rounds)])
    ask = best([await ask_roundtrip(n_ask) for _ in range(rounds)])
    for label, r in (("raw round trip    ", raw_rt), ("ask (1 asker)     ", ask)):
        lat = r[2]
        print(f"{label}: {r[0]:11,.0f} /s wall     {r[1]:11,.0f} /s cpu     "
              f"p50 {statistics.median(lat) * 1e6:5.1f} us  p99 {pct(lat, 0.99) * 1e6:5.1f} us")
    print(f"ask ratio to raw round trip: {ask[0] / raw_rt[0]:.2f}x wall, {ask[1] / raw_rt[1]:.2f}x cpu")
    conc = best([await ask_concurrent(n_ask, 16) for _ in range(rounds)])
    print(f"ask (16 askers)   : {conc[0]:11,.0f} /s wall     {conc[1]:11,.0f} /s cpu     "
          f"ratio to raw round trip: {conc[0] / raw_rt[0]:.2f}x wall")
    per_traced, per_awake, per_rss, spawn, teardown = await idle_memory(n_idle)
    m = min(n_idle, 20_000)
    print(f"idle actor memory : {per_traced:6.0f} B traced ({m:,} actors)  {per_rss:6.0f} B RSS "
          f"({n_idle:,} actors)")
    print(f"idle actor memory, not hibernated, task parked after one message: {per_awake:6.0f} B "
          f"traced ({m:,} actors)")
    print(f"spawn {n_idle:,} named actors   : {spawn.wall:.3f} s wall, {spawn.cpu:.3f} s cpu")
    print(f"teardown {n_idle:,} named actors: {teardown.wall:.3f} s wall, {teardown.cpu:.3f} s cpu "
          "(leaving open_actor_nursery)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    args = ap.parse_args()
    trio.run(main, args.quick)
