"""End-to-end benchmark: qgactor vs qg-botsdk 4.x vs qq-botpy 1.x on the same emulator.

One emulator process (``benchmarks/e2e_emulator.py``) serves every bot; each bot runs in its
own process (``benchmarks/peers/*.py``) so CPU seconds and peak RSS are that bot's alone.
Scenarios (one run measures all of them for every variant):

1. ``echo-guild``: a burst of N guild @-messages, the bot replies to each (passive reply).
   Spread over N/5 channels: the platform allows 5 messages/s per channel.
2. ``echo-group``: the same with group @-messages (``msg_seq`` replies).
3. ``slow-group``: each handler first does 10 ms of I/O (``trio.sleep``/``asyncio.sleep``,
   ``time.sleep`` for sync handlers), then replies: shows handler concurrency.
4. ``conv``: U distinct users (each in their own guild channel) each open a conversation
   (``/guess`` → "pick a number" → answer → "you picked …"); all U are open at once before
   any answer is sent.

Latency is measured by the emulator: ``outbox entry time`` (reply received) minus
``reply_to.time`` (the inbound record made when the event was built and pushed). Bursts
measure throughput (their latency is mostly queueing); a paced phase (R events/s offered,
well under every variant's capacity) measures the latency of one event.

The emulator's own ceiling is measured in the same run by a raw client process: dispatches/s
pushed to a client that only counts frames, group-send REST requests/s (16 keep-alive aiohttp
workers) and messages/s injected by control calls (how scenario 4 injects).
Helpers: ``e2e_emulator.py`` (the emulator process), ``e2e_measure.py`` (processes, outbox,
figures), ``e2e_table.py`` (the table), ``peers/`` (one script per bot), ``e2e_profile.py``
(profile qgactor's echo path), ``e2e_http_clients.py`` (httpx vs aiohttp per request).

    python benchmarks/e2e.py --smoke          # tiny N, every variant (< 60 s, CI)
    python benchmarks/e2e.py                  # full run (a few minutes)
    python benchmarks/e2e.py --json out.json  # also write the raw figures
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import httpx
import psutil
import trio

from qgactor.emulator import ControlClient

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
sys.path.insert(0, str(HERE))
from e2e_emulator import bench_channel_id, bench_user_id  # noqa: E402
from e2e_measure import (  # noqa: E402
    Child, Collector, Meter, answering, cpu_s, mem_kb, percentile, start_child, summarize, wait_for_line,
)
from e2e_table import table  # noqa: E402

CHANNELS = 2000  # guild text channels in the benchmark world (handed out round robin)
PER_CHANNEL = 5  # guild messages per channel per phase: the platform's 5/s per channel


@attrs.define
class Variant:
    """One bot implementation under test."""

    name: str
    script: str
    mode: str
    module: str | None = None  # must be importable, else the variant is skipped

    def known_issue(self, phase: str) -> str | None:
        """A documented upstream defect that makes this variant fail ``phase``, or None."""
        return KNOWN_ISSUES.get((self.script, phase))

    def missing(self) -> str | None:
        """Why this variant cannot run (package not importable), or None."""
        if self.module and importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed (pip install -e '.[bench]')"
        return None


#: phases a peer cannot pass because of its own defect (reported in the table, not hidden)
KNOWN_ISSUES = {
    ("qg_botsdk_bot.py", "conv"): (
        "qg-botsdk 4.3.10 wait_for() with several users waiting delivers an answer to the wrong "
        "waiter (SessionManager.wait_for_message_checker builds its callbacks with a lambda that "
        "closes over the loop variables), so only ~1 of U conversations completes"),
}

VARIANTS = [
    Variant("qgactor async", "qgactor_bot.py", "async"),
    Variant("qgactor sync", "qgactor_bot.py", "sync"),
    Variant("qg-botsdk async", "qg_botsdk_bot.py", "async", "qg_botsdk"),
    Variant("qg-botsdk sync", "qg_botsdk_bot.py", "sync", "qg_botsdk"),
    Variant("qq-botpy", "botpy_bot.py", "async", "botpy"),
]


@attrs.define
class Sizes:
    """How much load each phase gets."""

    events: int
    paced: int
    rate: float
    users: int
    ceiling_events: int
    ceiling_rest_s: float
    stall: float  # give up on a phase after this many seconds without a new reply


SMOKE = Sizes(events=30, paced=10, rate=50.0, users=10, ceiling_events=200, ceiling_rest_s=0.5, stall=6.0)
FULL = Sizes(events=3000, paced=300, rate=50.0, users=1000, ceiling_events=10000, ceiling_rest_s=3.0,
             stall=30.0)


# ------------------------------------------------------------------------------ phases
class Channels:
    """Hands out guild channels round robin, so no channel gets more than the platform's
    5 messages per second (the emulator enforces it; qgactor's client keeps to it)."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> str:
        cid = bench_channel_id(self.next % CHANNELS)
        self.next += 1
        return cid


async def push_burst(control: ControlClient, channels: Channels, count: int, scene: str, content: str) -> None:
    """``count`` messages server-side in one control call: for groups to one group; for
    guilds 5 per channel (the platform's 5 replies/s per channel) over ``count / 5`` channels,
    message ``i`` to channel ``i mod count/5``."""
    if scene != "guild":
        await control.send_burst(count, scene, content)
        return
    chans = [channels.take() for _ in range(-(-count // PER_CHANNEL))]
    await control.send_burst(count, "guild", content, channels=chans)


async def burst_phase(control: ControlClient, col: Collector, meter_of: Any, scene: str, content: str,
                      sizes: Sizes, channels: Channels) -> dict[str, Any]:
    await col.mark()
    with meter_of() as m:
        await push_burst(control, channels, sizes.events, scene, content)
        entries = await col.collect(sizes.events, sizes.stall, match=answering(content))
    return summarize(entries, sizes.events) | m.figures()


async def paced_phase(control: ControlClient, col: Collector, meter_of: Any, scene: str,
                      sizes: Sizes, channels: Channels) -> dict[str, Any]:
    tag = f"paced-{scene}"
    await col.mark()
    with meter_of() as m:
        start = trio.current_time()
        for i in range(sizes.paced):
            await trio.sleep_until(start + i / sizes.rate)
            where = {"channel": channels.take()} if scene == "guild" else {}
            await control.send_message(scene, f"{tag} {i}", **where)
        entries = await col.collect(sizes.paced, sizes.stall, match=answering(tag))
    return summarize(entries, sizes.paced) | m.figures()


async def conv_phase(control: ControlClient, col: Collector, meter_of: Any, sizes: Sizes,
                     channels: Channels) -> dict[str, Any]:
    """U users open a conversation each, then all answer; latency per turn."""
    users = [(bench_user_id(i), channels.take()) for i in range(sizes.users)]

    async def inject_all(text: str) -> None:
        queue = list(users)

        async def worker() -> None:
            while queue:
                user, channel = queue.pop()
                await control.send_message("guild", text, user=user, channel=channel)

        async with trio.open_nursery() as n:
            for _ in range(8):
                n.start_soon(worker)

    await col.mark()
    out: dict[str, Any] = {"users": sizes.users}
    with meter_of() as m:
        t0 = time.monotonic()
        async with trio.open_nursery() as n:
            n.start_soon(inject_all, "/guess")
            prompts = await col.collect(sizes.users, sizes.stall,
                                        match=lambda e: (e["content"] or "").startswith("pick"))
        open_s = time.monotonic() - t0
        mem_open = mem_kb(m.bot.proc.pid)
        async with trio.open_nursery() as n:
            n.start_soon(inject_all, "7")
            answers = await col.collect(sizes.users, sizes.stall,
                                        match=lambda e: (e["content"] or "").startswith("you picked"))
        total_s = time.monotonic() - t0
    a, b = summarize(prompts, sizes.users), summarize(answers, sizes.users)
    lat_all = ([(e["time"] - e["reply_to"]["time"]) * 1000 for e in prompts + answers
                if e["accepted"] and e["reply_to"] is not None])
    out |= {"opened": a["handled"], "handled": b["handled"], "sent": sizes.users,
            "open_s": open_s, "total_s": total_s,
            "events_per_s": (a["handled"] + b["handled"]) / total_s if total_s else math.nan,
            "p50_ms": percentile(lat_all, 50), "p99_ms": percentile(lat_all, 99),
            "rss_open_mb": mem_open.get("VmRSS", 0) / 1024}
    return out | m.figures()


# ------------------------------------------------------------------------------ run
async def start_bot(variant: Variant, scenario: str, info: dict[str, Any], workdir: Path,
                    control: ControlClient, extra: list[str] | None = None) -> Child:
    args = [str(PEERS / variant.script), scenario, variant.mode, info["api_url"], info["token_url"],
            info["appid"], info["secret"], *(extra or [])]
    # the previous bot's session may still be listed (and even connected) for a moment: wait
    # for a connected session this emulator has not seen before
    seen = {s["session_id"] for s in (await control.sessions())["sessions"]}
    bot = await start_child(args, workdir, f"{variant.name}-{scenario}")
    try:
        async with trio.open_nursery() as n:
            async def died() -> None:
                await bot.proc.wait()
                raise RuntimeError(f"{variant.name} exited with {bot.proc.returncode}:\n{bot.tail()}")
            n.start_soon(died)
            with trio.fail_after(60):
                while not any(s["connected"] and s["session_id"] not in seen
                              for s in (await control.sessions())["sessions"]):
                    await trio.sleep(0.05)
            n.cancel_scope.cancel()
    except BaseException:
        await bot.stop()
        raise
    return bot


async def run_variant(variant: Variant, info: dict[str, Any], emu: Child, control: ControlClient,
                      sizes: Sizes, workdir: Path, log: Any, channels: Channels,
                      default_limits: bool = False) -> dict[str, Any]:
    col = Collector(control)
    res: dict[str, Any] = {}
    bot = await start_bot(variant, "echo", info, workdir, control)
    try:
        def meter() -> Meter:
            return Meter(bot, emu)
        res["startup_rss_mb"] = mem_kb(bot.proc.pid)["VmRSS"] / 1024
        # a few warm-up events (connections, lazy imports) outside the measurements
        await push_burst(control, channels, 3, "guild", "warm")
        await push_burst(control, channels, 3, "group", "warm")
        await col.collect(6, max(sizes.stall, 10.0), match=answering("warm"))
        res["echo-guild"] = await burst_phase(control, col, meter, "guild", "echo-guild", sizes, channels)
        log(variant.name, "echo-guild", res["echo-guild"])
        res["echo-group"] = await burst_phase(control, col, meter, "group", "echo-group", sizes, channels)
        log(variant.name, "echo-group", res["echo-group"])
        res["slow-group"] = await burst_phase(control, col, meter, "group", "slow-group", sizes, channels)
        log(variant.name, "slow-group", res["slow-group"])
        res["paced-guild"] = await paced_phase(control, col, meter, "guild", sizes, channels)
        log(variant.name, "paced-guild", res["paced-guild"])
        res["paced-group"] = await paced_phase(control, col, meter, "group", sizes, channels)
        log(variant.name, "paced-group", res["paced-group"])
    finally:
        await bot.stop()
    # conversations: a fresh process with room for U waiting handlers
    # qgactor sync: a def handler waiting in a conversation holds its worker thread, so U open
    # conversations need handler_threads >= U (async handlers step out of their dispatcher slot
    # while they wait, so the async variant runs with the default settings)
    extra = ([str(sizes.users + 100)] if variant.script == "qgactor_bot.py" and variant.mode == "sync"
             and not default_limits else [])
    bot = await start_bot(variant, "conv", info, workdir, control, extra)
    try:
        def meter() -> Meter:
            return Meter(bot, emu)
        res["conv"] = await conv_phase(control, col, meter, sizes, channels)
        issue = variant.known_issue("conv")
        if issue and res["conv"]["handled"] < sizes.users:
            res["conv"]["known_issue"] = issue
        log(variant.name, "conv", res["conv"])
    finally:
        await bot.stop()
    return res


async def emulator_ceiling(info: dict[str, Any], emu: Child, control: ControlClient, sizes: Sizes,
                           workdir: Path) -> dict[str, Any]:
    base = [info["api_url"], info["token_url"], info["appid"], info["secret"]]
    raw = await start_child([str(PEERS / "raw_client.py"), "events", str(sizes.ceiling_events), *base],
                            workdir, "raw-events")
    try:
        await wait_for_line(raw, r"READY", 30)
        await control.wait_for_sessions(1, timeout=10)
        cpu0 = cpu_s(emu.ps)
        t0 = time.time()
        await control.send_burst(sizes.ceiling_events, "group", "ceiling")
        done = float((await wait_for_line(raw, r"DONE (\S+)", 120)).group(1))
        events_per_s = sizes.ceiling_events / (done - t0)
        emu_cpu = cpu_s(emu.ps) - cpu0
    finally:
        await raw.stop()
    # one control call per message (how scenario 4 injects its 2 x U messages: 8 callers)
    n_ctl = max(40, sizes.users // 2)
    raw = await start_child([str(PEERS / "raw_client.py"), "events", str(n_ctl), *base], workdir, "raw-control")
    try:
        await wait_for_line(raw, r"READY", 30)
        await control.wait_for_sessions(1, timeout=10)
        t0 = time.time()
        queue = list(range(n_ctl))

        async def worker() -> None:
            while queue:
                queue.pop()
                await control.send_message("group", "ceiling")

        async with trio.open_nursery() as n:
            for _ in range(8):
                n.start_soon(worker)
        done = float((await wait_for_line(raw, r"DONE (\S+)", 120)).group(1))
        control_per_s = n_ctl / (done - t0)
    finally:
        await raw.stop()
    rest = await start_child([str(PEERS / "raw_client.py"), "rest", str(sizes.ceiling_rest_s), *base],
                             workdir, "raw-rest")
    try:
        m = await wait_for_line(rest, r"DONE (\d+) (\S+)", 60 + sizes.ceiling_rest_s)
        rest_per_s = int(m.group(1)) / float(m.group(2))
    finally:
        await rest.stop()
    return {"push_events_per_s": events_per_s, "push_emu_cpu_s": emu_cpu, "reply_rest_per_s": rest_per_s,
            "control_inject_per_s": control_per_s}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("qgactor", "qg-botsdk", "qq-botpy", "trio", "httpx", "aiohttp", "hypercorn"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = "not installed"
    return {"nproc": os.cpu_count(), "cpu": model, "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": sys.version.split()[0], "load_avg": os.getloadavg(), "versions": versions}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    sizes = SMOKE if args.smoke else FULL
    if args.events:
        sizes = attrs.evolve(sizes, events=args.events)
    if args.users:
        sizes = attrs.evolve(sizes, users=args.users)
    only = [v for v in VARIANTS if not args.only or any(o in v.name for o in args.only)]
    report: dict[str, Any] = {"mode": "smoke" if args.smoke else "full", "sizes": attrs.asdict(sizes),
                              "machine": machine(), "variants": {}, "skipped": {}}

    def log(name: str, phase: str, fig: dict[str, Any]) -> None:
        short = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in fig.items()
                 if k in ("handled", "sent", "events_per_s", "p50_ms", "p99_ms", "bot_cpu_s", "emu_busy", "rss_mb")}
        print(f"  {name:16} {phase:12} {short}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="qgactor-e2e-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        emu = await start_child([str(HERE / "e2e_emulator.py"), "--users", str(sizes.users),
                                 "--channels", str(CHANNELS)], workdir, "emulator")
        try:
            base = (await wait_for_line(emu, r"EMULATOR (\S+)", 60)).group(1)
            async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=16)) as http:
                control = ControlClient(base, client=http)
                info = await control.info()
                info["api_url"], info["token_url"] = info["base_url"], info["token_url"]
                report["ceiling"] = await emulator_ceiling(info, emu, control, sizes, workdir)
                channels = Channels()  # shared: a channel is reused only after all others
                print(f"  emulator ceiling {report['ceiling']}", file=sys.stderr, flush=True)
                for variant in only:
                    why = variant.missing()
                    if why:
                        report["skipped"][variant.name] = why
                        print(f"  {variant.name}: skipped ({why})", file=sys.stderr)
                        continue
                    try:
                        report["variants"][variant.name] = await run_variant(
                            variant, info, emu, control, sizes, workdir, log, channels, args.default_limits)
                    except Exception as exc:
                        report["variants"][variant.name] = {"error": f"{type(exc).__name__}: {exc}"}
                        print(f"  {variant.name}: FAILED {exc}", file=sys.stderr, flush=True)
        finally:
            await emu.stop()
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", help="tiny sizes, every variant (< 60 s)")
    parser.add_argument("--events", type=int, help="events per burst (default 30 smoke / 3000 full)")
    parser.add_argument("--users", type=int, help="conversations (default 10 smoke / 1000 full)")
    parser.add_argument("--only", action="append", help="run variants whose name contains this")
    parser.add_argument("--json", help="write the raw figures to this file")
    parser.add_argument("--default-limits", action="store_true",
                        help="run qgactor sync's conversations with the default 16 worker threads too")
    parser.add_argument("--workdir", help="keep the processes' logs here (default: a temporary directory)")
    ns = parser.parse_args()
    result = trio.run(main, ns)
    if ns.json:
        Path(ns.json).write_text(json.dumps(result, indent=2, default=str))
    print(table(result))
    failed = [n for n, r in result["variants"].items() if "error" in r]
    sys.exit(1 if failed else 0)
