"""Client-side CPU per REST reply: httpx (what qgactor's ApiClient uses) vs aiohttp (both peers).

Starts the benchmark emulator and sends N group messages with 16 concurrent workers from a
fresh child process per client, then prints each child's CPU milliseconds per request. This
isolates the HTTP client cost that dominates the e2e echo profile (``e2e_profile.py``).

    python benchmarks/e2e_http_clients.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r'''
import json, resource, sys, time
kind, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
if kind.startswith("httpx"):
    import httpx, trio
    async def main():
        kw = {}
        if kind == "httpx-8":
            kw["limits"] = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        async with httpx.AsyncClient(timeout=60, **kw) as c:
            tok = (await c.post(base + "/app/getAppAccessToken",
                                json={"appId": "102000001", "clientSecret": "EmuSecret0123456789abcdefGHIJKLM"})).json()
            group = (await c.get(base + "/_emulator/info")).json()["groups"][0]["group_openid"]
            h = {"Authorization": "QQBot " + tok["access_token"]}
            left = [n]
            limiter = trio.CapacityLimiter(32)  # qgactor's Limits.max_concurrency
            async def one():
                async with limiter:
                    r = await c.post(f"{base}/v2/groups/{group}/messages", headers=h, json={"msg_type": 0, "content": "x"})
                    assert r.status_code == 200
            c0, t0 = cpu(), time.time()
            async with trio.open_nursery() as nn:
                for _ in range(n):
                    nn.start_soon(one)
            return cpu() - c0, time.time() - t0
    used, wall = trio.run(main)
else:
    import asyncio, aiohttp
    async def main():
        async with aiohttp.ClientSession() as c:
            async with c.post(base + "/app/getAppAccessToken",
                              json={"appId": "102000001", "clientSecret": "EmuSecret0123456789abcdefGHIJKLM"}) as r:
                tok = await r.json()
            async with c.get(base + "/_emulator/info") as r:
                group = (await r.json())["groups"][0]["group_openid"]
            h = {"Authorization": "QQBot " + tok["access_token"]}
            async def one():
                async with c.post(f"{base}/v2/groups/{group}/messages", headers=h, json={"msg_type": 0, "content": "x"}) as r:
                    assert r.status == 200
                    await r.json()
            c0, t0 = cpu(), time.time()
            await asyncio.gather(*(one() for _ in range(n)))
            return cpu() - c0, time.time() - t0
    used, wall = asyncio.run(main())
print(json.dumps({"kind": kind, "cpu_ms_per_request": used * 1000 / n, "requests_per_s": n / wall}))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    emu = subprocess.Popen([sys.executable, str(HERE / "e2e_emulator.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert emu.stdout is not None
        base = re.search(r"EMULATOR (\S+)", emu.stdout.readline()).group(1)  # type: ignore[union-attr]
        for kind in ("httpx", "httpx-8", "aiohttp", "httpx", "httpx-8", "aiohttp"):
            out = subprocess.run([sys.executable, "-c", CHILD, kind, base, str(args.requests)],
                                 capture_output=True, text=True, timeout=300)
            print(out.stdout.strip() or out.stderr[-2000:], flush=True)
    finally:
        emu.terminate()
        emu.wait(10)


if __name__ == "__main__":
    main()
