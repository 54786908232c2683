"""The result table of ``benchmarks/e2e.py``: every variant's figures and their ratio to
qgactor async's, per phase, with the emulator's ceiling in the header."""

from __future__ import annotations

import math
from typing import Any


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
