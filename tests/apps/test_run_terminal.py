"""Acceptance: the chat console of `qgactor run` in a real terminal (a pseudo-terminal): it shows
a prompt, sends what is typed, prints the bot's reply, and Ctrl-D stops the bot (exit 0)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps_helpers import QGACTOR, REPO, qgactor_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


class Terminal:
    """The master side of a pty: read what the program printed, type into it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.seen = b""

    def expect(self, needle: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} did not appear; the terminal shows:\n{self.seen.decode(errors='replace')}"
            ready, _, _ = select.select([self.fd], [], [], left)  # waits for output, no polling
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the program closed the terminal
                    chunk = b""
                assert chunk, f"the terminal closed before {needle!r}:\n{self.seen.decode(errors='replace')}"
                self.seen += chunk

    def type(self, text: bytes) -> None:
        os.write(self.fd, text)


def test_run_in_a_terminal_prompts_replies_and_stops_on_ctrl_d(tmp_path: Path) -> None:
    root = tmp_path / "bot"
    shutil.copytree(REPO / "plugins", root / "plugins",
                    ignore=shutil.ignore_patterns("__pycache__", "*.toml", ".*"))
    master, slave = os.openpty()
    proc = subprocess.Popen([str(QGACTOR), "run", "--color", "never"], cwd=root,
                            env=qgactor_env(TERM="dumb"), stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    term = Terminal(master)
    try:
        term.expect(b"chat console")
        term.expect(b"> ")  # the prompt (scene, place, user)
        term.type(b"/hello\n")
        term.expect(b"Hello! I am a qgactor bot")
        term.type(b"/scene c2c\n")
        term.expect(b"now typing in")
        term.type(b"/echo over the pty\n")
        term.expect(b"bot> over the pty")
        term.type(b"\x04")  # Ctrl-D at an empty prompt: leave, the bot stops gracefully
        term.expect(b"stopped")
        assert proc.wait(timeout=30) == 0, term.seen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert not (root / ".qgactor" / "management.json").exists()
