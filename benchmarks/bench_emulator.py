"""Emulator throughput: events/s pushed to one raw websocket client, echoes/s (a pushed
event + its passive reply), REST requests/s served.

Runs the emulator as a separate process (``python -P -m qgactor.emulator --port 0``) and
drives it from this process over loopback, like a bot would.

    python benchmarks/bench_emulator.py            # full run
    python benchmarks/bench_emulator.py --quick    # a few seconds (CI)
    python benchmarks/bench_emulator.py --phases echo,rest   # some of burst, echo, rest, inproc
    python benchmarks/bench_emulator.py --profile /tmp/emu.prof   # cProfile (CPU time) the emulator
    cd /tmp && PYTHONPATH=<other tree> python <this file> --phases burst,echo,rest   # another emulator

Besides the rates (wall clock, sensitive to the load of a shared machine) it reports the
emulator process's CPU time per event / echo / request (``*_cpu_us``), which is what the
emulator costs and varies much less with the load.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time

import h11
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

    With ``profile``, the emulator runs under cProfile (CPU time, :func:`profiled_emulator`)
    and is stopped with SIGINT so that the profile is written to that path.
    """
    serve = [__file__, "--emulator-child", profile] if profile else ["-m", "qgactor.emulator"]
    # -P: the working directory is not put on sys.path, so PYTHONPATH=<another tree> really
    # runs that tree's emulator (run from a checkout, ``-m`` would import the checkout's)
    cmd = [sys.executable, "-P", *serve, "--port", "0", "--proactive", "allow", "--channel-rate-limit", "0"]
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


class RawHttp:
    """One keep-alive HTTP/1.1 connection driven by h11 (the echo client's REST side: cheaper
    than httpx, so the client process leaves more of the 2 cores to the emulator)."""

    def __init__(self, stream: trio.SocketStream, host: str) -> None:
        self.stream = stream
        self.host = host.encode()
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def connect(cls, base: str) -> RawHttp:
        host, port = base.removeprefix("http://").split(":")
        return cls(await trio.open_tcp_stream(host, int(port)), f"{host}:{port}")

    async def request(self, method: str, path: str, headers: list[tuple[str, str]],
                      body: bytes = b"") -> tuple[int, bytes]:
        """Send one request and read its response (status, body)."""
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        hs = [("Host", self.host), ("Content-Length", str(len(body))), *headers]
        data = self.conn.send(h11.Request(method=method, target=path, headers=hs))
        data += self.conn.send(h11.Data(data=body)) if body else b""
        data += self.conn.send(h11.EndOfMessage())
        await self.stream.send_all(data)
        status, chunks = 0, []
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.stream.receive_some(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return status, b"".join(chunks)
            else:
                raise RuntimeError(f"unexpected {event!r}")


async def bench_echo(base: str, http: httpx.AsyncClient, control: ControlClient, count: int,
                     scene: str, workers: int = 16) -> dict[str, float]:
    """The end-to-end benchmark's unit of work, driven by raw clients: the emulator pushes
    ``count`` @-messages (``control.send_burst``) to one identified websocket client, which
    answers each with a passive reply (``msg_id`` + ``msg_seq``) over ``workers`` keep-alive
    connections. Emulator CPU per echo = one built + pushed dispatch + one reply POST with
    the reply rules and outbox bookkeeping."""
    info = await control.info()
    tok = (await http.post(info["token_url"], json={"appId": info["appid"], "clientSecret": info["secret"]})).json()
    headers = [("Authorization", f"QQBot {tok['access_token']}"), ("Content-Type", "application/json")]
    send, recv = trio.open_memory_channel[tuple[str, str]](count)
    done = 0
    failed: list[bytes] = []

    async def worker() -> None:
        nonlocal done
        http1 = await RawHttp.connect(base)
        async with http1.stream:
            async for path, msg_id in recv:
                body = json.dumps({"msg_type": 0, "content": "echo", "msg_id": msg_id, "msg_seq": 1}
                                  if scene == "group" else {"content": "echo", "msg_id": msg_id}).encode()
                status, answer = await http1.request("POST", path, headers, body)
                if status != 200:
                    failed.append(answer)
                done += 1

    intents = (1 << 25) if scene == "group" else (1 << 30)
    async with open_websocket_url(info["gateway_url"], max_message_size=2**24) as ws:
        json.loads(await ws.get_message())
        await ws.send_message(json.dumps({"op": 2, "d": {"token": f"QQBot {tok['access_token']}",
                                                          "intents": intents, "shard": [0, 1]}}))
        json.loads(await ws.get_message())  # READY
        cpu0 = emu_cpu()
        start = time.perf_counter()
        async with trio.open_nursery() as n:
            for _ in range(workers):
                n.start_soon(worker)
            n.start_soon(control.send_burst, count, scene)
            received = 0
            while received < count:
                frame = json.loads(await ws.get_message())
                if frame.get("op") != 0:
                    continue
                d = frame["d"]
                path = (f"/v2/groups/{d['group_openid']}/messages" if scene == "group"
                        else f"/channels/{d['channel_id']}/messages")
                send.send_nowait((path, d["id"]))
                received += 1
            send.close()
        elapsed = time.perf_counter() - start
        cpu = emu_cpu() - cpu0
    if failed:
        raise RuntimeError(f"{len(failed)} replies refused, first: {failed[0][:200]!r}")
    return {f"echo_{scene}_per_s": count / elapsed, f"echo_{scene}_cpu_us": cpu / count * 1e6}


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
    """Our own code alone, no server, no sockets: the app called directly per REST request
    (``EmulatorApp.http`` + building the response headers), and building + publishing a group message to a session whose connection only
    counts frames. ``*_cpu_us`` minus these is what the server (h11/wsproto), trio and the
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
    headers = {"host": "127.0.0.1", "accept": "*/*", "accept-encoding": "gzip, deflate",
               "connection": "keep-alive", "user-agent": "python-httpx",
               "authorization": f"QQBot {tok}", "content-type": "application/json"}
    out: dict[str, float] = {}
    for name, method, path, data in [("get_me", "GET", "/users/@me", b""),
                                     ("group_send", "POST", f"/v2/groups/{GROUP}/messages", body)]:
        hs = headers | {"content-length": str(len(data))}
        statuses: list[int] = []
        start = time.process_time()
        for _ in range(n):
            response = await app.http(Request(method, path, {}, dict(hs), data))
            response.header_list()
            statuses.append(response.status)
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


PHASES = ("burst", "echo", "rest", "inproc")


async def main(quick: bool, profile: str | None, phases: tuple[str, ...] = PHASES) -> None:
    async with trio.open_nursery() as nursery:
        proc, base = await nursery.start(partial_process, profile)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        results: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            control = ControlClient(base, client=http)
            if "burst" in phases:
                results |= await bench_events(base, http, control, 2000 if quick else 20000)
            if "echo" in phases:
                for scene in ("group", "guild"):
                    results |= await bench_echo(base, http, control, 1000 if quick else 10000, scene)
            if "rest" in phases:
                results |= await bench_rest(base, http, control, 1.5 if quick else 5.0)
        if "inproc" in phases:
            results |= await bench_in_process(2000 if quick else 20000)
        load = psutil.getloadavg()[0]
        print(json.dumps({"quick": quick, "load": round(load, 1),
                          **{k: round(v, 1) for k, v in results.items()}}, indent=2))
        if profile:
            proc.send_signal(signal.SIGINT)
            with trio.move_on_after(30):
                await proc.wait()
        nursery.cancel_scope.cancel()


def profiled_emulator(path: str, argv: list[str]) -> None:
    """Run ``python -m qgactor.emulator argv`` under cProfile with CPU time
    (``time.process_time``: time spent waiting for sockets does not count); the stats are
    written to ``path`` when the emulator stops (SIGINT)."""
    import cProfile

    from qgactor.emulator.__main__ import main as emulator_main

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        emulator_main(argv)
    finally:
        profiler.disable()
        profiler.dump_stats(path)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--emulator-child"]:
        profiled_emulator(sys.argv[2], sys.argv[3:])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run for a few seconds only")
    parser.add_argument("--profile", metavar="PATH", help="run the emulator under cProfile, write stats to PATH")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated phases to run (default: all of {','.join(PHASES)})")
    parser.add_argument("--no-in-process", action="store_true",
                        help="skip the in-process figures (e.g. when benchmarking an older emulator)")
    args = parser.parse_args()
    chosen = tuple(p for p in args.phases.split(",") if p and not (p == "inproc" and args.no_in_process))
    unknown = set(chosen) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    trio.run(main, args.quick, args.profile, chosen)
