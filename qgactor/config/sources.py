"""Where change hints come from: OS file events (watchfiles) or polling.

Both watch a *directory's* entries by name, because editors save by writing a new file and
renaming it over the old one (a watch on the old inode would go silent). They only report
"these names may have changed"; the manager debounces and compares contents.

``watch_events`` runs watchfiles' ``awatch`` on trio (through anyio). Two details matter:
``awatch`` blocks in a worker thread, so a stop event is set as soon as the task is cancelled
(otherwise cancelling waits for the Rust timeout), and the source reports ready only after the
first wake-up of the watcher, which proves the OS watch exists. ``poll`` compares a fingerprint
(mtime, size, SHA-256) on trio's clock, for filesystems without events (NFS, some containers)
and for MockClock tests.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Collection
from pathlib import Path

import anyio
import trio
import watchfiles

__all__ = ["Fingerprint", "fingerprint", "poll", "watch_events"]

log = logging.getLogger(__name__)

Fingerprint = tuple[int, int, str] | None
OnChange = Callable[[set[Path]], None]


def fingerprint(path: Path) -> Fingerprint:
    """Return ``(mtime_ns, size, sha256)`` of a file, or ``None`` if it does not exist / is unreadable."""
    try:
        st = os.stat(path)
        data = path.read_bytes()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())


async def poll(paths: Collection[Path], interval: float, on_change: OnChange, *,
               task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Every ``interval`` seconds (trio clock), call ``on_change`` with the paths whose fingerprint changed."""
    prints = {p: fingerprint(p) for p in paths}
    task_status.started()
    while True:
        await trio.sleep(interval)
        changed = set()
        for p in paths:
            fp = fingerprint(p)
            if fp != prints[p]:
                prints[p] = fp
                changed.add(p)
        if changed:
            on_change(changed)


async def _set_when_cancelled(stop: anyio.Event) -> None:
    try:
        await trio.sleep_forever()
    finally:
        stop.set()


async def watch_events(directory: Path, names: Collection[str], on_change: OnChange, *,
                       wake_ms: int = 250,
                       task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Report changes to entries ``names`` of ``directory`` from OS file events, until cancelled.

    Raises:
        OSError / RuntimeError from watchfiles when the OS watch cannot be created (e.g. the
        inotify watch limit); before ``task_status.started()`` so callers can fall back to polling.
    """
    wanted = set(names)

    def keep(change: watchfiles.Change, path: str) -> bool:
        return Path(path).name in wanted

    stop = anyio.Event()
    started = False
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_set_when_cancelled, stop)
        async for changes in watchfiles.awatch(
            directory, watch_filter=keep, debounce=50, step=20, rust_timeout=wake_ms,
            yield_on_timeout=True, stop_event=stop, recursive=False,
        ):
            if not started:
                started = True
                task_status.started()
                changes = {(watchfiles.Change.modified, str(directory / n)) for n in wanted}  # re-check once
            if changes:
                on_change({Path(p) for _, p in changes})
        nursery.cancel_scope.cancel()
