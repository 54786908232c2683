"""Atomic writes: a process killed with SIGKILL mid-write leaves the old file or the new one, never a mix."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qgactor.config import atomic as atomic_module
from qgactor.config import atomic_write, digest

pytestmark = pytest.mark.timeout(30)

CHILD = textwrap.dedent(
    """
    import importlib.util
    import sys
    from pathlib import Path

    # load qgactor/config/atomic.py by path (stdlib only), skipping the package's heavy imports
    spec = importlib.util.spec_from_file_location("atomic_under_test", sys.argv[3])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    atomic_write = module.atomic_write

    path, how = Path(sys.argv[1]), sys.argv[2]

    def chunks_then_hang():
        yield b"N" * 65536           # the first half of the new content...
        print("mid-write", flush=True)
        sys.stdin.read()             # ...then wait here until killed
        yield b"N" * 65536

    if how == "atomic":
        atomic_write(path, chunks_then_hang())
    elif how == "naive":             # the control: what a plain open(..., "wb") does
        with open(path, "wb") as f:
            for chunk in chunks_then_hang():
                f.write(chunk)
                f.flush()
    elif how == "loop":              # rewrite A/B forever, report each completed write
        a, b = b"A" * 300_000, b"B" * 200_000
        n = 0
        while True:
            atomic_write(path, a if n % 2 else b)
            n += 1
            print(n, flush=True)
    """
)


def _spawn(tmp_path: Path, target: Path, how: str) -> subprocess.Popen[bytes]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(target), how, atomic_module.__file__],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


@pytest.mark.parametrize("how", ["atomic", "naive"])
def test_kill_in_the_middle_of_a_write(tmp_path: Path, how: str) -> None:
    target = tmp_path / "qgactor.toml"
    old = b'name = "old"\n' * 100
    target.write_bytes(old)
    proc = _spawn(tmp_path, target, how)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"mid-write\n"  # the child is now inside the write
    finally:
        _kill(proc)
    if how == "atomic":
        assert target.read_bytes() == old
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert all(name.startswith(".qgactor.toml.") for name in leftovers)
        atomic_write(target, b"fine")  # the next write works
        assert target.read_bytes() == b"fine"
    else:  # the control shows the test can detect a torn file
        assert target.read_bytes() == b"N" * 65536


def test_kill_at_random_moments_never_tears(tmp_path: Path) -> None:
    target = tmp_path / "c.toml"
    atomic_write(target, b"A" * 300_000)
    allowed = {digest(b"A" * 300_000), digest(b"B" * 200_000)}
    rng = random.Random(1234)
    for _ in range(10):
        proc = _spawn(tmp_path, target, "loop")
        try:
            assert proc.stdout is not None
            for _ in range(rng.randint(1, 4)):  # let it complete a few writes, then kill mid-stream
                assert proc.stdout.readline().strip().isdigit()
        finally:
            _kill(proc)
        assert digest(target.read_bytes()) in allowed


def test_mode_is_kept_and_digest_returned(tmp_path: Path) -> None:
    target = tmp_path / "secret.toml"
    assert atomic_write(target, b"x", mode=0o600) == digest(b"x")
    assert target.stat().st_mode & 0o777 == 0o600
    atomic_write(target, [b"y", b"z"])
    assert target.read_bytes() == b"yz" and target.stat().st_mode & 0o777 == 0o600


def test_failure_before_rename_leaves_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "c.toml"
    target.write_bytes(b"old")

    def broken() -> object:
        yield b"new"
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_new_file_mode_follows_the_umask_and_secrets_stay_private(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "new.toml", b"x")
        assert stat.S_IMODE(os.stat(tmp_path / "new.toml").st_mode) == 0o640
        assert os.umask(0o027) == 0o027, "atomic_write must not change the process umask"
        atomic_write(tmp_path / "secret.toml", b"secret = 'x'", mode=0o600)
        assert stat.S_IMODE(os.stat(tmp_path / "secret.toml").st_mode) == 0o600
    finally:
        os.umask(old)
