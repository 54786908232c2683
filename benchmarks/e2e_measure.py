"""Measurement helpers of ``benchmarks/e2e.py``: child processes, their CPU and memory, and
the emulator's outbox read incrementally into per-phase throughput and latency figures."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import trio

from qgactor.emulator import ControlClient


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
        seen = 0
        while ok < want and time.monotonic() - last_new < stall:
            # count first (cheap), fetch only when enough entries may be there: serialising
            # entries while the phase runs would load the emulator being measured
            count = await self.control.outbox_count(accepted=None, after=self.after)
            if count > seen:
                seen = count
                last_new = time.monotonic()
            if count < want - ok:
                await trio.sleep(0.05)
                continue
            seen = 0
            new = await self.poll()
            if new:
                last_new = time.monotonic()
                ok += self._keep(new, got, match)
            else:
                await trio.sleep(0.05)
        if ok < want:  # stalled: what did arrive still counts
            self._keep(await self.poll(), got, match)
        return got

    @staticmethod
    def _keep(new: list[dict[str, Any]], got: list[dict[str, Any]], match: Any) -> int:
        """Append this phase's entries of ``new`` to ``got``; return how many are accepted replies."""
        ok = 0
        for e in new:
            if not e["accepted"]:
                got.append(e)  # a refusal is always this phase's business
            elif match is None or match(e):
                got.append(e)
                ok += e["reply_to"] is not None
        return ok


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



def answering(tag: str) -> Any:
    """Outbox filter: replies to inbound messages whose text starts with ``tag`` (so a late
    reply of an earlier phase is never counted in this one)."""
    def match(e: dict[str, Any]) -> bool:
        content = (e.get("reply_to") or {}).get("content") or ""
        return content.split("> ", 1)[-1].strip().startswith(tag + " ")
    return match
