"""Emulator throughput: events/s pushed to one raw websocket client, REST requests/s served.

Runs the emulator as a separate process (``python -m qgactor.emulator --port 0``) and drives
it from this process over loopback, like a bot would.

    python benchmarks/bench_emulator.py            # full run
    python benchmarks/bench_emulator.py --quick    # a few seconds (CI)
    python benchmarks/bench_emulator.py --profile /tmp/emu.prof   # cProfile the emulator process

Besides the rates (wall clock, sensitive to the load of a shared machine) it reports the
emulator process's CPU time per event / per request (``*_cpu_us``), which is what our own
code costs and varies much less with the load.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time

import httpx
import psutil
import trio
from trio_websocket import open_websocket_url

from qgactor.emulator import ControlClient

GROUP = "C9F778FE6ADF9D1D1DBE395BF744A33A"

#: psutil handle of the emulator process (for CPU time)
EMU: dict[str, psutil.Process] = {}


def emu_cpu() -> float:
    """CPU seconds (user + system) the emulator process has used so far."""
    t = EMU["ps"].cpu_times()
    return t.user + t.system


async def partial_process(profile: str | None = None,
                          task_status: trio.TaskStatus = trio.TASK_STATUS_IGNORED) -> None:
    """Run ``python -m qgactor.emulator --port 0``; ``started((process, base_url))``.

    With ``profile``, the emulator runs under cProfile and is stopped with SIGINT so that the
    profile is written to that path.
    """
    prof = ["-m", "cProfile", "-o", profile] if profile else []
    cmd = [sys.executable, *prof, "-m", "qgactor.emulator", "--port", "0", "--proactive", "allow",
           "--channel-rate-limit", "0"]
    proc = await trio.lowlevel.open_process(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    buf = b""
    assert proc.stdout is not None
    while b"\n" not in buf or not re.search(rb"at (http://\S+)", buf):
        chunk = await proc.stdout.receive_some(4096)
        if not chunk:
            raise RuntimeError("emulator exited before printing its URL")
        buf += chunk
    base = re.search(rb"at (http://\S+)", buf).group(1).decode()  # type: ignore[union-attr]
    EMU["ps"] = psutil.Process(proc.pid)
    task_status.started((proc, base))
    try:
        while await proc.stdout.receive_some(65536):
            pass
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT) if profile else proc.terminate()
        with trio.CancelScope(shield=True):
            await proc.wait()


async def bench_events(base: str, http: httpx.AsyncClient, control: ControlClient, count: int) -> dict[str, float]:
    info = await control.info()
    tok = (await http.post(info["token_url"], json={"appId": info["appid"], "clientSecret": info["secret"]})).json()
    async with open_websocket_url(info["gateway_url"], max_message_size=2**24) as ws:
        json.loads(await ws.get_message())
        await ws.send_message(json.dumps({"op": 2, "d": {"token": f"QQBot {tok['access_token']}",
                                                          "intents": 1 << 25, "shard": [0, 1]}}))
        json.loads(await ws.get_message())  # READY
        results: dict[str, float] = {}
        # 1. server-side burst: the emulator's own push rate
        received = 0
        cpu0 = emu_cpu()
        start = time.perf_counter()
        async with trio.open_nursery() as n:
            n.start_soon(control.send_burst, count, "group")
            while received < count:
                frame = json.loads(await ws.get_message())
                if frame.get("op") == 0:
                    received += 1
        elapsed = time.perf_counter() - start
        results["burst_events_per_s"] = count / elapsed
        results["burst_cpu_us"] = (emu_cpu() - cpu0) / count * 1e6
        # 2. one control call per event (what a test driving it over HTTP gets)
        n_ctl = max(50, count // 10)
        cpu0 = emu_cpu()
        start = time.perf_counter()
        async with trio.open_nursery() as n:
            async def inject(k: int) -> None:
                for i in range(k):
                    await control.send_message("group", f"ctl {i}")
            for _ in range(4):
                n.start_soon(inject, n_ctl // 4)
            got = 0
            while got < (n_ctl // 4) * 4:
                if json.loads(await ws.get_message()).get("op") == 0:
                    got += 1
        results["control_injected_events_per_s"] = got / (time.perf_counter() - start)
        results["control_injected_cpu_us"] = (emu_cpu() - cpu0) / got * 1e6
    return results


async def bench_rest(base: str, http: httpx.AsyncClient, control: ControlClient, seconds: float) -> dict[str, float]:
    info = await control.info()
    tok = (await http.post(info["token_url"], json={"appId": info["appid"], "clientSecret": info["secret"]})).json()
    headers = {"Authorization": f"QQBot {tok['access_token']}"}
    out: dict[str, float] = {}
    for name, method, path, body in [
        ("rest_get_me_per_s", "GET", "/users/@me", None),
        ("rest_group_send_per_s", "POST", f"/v2/groups/{GROUP}/messages", {"msg_type": 0, "content": "x"}),
    ]:
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                r = await http.request(method, base + path, headers=headers, json=body)
                assert r.status_code == 200, r.text
                done += 1

        cpu0 = emu_cpu()
        start = time.perf_counter()
        async with trio.open_nursery() as n:
            for _ in range(8):
                n.start_soon(worker)
        out[name] = done / (time.perf_counter() - start)
        out[name.replace("_per_s", "_cpu_us")] = (emu_cpu() - cpu0) / done * 1e6
    return out


async def bench_in_process(n: int) -> dict[str, float]:
    """Our own code alone, no server, no sockets: the ASGI app called directly per REST
    request, and building + publishing a group message to a session whose connection only
    counts frames. ``*_cpu_us`` minus these is what hypercorn, h11/wsproto, trio and the
    kernel cost."""
    from qgactor.emulator import EmulatorConfig, Platform, World
    from qgactor.emulator.app import EmulatorApp
    from qgactor.emulator.control import build_control_router
    from qgactor.emulator.http import Request
    from qgactor.emulator.rest import build_rest_router
    from qgactor.emulator.sessions import GatewaySession

    p = Platform(EmulatorConfig(proactive="allow", channel_rate_limit=None), World.load(None))
    app = EmulatorApp(p, build_rest_router(p), build_control_router(p))
    tok = p.tokens.issue(p.world.appid, p.world.secret).value
    body = json.dumps({"msg_type": 0, "content": "x"}).encode()
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"*/*"), (b"accept-encoding", b"gzip, deflate"),
               (b"connection", b"keep-alive"), (b"user-agent", b"python-httpx"),
               (b"authorization", f"QQBot {tok}".encode()), (b"content-type", b"application/json")]
    out: dict[str, float] = {}
    for name, method, path, data in [("get_me", "GET", "/users/@me", b""),
                                     ("group_send", "POST", f"/v2/groups/{GROUP}/messages", body)]:
        scope = {"type": "http", "method": method, "path": path, "query_string": b"",
                 "headers": headers + [(b"content-length", str(len(data)).encode())]}
        statuses: list[int] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": data, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])  # type: ignore[arg-type]

        start = time.process_time()
        for _ in range(n):
            await app(scope, receive, send)
        out[f"app_only_{name}_us"] = (time.process_time() - start) / n * 1e6
        assert set(statuses) == {200}, statuses[:3]

    class CountingConnection:
        frames = 0

        async def enqueue(self, text: str) -> None:
            self.frames += 1

    session = GatewaySession("bench", 0, 1, 1 << 25, 1000)
    p.sessions.add(session)
    session.connection = CountingConnection()  # type: ignore[assignment]
    handler, _, _ = build_control_router(p).match("POST", "/_emulator/messages/burst")
    assert handler is not None
    req = Request("POST", "/_emulator/messages/burst", {}, {"content-type": "application/json"},
                  json.dumps({"count": n, "scene": "group"}).encode())
    start = time.process_time()
    await handler(req)
    out["build_publish_us"] = (time.process_time() - start) / n * 1e6
    assert session.connection.frames == n  # type: ignore[union-attr]
    return out


async def main(quick: bool, profile: str | None, in_process: bool = True) -> None:
    async with trio.open_nursery() as nursery:
        proc, base = await nursery.start(partial_process, profile)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            control = ControlClient(base, client=http)
            ev = await bench_events(base, http, control, 2000 if quick else 20000)
            rest = await bench_rest(base, http, control, 1.5 if quick else 5.0)
        inproc = await bench_in_process(2000 if quick else 20000) if in_process else {}
        load = psutil.getloadavg()[0]
        print(json.dumps({"quick": quick, "load": round(load, 1),
                          **{k: round(v, 1) for k, v in (ev | rest | inproc).items()}}, indent=2))
        if profile:
            proc.send_signal(signal.SIGINT)
            with trio.move_on_after(30):
                await proc.wait()
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run for a few seconds only")
    parser.add_argument("--profile", metavar="PATH", help="run the emulator under cProfile, write stats to PATH")
    parser.add_argument("--no-in-process", action="store_true",
                        help="skip the in-process figures (e.g. when benchmarking an older emulator)")
    args = parser.parse_args()
    trio.run(main, args.quick, args.profile, not args.no_in_process)
