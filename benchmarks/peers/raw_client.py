"""The emulator's ceiling for the end-to-end benchmark: a raw client that does (almost) nothing.

    python raw_client.py events N API_BASE TOKEN_URL APPID SECRET
        identify (intents: guild @-messages + groups), print ``READY``, read N dispatches,
        print ``DONE <epoch seconds of the N-th frame>``; no parsing beyond ``op``.
    python raw_client.py rest SECONDS API_BASE TOKEN_URL APPID SECRET
        16 concurrent workers POST group messages (proactive; one keep-alive connection each)
        for SECONDS; print ``DONE <requests> <elapsed>``. Uses aiohttp when importable (its
        client costs ~0.2 ms CPU per request against httpx's ~1.2 ms, see
        ``e2e_http_clients.py``, so the figure is the emulator's), else httpx.
"""

from __future__ import annotations

import json
import sys
import time

import httpx
import trio
from trio_websocket import open_websocket_url

INTENTS = (1 << 25) | (1 << 30)


async def token(http: httpx.AsyncClient, token_url: str, appid: str, secret: str) -> str:
    resp = await http.post(token_url, json={"appId": appid, "clientSecret": secret})
    return resp.json()["access_token"]


async def events(count: int, api: str, token_url: str, appid: str, secret: str) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        tok = await token(http, token_url, appid, secret)
        gw = (await http.get(api + "/gateway/bot", headers={"Authorization": f"QQBot {tok}"})).json()["url"]
    async with open_websocket_url(gw, max_message_size=2**24) as ws:
        hello = json.loads(await ws.get_message())
        await ws.send_message(json.dumps({"op": 2, "d": {"token": f"QQBot {tok}", "intents": INTENTS,
                                                          "shard": [0, 1]}}))
        json.loads(await ws.get_message())  # READY
        print("READY", flush=True)
        interval = hello["d"]["heartbeat_interval"] / 1000
        seq = None
        got = 0
        last_beat = time.monotonic()
        while got < count:
            frame = json.loads(await ws.get_message())
            seq = frame.get("s", seq)
            if frame.get("op") == 0:
                got += 1
            if time.monotonic() - last_beat > interval * 0.8:
                await ws.send_message(json.dumps({"op": 1, "d": seq}))
                last_beat = time.monotonic()
        print(f"DONE {time.time():.6f}", flush=True)


async def rest_httpx(seconds: float, api: str, token_url: str, appid: str, secret: str) -> tuple[int, float]:
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        tok = await token(http, token_url, appid, secret)
        info = (await http.get(api + "/_emulator/info")).json()
        group = info["groups"][0]["group_openid"]
        headers = {"Authorization": f"QQBot {tok}"}
        print("READY", flush=True)
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                r = await http.post(f"{api}/v2/groups/{group}/messages", headers=headers,
                                    json={"msg_type": 0, "content": "ceiling"})
                if r.status_code != 200:
                    raise SystemExit(f"REST ceiling: {r.status_code} {r.text}")
                done += 1

        start = time.perf_counter()
        async with trio.open_nursery() as n:
            for _ in range(16):
                n.start_soon(worker)
        return done, time.perf_counter() - start


async def rest_aiohttp(seconds: float, api: str, token_url: str, appid: str, secret: str) -> tuple[int, float]:
    import asyncio

    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http:
        async with http.post(token_url, json={"appId": appid, "clientSecret": secret}) as r:
            tok = (await r.json())["access_token"]
        async with http.get(api + "/_emulator/info") as r:
            group = (await r.json())["groups"][0]["group_openid"]
        headers = {"Authorization": f"QQBot {tok}"}
        print("READY", flush=True)
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with http.post(f"{api}/v2/groups/{group}/messages", headers=headers,
                                     json={"msg_type": 0, "content": "ceiling"}) as r:
                    if r.status != 200:
                        raise SystemExit(f"REST ceiling: {r.status} {await r.text()}")
                    await r.read()
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        return done, time.perf_counter() - start


def main() -> None:
    mode, amount, api, token_url, appid, secret = sys.argv[1:7]
    if mode == "events":
        trio.run(events, int(amount), api, token_url, appid, secret)
        return
    try:
        import asyncio

        import aiohttp  # noqa: F401  (the cheapest client at hand: the ceiling is the emulator's)
        done, elapsed = asyncio.run(rest_aiohttp(float(amount), api, token_url, appid, secret))
    except ImportError:
        done, elapsed = trio.run(rest_httpx, float(amount), api, token_url, appid, secret)
    print(f"DONE {done} {elapsed:.6f}", flush=True)


if __name__ == "__main__":
    main()
