"""Atomic file replacement: a reader (or a crash) sees the old file or the new one, never a mix.

The data goes to a temporary file in the same directory, is flushed and fsynced, then
``os.replace`` swaps it in (atomic on POSIX and Windows within one filesystem) and the directory
is fsynced so the rename itself survives a power loss. The temporary file is removed if anything
fails before the rename. A process killed mid-write leaves at most a stray ``.NAME.*.tmp`` file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
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
            mode = None  # a new file: 0o644 minus the umask, applied by the OS at creation
    hasher = hashlib.sha256()
    # private until the final mode is set (the data may be a secret); a new file without a
    # requested mode gets 0o644 minus the umask from the OS itself
    fd, tmp_name = _create_temp(directory, target.name, 0o600 if mode is not None else 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
            for chunk in chunks:
                hasher.update(chunk)
                f.write(chunk)
            f.flush()
            if mode is not None and hasattr(os, "fchmod"):
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


def _create_temp(directory: Path, name: str, perms: int) -> tuple[int, str]:
    """Create a new temporary file beside the target with ``perms`` minus the umask (applied by
    the OS; reading the umask with ``os.umask`` would briefly change it for every thread)."""
    for _ in range(100):
        tmp_name = str(directory / f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           perms), tmp_name
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory}")


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows: directories cannot be opened for fsync
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
