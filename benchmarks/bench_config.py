"""Benchmark: generate / load / save of ``qgactor.toml`` and config hot-reload latency.

Measures, on the generated ``AppConfig`` file:

- first run: generate the commented file, write it atomically (fsync), load it;
- parse + validate the file (tomllib + schema + attrs validators);
- save: re-render with tomlkit keeping comments, atomic write with fsync;
- the polling fingerprint of the file (stat + read + sha256);
- edit (editor-style rename) → subscriber called, with OS events and with polling
  (debounce 50 ms, poll every 100 ms).

Run: ``python benchmarks/bench_config.py`` or ``--quick`` (a few seconds, for CI).
Figures: ``benchmarks/notes/config.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from qgactor.config import ConfigManager, fingerprint
from qgactor.config.app import app_config_file


def timeit(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    """Median and p95 of ``n`` calls of ``fn``, in ms."""
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    samples.sort()
    return statistics.median(samples) * 1e3, samples[max(0, int(len(samples) * 0.95) - 1)] * 1e3


def bench_file(d: Path, n: int) -> None:
    """Generate, parse, save and fingerprint ``d/qgactor.toml``."""
    path = d / "qgactor.toml"
    f = app_config_file(path)

    def first_run() -> None:
        path.unlink(missing_ok=True)
        f.load()

    print("first run (generate + atomic write + load): median %.2f ms, p95 %.2f ms"
          % timeit(first_run, n))
    data = path.read_bytes()
    print(f"parse + validate qgactor.toml ({len(data)} bytes): median %.2f ms, p95 %.2f ms"
          % timeit(lambda: f.parse(data), n))
    value = f.load().value
    counter = [0]

    def save() -> None:
        counter[0] += 1
        f.save(attrs.evolve(value, plugins=attrs.evolve(value.plugins, dir=f"p{counter[0]}")))

    print("save (render keeping comments + fsync'd atomic write): median %.2f ms, p95 %.2f ms"
          % timeit(save, n))
    print("poll fingerprint (stat + read + sha256): median %.3f ms"
          % timeit(lambda: fingerprint(path), n)[0])


async def latency(d: Path, watch: str, edits: int) -> tuple[float, float]:
    """Median and max (ms) from an editor-style rename of the file to the subscriber call."""
    path = d / "qgactor.toml"
    m = ConfigManager(app_config_file(path), watch=watch, debounce=0.05, poll_interval=0.1)
    m.load()
    seen: list[float] = []
    got = trio.Event()

    def on_change(_change: Any) -> None:
        seen.append(time.perf_counter())
        got.set()

    m.subscribe(on_change)
    out: list[float] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(m.run)
        for _ in range(edits):
            got = trio.Event()
            text = path.read_text()
            cur = m.current.logging.level
            new = "DEBUG" if cur != "DEBUG" else "INFO"
            tmp = d / "edit.swp"
            tmp.write_text(text.replace(f'level = "{cur}"', f'level = "{new}"'))
            t = time.perf_counter()
            os.replace(tmp, path)
            with trio.fail_after(5):
                await got.wait()
            out.append(seen[-1] - t)
        nursery.cancel_scope.cancel()
    return statistics.median(out) * 1e3, max(out) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for CI")
    quick = parser.parse_args().quick
    n, edits = (20, 5) if quick else (300, 20)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        bench_file(d, n)
        for watch in ("events", "poll"):
            how = "OS events" if watch == "events" else "polling every 100 ms"
            med, mx = trio.run(latency, d, watch, edits)
            print(f"edit -> subscriber called ({how}, debounce 50 ms): median {med:.0f} ms, "
                  f"max {mx:.0f} ms")


if __name__ == "__main__":
    main()
