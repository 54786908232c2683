"""Acceptance: editing qgactor.toml while a real `qgactor run` runs. Logging changes apply at
once (level and per-logger levels); an invalid edit keeps the old config and names file, key
and line; other keys are reported as taking effect at the next start; the bot keeps running."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

from apps_helpers import QGACTOR, interrupt, qgactor_env


class LogReader:
    """Reads a subprocess's stderr as it comes (select, no polling sleeps)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        self.fd = proc.stderr.fileno()
        self.text = ""

    def expect(self, needle: str, *, after: int = 0, timeout: float = 30.0) -> int:
        """Wait until ``needle`` is logged at or after offset ``after``; return where it ends."""
        deadline = time.monotonic() + timeout
        while needle not in self.text[after:]:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} not logged; the log so far:\n{self.text}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                assert chunk, f"the process ended before logging {needle!r}:\n{self.text}"
                self.text += chunk.decode(errors="replace")
        return self.text.index(needle, after) + len(needle)


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` the way editors do (write a temp file, rename it over)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, text)
    tmp = path.with_name(".qgactor.toml.swp")
    tmp.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.replace(tmp, path)


def test_config_edits_while_running(tmp_path: Path) -> None:
    root = tmp_path / "bot"
    (root / "plugins").mkdir(parents=True)
    config = root / "qgactor.toml"
    config.write_text('[logging]\nlevel = "INFO"\nlevels = {}\n\n[reload]\ndebounce = 0.05\n',
                      encoding="utf-8")
    proc = subprocess.Popen([str(QGACTOR), "run", "--no-console", "--color", "never"], cwd=root,
                            env=qgactor_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = LogReader(proc)
    try:
        pos = log.expect("bot ready")
        assert " DEBUG " not in log.text

        # logging.level applies at once: the plugins watcher's DEBUG records appear
        edit(config, 'level = "INFO"', 'level = "DEBUG"')
        pos = log.expect("qgactor.toml changed: logging.level", after=pos)
        (root / "plugins" / "one.txt").write_text("x")
        pos = log.expect("DEBUG qgactor.plugins.watcher  plugins watcher: changed", after=pos)
        log.expect("one.txt", after=pos)

        # back to INFO, but DEBUG for one logger: logging.levels applies at once too
        edit(config, 'level = "DEBUG"\nlevels = {}',
             'level = "INFO"\nlevels = { "qgactor.plugins.watcher" = "DEBUG" }')
        pos = log.expect("qgactor.toml changed: logging.level, logging.levels", after=pos)
        (root / "plugins" / "two.txt").write_text("x")
        pos = log.expect("two.txt", after=pos)
        line = log.text[log.text.rfind("\n", 0, pos) + 1:pos]
        assert " DEBUG qgactor.plugins.watcher " in line, line
        assert "take effect at the next" not in log.text

        # an invalid edit is rejected with file, key and line; the old config stays
        edit(config, 'level = "INFO"', 'level = "LOUD"')
        end = log.expect("qgactor.toml:2", after=pos)
        assert "logging.level" in log.text[end:end + 200], log.text[pos:]

        # fixed, together with a key that needs a restart: that one says so
        edit(config, 'level = "LOUD"', 'level = "INFO"')
        edit(config, "debounce = 0.05", "debounce = 0.06")
        log.expect("take effect at the next `qgactor run`: reload.debounce", after=pos)
        assert proc.poll() is None, "the bot kept running through the edits"
        assert "watchfiles" not in log.text, "library chatter stays out of the terminal"
    finally:
        rc = interrupt(proc, timeout=30)
    log.text += proc.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    assert rc == 0, log.text
