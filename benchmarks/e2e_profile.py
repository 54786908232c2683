"""Profile qgactor's echo path end to end (the bot process of ``benchmarks/e2e.py``).

Starts the benchmark emulator, runs the qgactor echo bot under cProfile (exact per-function
costs) or pyinstrument (sampled call tree), pushes N events and prints where the bot's time
went. The bot runs in a child interpreter; SIGINT (Ctrl-C) ends it and writes the profile.

    python benchmarks/e2e_profile.py [--events 2000] [--scene group|guild] [--mode async|sync]
                                     [--tool cprofile|pyinstrument] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r'''
import sys
if {keepalive!r}:
    # A/B experiment: give the bot's httpx client as many keep-alive connections as
    # qgactor allows requests in flight (httpx's default keeps only 20)
    import httpx
    _init = httpx.AsyncClient.__init__
    def _patched(self, *a, **kw):
        kw.setdefault("limits", httpx.Limits(max_connections={keepalive!r}, max_keepalive_connections={keepalive!r}))
        _init(self, *a, **kw)
    httpx.AsyncClient.__init__ = _patched

sys.path.insert(0, {peers!r})
import qgactor_bot
bot = qgactor_bot.build("echo", {mode!r}, *{creds!r})
_run = bot.run
def _quiet_run():
    try:
        _run()
    except BaseException as exc:  # Bot.run lets Ctrl-C escape wrapped in an exception group
        if not (isinstance(exc, BaseExceptionGroup) and exc.subgroup(KeyboardInterrupt)):
            raise
bot.run = _quiet_run
tool = {tool!r}
if {gctune!r}:
    # experiment: what the process owner could do after startup (qgactor itself does not)
    import gc
    _threshold, _freeze = {gctune!r}
    if _threshold:
        gc.set_threshold(*_threshold)
    if _freeze:
        _orig_build = bot._build_tree
        async def _build_and_freeze(*a, **kw):
            await _orig_build(*a, **kw)
            gc.collect()
            gc.freeze()
        bot._build_tree = _build_and_freeze
if {gcstats!r}:
    # time spent in the cyclic garbage collector, per generation; SIGUSR1 takes a snapshot
    # (the driver sends one as the burst starts and one as it ends)
    import atexit, gc, signal, time as _t
    _gc = {{"start": 0.0, "time": [0.0, 0.0, 0.0], "count": [0, 0, 0], "snaps": []}}
    def _gc_cb(phase, info):
        if phase == "start":
            _gc["start"] = _t.process_time()
        else:
            g = info["generation"]
            _gc["time"][g] += _t.process_time() - _gc["start"]
            _gc["count"][g] += 1
    gc.callbacks.append(_gc_cb)
    signal.signal(signal.SIGUSR1, lambda *a: _gc["snaps"].append((list(_gc["time"]), list(_gc["count"]))))
    atexit.register(lambda: open({out!r} + "/gc.txt", "w").write(repr(_gc)))
if tool == "cprofile":
    import cProfile, time
    prof = cProfile.Profile(time.process_time)  # CPU time: the 2 cores are shared with the emulator
    prof.enable()
    try:
        bot.run()
    finally:
        prof.disable()
        prof.dump_stats({out!r} + "/bot.prof")
elif tool == "none":
    import os, resource
    try:
        bot.run()
    finally:
        r = resource.getrusage(resource.RUSAGE_SELF)
        open({out!r} + "/cpu.txt", "w").write(str(r.ru_utime + r.ru_stime))
else:
    import pyinstrument
    prof = pyinstrument.Profiler(interval=0.0005, async_mode="disabled")
    prof.start()
    try:
        bot.run()
    finally:
        prof.stop()
        open({out!r} + "/bot.txt", "w").write(prof.output_text(unicode=False, color=False, show_all=False))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--scene", default="group", choices=("group", "guild"))
    parser.add_argument("--mode", default="async", choices=("async", "sync"))
    parser.add_argument("--tool", default="cprofile", choices=("cprofile", "pyinstrument"))
    parser.add_argument("--out", help="directory for bot.prof / bot.txt (default: a temp dir)")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--keepalive", type=int, default=0,
                        help="experiment: patch httpx.AsyncClient to use (and keep alive) at most this many connections")
    parser.add_argument("--no-profile", action="store_true", help="run without a profiler (A/B timing)")
    parser.add_argument("--gc-threshold", help="experiment: gc.set_threshold(...) in the bot, e.g. 10000,20,20")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="experiment: gc.collect(); gc.freeze() in the bot once its actor tree is up")
    parser.add_argument("--gc-stats", action="store_true",
                        help="also report the bot's time in the cyclic garbage collector (whole run)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="qgactor-prof-"))
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    emu = subprocess.Popen([py, str(HERE / "e2e_emulator.py"), "--channels", "2000"], stdout=subprocess.PIPE,
                           text=True)
    bot = None
    try:
        assert emu.stdout is not None
        base = re.search(r"EMULATOR (\S+)", emu.stdout.readline()).group(1)  # type: ignore[union-attr]
        creds = (base, base + "/app/getAppAccessToken", "102000001", "EmuSecret0123456789abcdefGHIJKLM")
        code = CHILD.format(peers=str(HERE / "peers"), mode=args.mode, creds=creds, out=str(out),
                            tool="none" if args.no_profile else args.tool, keepalive=args.keepalive,
                            gcstats=args.gc_stats,
                            gctune=(tuple(int(x) for x in args.gc_threshold.split(",")) if args.gc_threshold else None,
                                    args.gc_freeze) if (args.gc_threshold or args.gc_freeze) else None)
        bot = subprocess.Popen([py, "-c", code], cwd=str(out))
        import httpx
        import trio

        from qgactor.emulator import ControlClient

        import psutil

        proc = psutil.Process(bot.pid)

        def cpu() -> float:
            t = proc.cpu_times()
            return t.user + t.system

        def switches() -> int:
            """Context switches of all the bot's threads so far (live threads only)."""
            total = 0
            for status in Path(f"/proc/{bot.pid}/task").glob("*/status"):
                try:
                    for line in status.read_text().splitlines():
                        if line.endswith("ctxt_switches") or "ctxt_switches:" in line:
                            total += int(line.split()[-1])
                except OSError:
                    pass
            return total

        burst_cpu = [0.0, 0]

        async def drive() -> float:
            async with httpx.AsyncClient(timeout=120) as http:
                c = ControlClient(base, client=http)
                await c.wait_for_sessions(1, timeout=60)
                await c.send_burst(5, "group", "warm")
                while len(await c.outbox()) < 5:
                    await trio.sleep(0.05)
                if args.gc_stats:
                    bot.send_signal(signal.SIGUSR1)
                c0, s0 = cpu(), switches()
                t0 = time.time()
                if args.scene == "guild":
                    async with trio.open_nursery() as n:
                        for i in range(0, args.events, 5):
                            n.start_soon(lambda i=i: c.send_burst(5, "guild", "echo", channel=str(700000 + i // 5)))
                else:
                    await c.send_burst(args.events, "group", "echo")
                while len(await c.outbox()) < args.events + 5:
                    await trio.sleep(0.1)
                burst_cpu[0] = cpu() - c0
                burst_cpu[1] = switches() - s0
                if args.gc_stats:
                    bot.send_signal(signal.SIGUSR1)
                return args.events / (time.time() - t0)

        rate = trio.run(drive)
        print(f"{args.events} {args.scene} events echoed at {rate:.0f}/s"
              + (" (under the profiler)" if not args.no_profile else ""))
        print(f"bot CPU during the burst: {burst_cpu[0] * 1000 / args.events:.3f} ms/event"
              + (" (profiler overhead included)" if not args.no_profile else "")
              + f"; {burst_cpu[1] / args.events:.2f} context switches/event")
    finally:
        if bot is not None:
            bot.send_signal(signal.SIGINT)
            bot.wait(30)
        emu.terminate()
        emu.wait(10)
    if args.gc_stats and (out / "gc.txt").exists():
        import ast

        gcs = ast.literal_eval((out / "gc.txt").read_text())
        print("bot time in the garbage collector (whole run, startup included): "
              + ", ".join(f"gen{g} {gcs['count'][g]} runs {gcs['time'][g] * 1000:.0f} ms" for g in range(3)))
        if len(gcs["snaps"]) >= 2:
            (t0_, n0_), (t1_, n1_) = gcs["snaps"][0], gcs["snaps"][1]
            spent = sum(t1_) - sum(t0_)
            print(f"... during the burst: {spent * 1e6 / args.events:.1f} us/event in the collector "
                  f"({spent / burst_cpu[0] * 100:.0f} % of the bot's CPU); per generation "
                  + ", ".join(f"gen{g} {n1_[g] - n0_[g]} runs {(t1_[g] - t0_[g]) * 1000:.0f} ms" for g in range(3)))
    if args.no_profile:
        cpu = float((out / "cpu.txt").read_text())
        print(f"bot CPU {cpu:.2f} s in total (startup included): {cpu * 1000 / args.events:.2f} ms/event")
        print("(the burst figure above is the one to compare: process CPU from the first echo to the last)")
    elif args.tool == "cprofile":
        import pstats

        stats = pstats.Stats(str(out / "bot.prof"))
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    else:
        print((out / "bot.txt").read_text())
    print(f"profile written to {out}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
