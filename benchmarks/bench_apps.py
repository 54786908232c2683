"""Apps benchmarks: CLI start-up, `qgactor run` time to ready, and the testing kit's round trip.

    python benchmarks/bench_apps.py          # full (about a minute)
    python benchmarks/bench_apps.py --quick  # a few seconds, for CI

Figures: median wall time of `qgactor --help`; median time from starting `qgactor run
--no-console` in a fresh project to the "bot ready" log line (embedded emulator, one shard);
`BotChat.say()` round trips per second (user message injected into the emulator → gateway →
dispatcher → command → REST reply → outbox) on one connection, sequential.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

QGACTOR = Path(sys.executable).with_name("qgactor")
ENV = {**os.environ, "NO_COLOR": "1"}


def cli_startup(runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(QGACTOR), "--help"], capture_output=True, check=True, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_to_ready(runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            proc = subprocess.Popen([str(QGACTOR), "run", "--no-console", "-C", tmp], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
            assert proc.stderr is not None
            for line in proc.stderr:
                if "bot ready" in line:
                    times.append(time.perf_counter() - start)
                    break
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    return statistics.median(times)


async def say_rate(messages: int) -> float:
    from qgactor import Bot
    from qgactor.emulator import open_emulator
    from qgactor.testing import open_bot_chat

    bot = Bot(session_store=":memory:")

    @bot.on_command("ping")
    async def ping(msg):
        await msg.reply("pong")

    async with open_emulator(port=0) as emu, open_bot_chat(emu, bot) as chat:
        await chat.say("/ping", scene="c2c")  # warm up
        start = time.perf_counter()
        for i in range(messages):
            reply = await chat.say("/ping", scene="c2c" if i % 2 else "group")
            assert reply.text == "pong"
        return messages / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds, for CI")
    args = parser.parse_args()
    runs, messages = (1, 20) if args.quick else (5, 300)
    print(f"qgactor --help: {cli_startup(runs) * 1000:.0f} ms (median of {runs})")
    print(f"qgactor run → bot ready (embedded emulator): {run_to_ready(runs) * 1000:.0f} ms (median of {runs})")
    rate = trio.run(say_rate, messages)
    print(f"BotChat.say round trips: {rate:.0f}/s ({messages} sequential, one bot, one shard)")


if __name__ == "__main__":
    main()
