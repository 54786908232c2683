"""End-to-end benchmark: qgactor vs qg-botsdk 4.x vs qq-botpy 1.x on the same emulator.

One emulator process (``benchmarks/e2e_emulator.py``) serves every bot; each bot runs in its
own process (``benchmarks/peers/*.py``) so CPU seconds and peak RSS are that bot's alone.
Scenarios (one run measures all of them for every variant):

1. ``echo-guild``: a burst of N guild @-messages, the bot replies to each (passive reply).
   Spread over N/5 channels: the platform allows 5 messages/s per channel.
2. ``echo-group``: the same with group @-messages (``msg_seq`` replies).
3. ``slow-group``: each handler first does 10 ms of I/O (``trio.sleep``/``asyncio.sleep``,
   ``time.sleep`` for sync handlers), then replies: shows handler concurrency.
4. ``conv``: U distinct users (each in their own guild channel) each open a conversation (``/guess`` → "pick a number" →
   answer → "you picked …"); all U are open at once before any answer is sent.

Latency is measured by the emulator: ``outbox entry time`` (reply received) minus
``reply_to.time`` (the inbound record made when the event was built and pushed). Bursts
measure throughput (their latency is mostly queueing); a paced phase (R events/s offered,
well under every variant's capacity) measures the latency of one event.

The emulator's own ceiling is measured in the same run by a raw client process: dispatches/s
pushed to a client that only counts frames, and reply-REST requests/s (16 keep-alive workers).

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
import re
import subprocess
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


SMOKE = Sizes(events=30, paced=10, rate=50.0, users=10, ceiling_events=200, ceiling_rest_s=0.5, stall=4.0)
FULL = Sizes(events=3000, paced=300, rate=50.0, users=1000, ceiling_events=10000, ceiling_rest_s=3.0,
             stall=30.0)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (0..100) by nearest rank; nan for no values."""
    if not values:
        return math.nan
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def mem_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of ``pid`` in kB (Linux ``/proc``)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


def cpu_s(proc: psutil.Process) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    t = proc.cpu_times()
    return t.user + t.system


# ------------------------------------------------------------------------------ processes
class Child:
    """A subprocess with its output in a log file and psutil access."""

    def __init__(self, proc: trio.Process, log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path
        self.ps = psutil.Process(proc.pid)

    def tail(self, lines: int = 30) -> str:
        """The last lines of the child's output."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self) -> None:
        """Terminate (then kill) the child and wait for it."""
        if self.proc.returncode is None:
            self.proc.terminate()
            with trio.move_on_after(5):
                await self.proc.wait()
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def start_child(args: list[str], workdir: Path, name: str) -> Child:
    log_path = workdir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.log"
    log = open(log_path, "wb")
    try:
        proc = await trio.lowlevel.open_process([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT,
                                                cwd=str(workdir))
    finally:
        log.close()
    return Child(proc, log_path)


async def wait_for_line(child: Child, pattern: str, timeout: float) -> re.Match[str]:
    """Wait until the child's output matches ``pattern``; RuntimeError on exit/timeout."""
    rx = re.compile(pattern)
    with trio.move_on_after(timeout):
        while True:
            m = rx.search(child.log_path.read_text(errors="replace"))
            if m:
                return m
            if child.proc.returncode is not None or child.proc.poll() is not None:
                break
            await trio.sleep(0.02)
    raise RuntimeError(f"{child.log_path.name}: no {pattern!r} within {timeout}s:\n{child.tail()}")


# ------------------------------------------------------------------------------ measurement
class Collector:
    """Reads the emulator's outbox incrementally (only new entries per poll)."""

    def __init__(self, control: ControlClient) -> None:
        self.control = control
        self.after = 0

    async def mark(self) -> None:
        """Skip everything recorded so far."""
        entries = await self.control.outbox(accepted=None, after=self.after)
        if entries:
            self.after = entries[-1]["n"]

    async def poll(self) -> list[dict[str, Any]]:
        """New outbox entries since the last poll."""
        entries = await self.control.outbox(accepted=None, after=self.after)
        if entries:
            self.after = entries[-1]["n"]
        return entries

    async def collect(self, want: int, stall: float, match: Any = None) -> list[dict[str, Any]]:
        """Entries until ``want`` accepted replies (matching ``match``) arrived or ``stall`` s
        pass without a new one; refused sends are always kept."""
        got: list[dict[str, Any]] = []
        ok = 0
        last_new = time.monotonic()
        while ok < want and time.monotonic() - last_new < stall:
            new = await self.poll()
            if new:
                last_new = time.monotonic()
                for e in new:
                    if not e["accepted"]:
                        got.append(e)  # a refusal is always this phase's business
                    elif match is None or match(e):
                        got.append(e)
                        ok += e["reply_to"] is not None
            else:
                await trio.sleep(0.05)
        return got


def summarize(entries: list[dict[str, Any]], sent: int) -> dict[str, Any]:
    """Throughput and latency of a phase from its outbox entries (emulator timestamps)."""
    ok = [e for e in entries if e["accepted"] and e["reply_to"] is not None]
    lat = [(e["time"] - e["reply_to"]["time"]) * 1000 for e in ok]
    out: dict[str, Any] = {"sent": sent, "handled": len(ok), "rejected": len(entries) - len(ok)}
    if ok:
        first = min(e["reply_to"]["time"] for e in ok)
        last = max(e["time"] for e in ok)
        out["events_per_s"] = len(ok) / max(last - first, 1e-6)
        out["p50_ms"] = percentile(lat, 50)
        out["p99_ms"] = percentile(lat, 99)
        out["wall_s"] = last - first
    if len(ok) < len(entries):
        out["errors"] = sorted({str(e["status"]) + " " + json.dumps(e["response"])[:120]
                                for e in entries if not e["accepted"]})[:3]
    return out


class Meter:
    """CPU of the bot and of the emulator across one phase, and the bot's memory after it."""

    def __init__(self, bot: Child, emu: Child) -> None:
        self.bot, self.emu = bot, emu

    def __enter__(self) -> "Meter":
        self.t0 = time.monotonic()
        self.bot_cpu0, self.emu_cpu0 = cpu_s(self.bot.ps), cpu_s(self.emu.ps)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.monotonic() - self.t0
        self.bot_cpu = cpu_s(self.bot.ps) - self.bot_cpu0
        self.emu_cpu = cpu_s(self.emu.ps) - self.emu_cpu0
        self.mem = mem_kb(self.bot.proc.pid)

    def figures(self) -> dict[str, Any]:
        return {"bot_cpu_s": self.bot_cpu, "emu_cpu_s": self.emu_cpu, "phase_wall_s": self.wall,
                "emu_busy": self.emu_cpu / self.wall if self.wall else math.nan,
                "rss_mb": self.mem.get("VmRSS", 0) / 1024, "peak_rss_mb": self.mem.get("VmHWM", 0) / 1024}


# ------------------------------------------------------------------------------ phases
def answering(tag: str) -> Any:
    """Outbox filter: replies to inbound messages whose text starts with ``tag`` (so a late
    reply of an earlier phase is never counted in this one)."""
    def match(e: dict[str, Any]) -> bool:
        content = (e.get("reply_to") or {}).get("content") or ""
        return content.split("> ", 1)[-1].strip().startswith(tag + " ")
    return match


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
    """``count`` messages server-side: one burst for groups; for guilds 5 per channel over
    ``count / 5`` channels (8 concurrent control calls)."""
    if scene != "guild":
        await control.send_burst(count, scene, content)
        return
    chunks = [min(PER_CHANNEL, count - i) for i in range(0, count, PER_CHANNEL)]
    jobs = [(channels.take(), k) for k in chunks]

    async def worker() -> None:
        while jobs:
            cid, k = jobs.pop()
            await control.send_burst(k, "guild", content, channel=cid)

    async with trio.open_nursery() as n:
        for _ in range(8):
            n.start_soon(worker)


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
    bot = await start_child(args, workdir, f"{variant.name}-{scenario}")
    try:
        async with trio.open_nursery() as n:
            async def died() -> None:
                await bot.proc.wait()
                raise RuntimeError(f"{variant.name} exited with {bot.proc.returncode}:\n{bot.tail()}")
            n.start_soon(died)
            await control.wait_for_sessions(1, timeout=60)
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
    # qgactor: a handler waiting in a conversation keeps its dispatcher slot (and thread), so U
    # open conversations need max_concurrent_handlers (and handler_threads) >= U
    extra = [str(sizes.users + 100)] if variant.script == "qgactor_bot.py" and not default_limits else []
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


# ------------------------------------------------------------------------------ table
PHASES = [("echo-guild", "1 echo guild (burst)"), ("echo-group", "2 echo group (burst)"),
          ("paced-guild", "1 echo guild (paced)"), ("paced-group", "2 echo group (paced)"),
          ("slow-group", "3 slow handler 10 ms (burst)"), ("conv", "4 conversations")]


def _fmt(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.{digits}f}"


def _ratio(v: Any, ref: Any) -> str:
    if not isinstance(v, (int, float)) or not isinstance(ref, (int, float)) or not ref or math.isnan(v) \
            or math.isnan(ref):
        return ""
    return f" ({v / ref:.2f}x)"


def table(report: dict[str, Any]) -> str:
    """The markdown table: each variant's figures, and as a ratio to qgactor async."""
    variants = report["variants"]
    ref_name = "qgactor async"
    ref = variants.get(ref_name, {})
    c = report.get("ceiling", {})
    lines = [f"E2E BENCHMARK ({report['mode']}; N={report['sizes']['events']} events per burst, "
             f"{report['sizes']['paced']} paced at {report['sizes']['rate']:g}/s, "
             f"{report['sizes']['users']} conversations)",
             f"emulator ceiling: pushes {_fmt(c.get('push_events_per_s'))} events/s to a raw client; "
             f"answers {_fmt(c.get('reply_rest_per_s'))} group-send REST calls/s (16 keep-alive aiohttp workers); "
             f"injects {_fmt(c.get('control_inject_per_s'))} messages/s by control calls (8 callers: the "
             "bound of scenario 4, whose 2 x U messages are injected that way)",
             "ratios in parentheses: variant / qgactor async (throughput: higher is better; "
             "latency, CPU, RSS: lower is better). emu busy = emulator CPU s / wall s (1.0 = one core "
             "saturated: the emulator is the bottleneck)", ""]
    notes: set[str] = set()
    for key, title in PHASES:
        lines.append(f"### {title}")
        lines.append("| variant | handled | events/s | p50 ms | p99 ms | bot CPU s | CPU ms/event | "
                     "RSS MB | emu busy |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        r0 = ref.get(key, {})
        for name, res in variants.items():
            if "error" in res:
                lines.append(f"| {name} | FAILED: {res['error'][:80]} |||||||")
                continue
            r = res.get(key, {})
            if r.get("known_issue"):
                lines.append(f"| {name} | {r.get('handled', 0)}/{r.get('sent', 0)}: n/a, peer defect "
                             "(see below) |||||||")
                notes.add(f"{name}, {title}: {r['known_issue']}")
                continue
            per = r.get("bot_cpu_s", math.nan) * 1000 / r["handled"] if r.get("handled") else math.nan
            per0 = r0.get("bot_cpu_s", math.nan) * 1000 / r0["handled"] if r0.get("handled") else math.nan
            rss_key = "rss_open_mb" if key == "conv" else "rss_mb"
            lines.append(
                f"| {name} | {r.get('handled', 0)}/{r.get('sent', 0)} "
                f"| {_fmt(r.get('events_per_s'))}{_ratio(r.get('events_per_s'), r0.get('events_per_s'))} "
                f"| {_fmt(r.get('p50_ms'), 1)}{_ratio(r.get('p50_ms'), r0.get('p50_ms'))} "
                f"| {_fmt(r.get('p99_ms'), 1)}{_ratio(r.get('p99_ms'), r0.get('p99_ms'))} "
                f"| {_fmt(r.get('bot_cpu_s'), 2)}{_ratio(r.get('bot_cpu_s'), r0.get('bot_cpu_s'))} "
                f"| {_fmt(per, 2)}{_ratio(per, per0)} "
                f"| {_fmt(r.get(rss_key), 0)}{_ratio(r.get(rss_key), r0.get(rss_key))} "
                f"| {_fmt(r.get('emu_busy'), 2)} |")
        lines.append("")
    for note in sorted(notes):
        lines.append(f"note: {note}")
    for name, why in report["skipped"].items():
        lines.append(f"skipped {name}: {why}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", help="tiny sizes, every variant (< 60 s)")
    parser.add_argument("--events", type=int, help="events per burst (default 30 smoke / 3000 full)")
    parser.add_argument("--users", type=int, help="conversations (default 10 smoke / 1000 full)")
    parser.add_argument("--only", action="append", help="run variants whose name contains this")
    parser.add_argument("--json", help="write the raw figures to this file")
    parser.add_argument("--default-limits", action="store_true",
                        help="run qgactor's conversations with the default handler limits (64 slots)")
    parser.add_argument("--workdir", help="keep the processes' logs here (default: a temporary directory)")
    ns = parser.parse_args()
    result = trio.run(main, ns)
    if ns.json:
        Path(ns.json).write_text(json.dumps(result, indent=2, default=str))
    print(table(result))
    failed = [n for n, r in result["variants"].items() if "error" in r]
    sys.exit(1 if failed else 0)
