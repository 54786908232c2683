"""Benchmark: plugin reload time and the dispatch overhead of 50 loaded plugins.

Measures, in one process and without the network:

- ``PluginManager.reload`` of a small plugin (one command, a config file, a declared bus
  event): re-read the manifest, import the new code, swap registrations, ``on_unload`` /
  ``on_load``; median / p95 / max over N reloads (target: under 100 ms);
- edit on disk → new code answering, through the watcher (OS file events, 50 ms debounce);
- dispatch through the bot's real ``DispatchCore`` (parse → preprocessors → conversations →
  commands → handlers) of C2C events with 50 plugins loaded (each: one command and one message
  handler, so a plain message reaches 50 plugin handlers, each through its gate and its
  worker actor), against the same 100 components registered directly on the bot.

Run: ``python benchmarks/bench_plugins.py`` or ``--quick`` (a few seconds, for CI).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import trio

from qgactor.bot import Bot
from qgactor.bot.dispatch import DispatchCore
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.services import BotServices
from qgactor.plugins import PluginManager
from qgactor.runtime import open_actor_nursery

SMALL = '''
import attrs
from qgactor.plugins import EventSpec, Manifest, Plugin, command

__plugin__ = Manifest(version="1.0.{n}", description="a small plugin")


class Small(Plugin):
    events = [EventSpec("small.used", {{"who": str}})]

    @attrs.define
    class Config:
        word: str = "hi"
        """What to answer."""

    async def on_load(self):
        self.count = 0

    @command("small")
    async def small(self, msg):
        self.count += 1
        return "{n}:" + self.config.word
'''

MANY = '''
from qgactor.plugins import Plugin, command, on_event


class P{k}(Plugin):
    @command("c{k}")
    async def cmd(self, msg):
        self.bot.hits += 1

    @on_event(family="c2c_message")
    async def seen(self, msg):
        self.bot.hits += 1
'''


def c2c(i: int, text: str) -> InboundEvent:
    openid = f"U{i % 1000:031d}"
    return InboundEvent(
        "C2C_MESSAGE_CREATE",
        {"author": {"user_openid": openid, "id": openid}, "content": text, "id": f"M{i}",
         "timestamp": "2026-11-21T13:37:18+08:00"},
    )


def summary(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"median_ms": statistics.median(s) * 1000,
            "p95_ms": s[max(0, int(len(s) * 0.95) - 1)] * 1000, "max_ms": s[-1] * 1000}


async def bench_reload(root: Path, n: int, edits: int) -> dict[str, Any]:
    plugins = root / "reload"
    plugins.mkdir()
    (plugins / "small.py").write_text(SMALL.format(n=0))
    bot = Bot(appid="1", secret="s", session_store=":memory:")
    m = PluginManager(bot, plugins, namespace=f"bench_{uuid.uuid4().hex[:8]}")
    m.prepare()
    out: dict[str, Any] = {}
    async with open_actor_nursery(name="bench") as system:
        host = await system.spawn(m.service_spec())
        handler = next(c.handler for c in bot.registry.commands if c.name == "small")
        walls: list[float] = []
        inner: list[float] = []
        for i in range(1, n + 1):
            (plugins / "small.py").write_text(SMALL.format(n=i))
            t0 = time.perf_counter()
            result = await m.reload("small")
            walls.append(time.perf_counter() - t0)
            inner.append(result.seconds)
            assert result.ok, result
            assert await handler(None) == f"{i}:hi"
        out["reload (manager.reload)"] = summary(walls)
        # through the watcher: write the file, wait until the new code answers
        watcher = await system.spawn(m.watcher_spec())
        with trio.fail_after(5):
            await m.watcher_ready.wait()
        lat: list[float] = []
        for j in range(n + 1, n + 1 + edits):
            await trio.sleep(0.1)
            (plugins / "small.py").write_text(SMALL.format(n=j))
            t0 = time.perf_counter()
            with trio.fail_after(5):
                while await handler(None) != f"{j}:hi":
                    await trio.sleep(0.002)
            lat.append(time.perf_counter() - t0)
        out["edit on disk -> new code answering (watcher, OS events)"] = summary(lat)
        await system.stop(watcher)
        await system.stop(host)
    m.close()
    return out


async def bench_dispatch(root: Path, events: int, plugins_n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for mode in ("direct", "plugins"):
        bot = Bot(appid="1", secret="s", session_store=":memory:")
        bot.hits = 0  # type: ignore[attr-defined]
        manager = None
        if mode == "direct":
            for k in range(plugins_n):
                async def cmd(msg: Any) -> None:
                    bot.hits += 1  # type: ignore[attr-defined]

                async def seen(msg: Any) -> None:
                    bot.hits += 1  # type: ignore[attr-defined]

                bot.registry.add_command(_command(cmd, f"c{k}", owner=f"p{k}"))
                bot.registry.add_handler(seen, "c2c_message", owner=f"p{k}")
        else:
            d = root / "many"
            d.mkdir()
            for k in range(plugins_n):
                (d / f"p{k}.py").write_text(MANY.format(k=k))
            manager = PluginManager(bot, d, namespace=f"bench_{uuid.uuid4().hex[:8]}")
            manager.prepare()
        async with open_actor_nursery(name="bench") as system:
            host = await system.spawn(manager.service_spec()) if manager else None
            services = BotServices(bot=bot, settings=bot.settings, registry=bot.registry,
                                   sessions=bot.sessions, token=trio.lowlevel.current_trio_token(),
                                   thread_limiter=trio.CapacityLimiter(16))
            core = DispatchCore(services)
            for label, text, calls in (("command", f"/c{plugins_n // 2} hi", 1),
                                       ("plain message", "hello there", plugins_n)):
                bot.hits = 0  # type: ignore[attr-defined]
                for i in range(50):  # warm up
                    await core.process(c2c(10_000_000 + i, text))
                bot.hits = 0  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                for i in range(events):
                    await core.process(c2c(i if label == "command" else 5_000_000 + i, text))
                dt = time.perf_counter() - t0
                assert bot.hits == events * calls, (mode, label, bot.hits)  # type: ignore[attr-defined]
                results[f"{mode}: {label} ({calls} handler call(s)/event)"] = {
                    "events_per_s": events / dt, "us_per_event": dt / events * 1e6}
            if host is not None:
                await system.stop(host)
        if manager is not None:
            manager.close()
    for label in ("command (1 handler call(s)/event)",
                  f"plain message ({plugins_n} handler call(s)/event)"):
        d_us = results[f"direct: {label}"]["us_per_event"]
        p_us = results[f"plugins: {label}"]["us_per_event"]
        calls = 1 if label.startswith("command") else plugins_n
        results[f"overhead of plugins: {label}"] = {
            "us_per_event": p_us - d_us, "us_per_handler_call": (p_us - d_us) / calls}
    return results


def _command(fn: Any, word: str, owner: str) -> Any:
    from qgactor.bot.commands import Command

    return Command.create(fn, word, owner=owner)


async def main(quick: bool) -> None:
    n, edits, events = (10, 3, 300) if quick else (100, 10, 3000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"plugin reload ({n} reloads, {edits} watched edits)")
        for k, v in (await bench_reload(root, n, edits)).items():
            print(f"  {k}: " + ", ".join(f"{a} {b:.1f}" for a, b in v.items()))
        print(f"dispatch with 50 plugins ({events} events per case)")
        for k, v in (await bench_dispatch(root, events, 50)).items():
            print(f"  {k}: " + ", ".join(f"{a} {b:,.1f}" for a, b in v.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for CI")
    trio.run(main, parser.parse_args().quick)
