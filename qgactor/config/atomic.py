"""Atomic file replacement: a reader (or a crash) sees the old file or the new one, never a mix.

The data goes to a temporary file in the same directory, is flushed and fsynced, then
``os.replace`` swaps it in (atomic on POSIX and Windows within one filesystem) and the directory
is fsynced so the rename itself survives a power loss. The temporary file is removed if anything
fails before the rename. A process killed mid-write leaves at most a stray ``.NAME.*.tmp`` file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["atomic_write", "digest"]


def digest(data: bytes) -> str:
    """Return the SHA-256 hex digest used to recognise file contents (e.g. our own writes)."""
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: str | os.PathLike[str], data: bytes | Iterable[bytes], *, mode: int | None = None) -> str:
    """Replace ``path`` with ``data`` atomically and durably; return the digest of what was written.

    ``data`` may be bytes or an iterable of byte chunks (streamed to the temporary file).
    ``mode`` sets the permission bits; by default an existing file's mode is kept and a new file
    gets ``0o644`` minus the umask.

    Raises:
        OSError: the directory is not writable, the disk is full, ... (``path`` is left untouched).
    """
    target = Path(path)
    directory = target.parent
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o644 & ~umask
    hasher = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
            for chunk in chunks:
                hasher.update(chunk)
                f.write(chunk)
            f.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return hasher.hexdigest()


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows: directories cannot be opened for fsync
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
