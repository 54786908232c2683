"""Tool-result cache: TTL, time buckets, LRU bound, namespaces — on trio's MockClock."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from qgactor.plugins.cache import MISSING, ToolCache


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_ttl_expires(autojump_clock) -> None:
    ns = ToolCache(clock=trio.current_time).namespace("w")
    ns.put("k", 1, ttl=10)
    await trio.sleep(9.9)
    assert ns.get("k") == 1
    await trio.sleep(0.2)
    assert ns.get("k") is MISSING and ns.get("k", "d") == "d"
    assert ns.stats.expirations == 1 and ns.stats.hits == 1


async def test_bucket_one_lookup_per_half_hour(autojump_clock) -> None:
    cache = ToolCache(clock=trio.current_time)
    ns = cache.namespace("weather")
    calls: list[float] = []

    async def lookup() -> str:
        calls.append(trio.current_time())
        return f"sunny@{len(calls)}"

    # align to a bucket boundary plus 10 minutes
    start = trio.current_time()
    await trio.sleep((start // 1800 + 1) * 1800 - start + 600)
    results = []
    for _ in range(12):  # one ask every 5 minutes for an hour
        results.append(await ns.get_or_compute("Shenzhen", lookup, bucket=1800))
        await trio.sleep(300)
    assert len(calls) == 3  # buckets [x+0,+30) partly, [+30,+60), next one
    assert all(int(c // 1800) != int(d // 1800) for c, d in zip(calls, calls[1:]))
    assert results[0] == "sunny@1" and results[-1] == "sunny@3"


async def test_ttl_and_bucket_earlier_wins(autojump_clock) -> None:
    ns = ToolCache(clock=trio.current_time).namespace("x")
    now = trio.current_time()
    await trio.sleep((now // 100 + 1) * 100 - now + 1)  # 1 s into a 100 s bucket
    ns.put("a", 1, ttl=500, bucket=100)   # bucket ends in 99 s
    ns.put("b", 2, ttl=5, bucket=100)     # ttl ends in 5 s
    await trio.sleep(6)
    assert "a" in ns and "b" not in ns
    await trio.sleep(94)
    assert "a" not in ns


def test_lru_bound_and_namespaces() -> None:
    t = [0.0]
    cache = ToolCache(clock=lambda: t[0], max_entries=3)
    a, b = cache.namespace("a"), cache.namespace("b")
    for i in range(3):
        a.put(i, i, ttl=100)
    assert a.get(0) == 0          # touch 0: now 1 is least recently used
    a.put(3, 3, ttl=100)
    assert 1 not in a and all(k in a for k in (0, 2, 3))
    assert a.stats.evictions == 1
    b.put(0, "b", ttl=100)
    assert a.get(0) == 0 and b.get(0) == "b"
    cache.clear("a")
    assert len(a) == 0 and len(b) == 1


def test_bad_arguments() -> None:
    ns = ToolCache().namespace("x")
    with pytest.raises(ValueError, match="ttl=seconds"):
        ns.put("k", 1)
    with pytest.raises(ValueError, match="positive"):
        ns.put("k", 1, ttl=0)
    with pytest.raises(TypeError):
        ns.put(["unhashable"], 1, ttl=1)


async def test_compute_error_not_cached() -> None:
    ns = ToolCache().namespace("x")

    async def boom() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await ns.get_or_compute("k", boom, ttl=10)
    assert "k" not in ns
