"""CI smoke run of the end-to-end benchmark (``benchmarks/e2e.py --smoke``).

It must work, not be fast: every variant (qgactor async and sync, qg-botsdk async and sync,
qq-botpy) handles every event of every phase against one emulator process, and the table is
printed. A peer is skipped only when its package is not importable; a phase a peer cannot pass
because of a documented defect of that peer (``KNOWN_ISSUES`` in the script) must be reported
as such in the table, never silently.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "e2e.py"
PHASES = ("echo-guild", "echo-group", "slow-group", "paced-guild", "paced-group", "conv")
VARIANTS = {"qgactor async": None, "qgactor sync": None, "qg-botsdk async": "qg_botsdk",
            "qg-botsdk sync": "qg_botsdk", "qq-botpy": "botpy"}


@pytest.mark.timeout(180)
def test_smoke_every_variant_handles_every_event(tmp_path: Path) -> None:
    out = tmp_path / "e2e.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--json", str(out)],
                          capture_output=True, text=True, timeout=170, cwd=str(tmp_path))
    log = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, log
    assert "E2E BENCHMARK (smoke" in proc.stdout, log
    for title in ("1 echo guild (burst)", "2 echo group (burst)", "3 slow handler 10 ms (burst)",
                  "4 conversations"):
        assert f"### {title}" in proc.stdout, log
    report = json.loads(out.read_text())
    ceiling = report["ceiling"]
    assert ceiling["push_events_per_s"] > 0 and ceiling["reply_rest_per_s"] > 0
    sizes = report["sizes"]
    for name, module in VARIANTS.items():
        if module is not None and importlib.util.find_spec(module) is None:
            assert name in report["skipped"] and module in report["skipped"][name]
            continue
        assert name not in report["skipped"], f"{name} skipped although {module} is importable"
        res = report["variants"][name]
        assert "error" not in res, (name, res.get("error"), log)
        for phase in PHASES:
            fig = res[phase]
            want = sizes["users"] if phase == "conv" else sizes["paced"] if phase.startswith("paced") \
                else sizes["events"]
            assert fig["sent"] == want, (name, phase, fig)
            if fig.get("known_issue"):
                # an upstream defect of that peer: reported in the table, not a pass
                assert name.startswith("qg-botsdk") and phase == "conv", (name, phase, fig)
                assert "peer defect" in proc.stdout
                continue
            assert fig["handled"] == want, (name, phase, fig, log)
            assert fig.get("rejected", 0) == 0, (name, phase, fig)
            assert fig["p50_ms"] > 0 and fig["p99_ms"] >= fig["p50_ms"], (name, phase, fig)
            assert fig["bot_cpu_s"] >= 0 and fig["peak_rss_mb"] > 0, (name, phase, fig)
        # qgactor itself has no excuse
        if name.startswith("qgactor"):
            assert not any(res[p].get("known_issue") for p in PHASES), (name, res)
