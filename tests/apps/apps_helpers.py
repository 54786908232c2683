"""Helpers for the apps tests: run the real ``qgactor`` executable in a subprocess.

(A uniquely named module: test files import it directly; a plain ``conftest`` import could pick
up another directory's conftest when the whole suite runs.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

QGACTOR = Path(sys.executable).with_name("qgactor")
REPO = Path(__file__).resolve().parents[2]


def qgactor_env(**extra: str) -> dict[str, str]:
    """A clean environment for a qgactor subprocess: no colours, no credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QGACTOR_", "PYTEST_"))}
    env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_qgactor(*args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 30.0,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``qgactor ARGS`` to completion and return the result (text mode)."""
    return subprocess.run(
        [str(QGACTOR), *args],
        cwd=cwd,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or qgactor_env(),
    )


def interrupt(proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 30.0) -> int:
    """Ctrl-C a running ``qgactor`` subprocess and return its exit code (killed, and the
    ``TimeoutExpired`` re-raised, if it does not stop within ``timeout`` seconds)."""
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
