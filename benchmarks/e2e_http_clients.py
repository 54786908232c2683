"""Client-side CPU per REST reply: qgactor's own transport vs httpx vs aiohttp (both peers).

Starts the benchmark emulator and sends N group messages, 32 in flight, from a fresh child
process per client, then prints each child's CPU milliseconds per request. This isolates the
HTTP client cost that dominates the e2e echo profile (``e2e_profile.py``).
Kinds: ``qgactor`` (``qgactor.qq.transport_client.ApiTransport``, what ``ApiClient`` uses
since the lean transport), ``qgactor-api`` (the whole ``ApiClient.request`` path: auth,
limits, retries, error mapping, over that transport), ``httpx`` (default limits, what
``ApiClient`` used before), ``httpx-8`` (8 connections kept alive), ``aiohttp``.

``--server canned`` answers every request with the same small JSON from a minimal trio server
instead of the emulator (a steadier client-only figure); ``--server canned-tls`` does so over
TLS with a throw-away self-signed certificate for ``localhost`` (kinds qgactor, httpx,
aiohttp): what the REST client costs against the real, https-only platform.

    python benchmarks/e2e_http_clients.py [--requests 3000] [--rounds 2] [--only qgactor,aiohttp]
                                          [--server emulator|canned|canned-tls] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: ``--server canned[-tls]``: one fixed answer per request (its JSON serves the setup calls too).
CANNED = r'''
import ssl, sys, trio
body = b'{"access_token":"canned","groups":[{"group_openid":"G0"}],"id":"ROBOT1.0_canned","timestamp":1}'
answer = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-tps-trace-id: 0123456789abcdef\r\n"
          b"content-length: %d\r\n\r\n" % len(body) + body)
async def handle(stream):
    buf = b""
    try:
        while data := await stream.receive_some(65536):
            buf += data
            while (end := buf.find(b"\r\n\r\n")) >= 0:
                head = buf[:end].lower()
                at = head.find(b"\r\ncontent-length:")
                size = int(head[at + 17:].split(b"\r\n")[0]) if at >= 0 else 0
                if len(buf) < end + 4 + size:
                    break
                buf = buf[end + 4 + size:]
                await stream.send_all(answer)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
async def main():
    async with trio.open_nursery() as nursery:
        if len(sys.argv) > 1:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(sys.argv[1], sys.argv[2])
            listeners = await nursery.start(lambda task_status: trio.serve_ssl_over_tcp(
                handle, 0, ctx, host="127.0.0.1", https_compatible=True, task_status=task_status))
            print("EMULATOR https://localhost:%d" % listeners[0].transport_listener.socket.getsockname()[1], flush=True)
        else:
            listeners = await nursery.start(lambda task_status: trio.serve_tcp(
                handle, 0, host="127.0.0.1", task_status=task_status))
            print("EMULATOR http://127.0.0.1:%d" % listeners[0].socket.getsockname()[1], flush=True)
trio.run(main)
'''

CHILD = r'''
import json, os, resource, ssl, sys, time
kind, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
CA = os.environ.get("QG_BENCH_CA")  # --server canned-tls: trust its certificate
def tls():
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(CA)
    return ctx
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
if kind == "qgactor":
    import trio, httpx
    from qgactor.qq.transport_client import ApiTransport
    async def main():
        async with httpx.AsyncClient(timeout=60, verify=tls() if CA else True) as setup:
            tok = (await setup.post(base + "/app/getAppAccessToken",
                                    json={"appId": "102000001", "clientSecret": "EmuSecret0123456789abcdefGHIJKLM"})).json()
            group = (await setup.get(base + "/_emulator/info")).json()["groups"][0]["group_openid"]
        t = ApiTransport(base, max_connections=32, user_agent="bench", ssl_context=tls() if CA else None)
        h = {"Authorization": "QQBot " + tok["access_token"]}
        limiter = trio.CapacityLimiter(32)
        async def one():
            async with limiter:
                r = await t.request("POST", f"/v2/groups/{group}/messages", headers=h,
                                    json={"msg_type": 0, "content": "x"}, timeout=60)
                assert r.status_code == 200
                r.json()
        c0, t0 = cpu(), time.time()
        async with trio.open_nursery() as nn:
            for _ in range(n):
                nn.start_soon(one)
        used = cpu() - c0, time.time() - t0
        await t.aclose()
        return used
    used, wall = trio.run(main)
elif kind == "qgactor-api":
    import trio
    from qgactor.qq import ApiClient, Endpoints, TokenSource
    from qgactor.qq.http import Limits
    async def main():
        tokens = TokenSource("102000001", "EmuSecret0123456789abcdefGHIJKLM", token_url=base + "/app/getAppAccessToken")
        async with ApiClient(tokens, endpoints=Endpoints.custom(base, base + "/app/getAppAccessToken"),
                             limits=Limits(timeout=60)) as api:
            group = (await api.request("GET", "/_emulator/info")).data["groups"][0]["group_openid"]
            await tokens.get()
            async def one():
                r = await api.request("POST", f"/v2/groups/{group}/messages", json={"msg_type": 0, "content": "x"})
                assert r.status == 200
            c0, t0 = cpu(), time.time()
            async with trio.open_nursery() as nn:
                for _ in range(n):
                    nn.start_soon(one)
            return cpu() - c0, time.time() - t0
    used, wall = trio.run(main)
elif kind.startswith("httpx"):
    import httpx, trio
    async def main():
        kw = {}
        if kind == "httpx-8":
            kw["limits"] = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        async with httpx.AsyncClient(timeout=60, verify=tls() if CA else True, **kw) as c:
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
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls()) if CA else None) as c:
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
    parser.add_argument("--rounds", type=int, default=2, help="how many times each kind runs (alternated)")
    parser.add_argument("--only", default="", help="comma-separated kinds (default: all)")
    parser.add_argument("--server", default="emulator", choices=("emulator", "canned", "canned-tls"))
    parser.add_argument("--quick", action="store_true", help="300 requests, each kind once (seconds)")
    args = parser.parse_args()
    kinds = ["qgactor", "qgactor-api", "httpx", "httpx-8", "aiohttp"]
    if args.server == "canned-tls":
        kinds.remove("qgactor-api")  # ApiClient takes no SSL context: it trusts the system store only
    if args.only:
        unknown = set(args.only.split(",")) - set(kinds)
        if unknown:
            parser.error(f"unknown kinds {sorted(unknown)}; choose from {kinds}")
        kinds = args.only.split(",")
    if args.quick:
        args.requests = min(args.requests, 300)
    else:
        kinds = kinds * args.rounds
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if args.server == "emulator":
            command = [sys.executable, str(HERE / "e2e_emulator.py")]
        elif args.server == "canned":
            command = [sys.executable, "-c", CANNED]
        else:
            cert, key = _self_signed(Path(tmp))
            command = [sys.executable, "-c", CANNED, cert, key]
            env["QG_BENCH_CA"] = cert
        emu = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert emu.stdout is not None
            base = re.search(r"EMULATOR (\S+)", emu.stdout.readline()).group(1)  # type: ignore[union-attr]
            for kind in kinds:
                out = subprocess.run([sys.executable, "-c", CHILD, kind, base, str(args.requests)],
                                     capture_output=True, text=True, timeout=300, env=env)
                print(out.stdout.strip() or out.stderr[-2000:], flush=True)
        finally:
            emu.terminate()
            emu.wait(10)


def _self_signed(directory: Path) -> tuple[str, str]:
    """A throw-away self-signed certificate for ``localhost``: (cert path, key path)."""
    from qgactor.testing import self_signed_certificate

    return self_signed_certificate(directory, ["localhost"])


if __name__ == "__main__":
    main()
