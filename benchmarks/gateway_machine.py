"""Throughput of the sans-I/O gateway machine: frames parsed, de-duplicated and dispatched per second.

Usage: python benchmarks/gateway_machine.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time

from qgactor.qq.gateway import GatewayConfig, GatewayMachine
from qgactor.qq.gateway_events import Dispatch
from qgactor.qq.webhook import WebhookHandler, derive_private_key, sign


def frames(n: int) -> list[str]:
    return [
        json.dumps({"op": 0, "s": i + 2, "t": "AT_MESSAGE_CREATE", "id": f"AT_MESSAGE_CREATE:{i}",
                    "d": {"id": f"m{i}", "channel_id": "c1", "guild_id": "g1", "content": "<@!1> hello",
                          "author": {"id": "u1", "username": "x"}, "timestamp": "2026-01-01T00:00:00+08:00"}})
        for i in range(n)
    ]


def bench_machine(n: int) -> float:
    m = GatewayMachine(GatewayConfig(intents=1 << 30))
    m.connection_opened(0.0)
    m.receive('{"op":10,"d":{"heartbeat_interval":45000}}', 0.0)
    m.token_available("QQBot x")
    m.receive('{"op":0,"s":1,"t":"READY","d":{"session_id":"s","user":{"id":"1"}}}', 0.0)
    data = frames(n)
    t0 = time.perf_counter()
    got = 0
    for raw in data:
        for out in m.receive(raw, 0.0):
            got += isinstance(out, Dispatch)
    dt = time.perf_counter() - t0
    assert got == n
    return n / dt


def bench_webhook(n: int) -> float:
    key = derive_private_key("benchmark-secret")
    h = WebhookHandler("benchmark-secret")
    now = int(time.time())
    reqs = []
    for raw in frames(n):
        body = raw.encode()
        reqs.append(({"x-signature-ed25519": sign(key, str(now), body), "x-signature-timestamp": str(now)}, body))
    t0 = time.perf_counter()
    for headers, body in reqs:
        assert h.handle(headers, body, now).dispatch is not None
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small run for CI (seconds)")
    args = ap.parse_args()
    n = 5_000 if args.quick else 100_000
    print(f"gateway machine: {bench_machine(n):,.0f} dispatch frames/s ({n} frames)")
    w = 1_000 if args.quick else 10_000
    print(f"webhook handler (Ed25519 verify + parse + dedup): {bench_webhook(w):,.0f} requests/s ({w} requests)")


if __name__ == "__main__":
    main()
