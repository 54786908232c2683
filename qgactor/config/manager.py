"""A live config: an immutable snapshot that follows its file, with subscribers.

``ConfigManager`` owns one :class:`~qgactor.config.file.ConfigFile`. :meth:`ConfigManager.run`
watches the file's *directory* (OS events, or polling), debounces bursts on trio's clock, then
reloads: under a lock it reads, validates and swaps the snapshot; outside the lock it notifies
subscribers, each in its own task, isolated (a failing callback is logged with its traceback
and the others still run) and bounded in time. An invalid edit keeps the old snapshot and logs
every problem with file, key and line. Content the program wrote itself (:meth:`save`) is
recognised by its hash and does not cause a reload.
"""

from __future__ import annotations

import collections
import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import attrs
import trio

from qgactor.config.atomic import atomic_write, digest
from qgactor.config.convert import instance_to_plain
from qgactor.config.debounce import Debouncer
from qgactor.config.errors import ConfigError, ConfigSyntaxError, ConfigValidationError, Problem
from qgactor.config.file import ConfigFile, Loaded
from qgactor.config.sources import poll, watch_events

__all__ = ["ConfigChange", "ConfigManager", "ReloadResult", "Subscription", "changed_keys"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Callback = Callable[["ConfigChange[Any]"], "Awaitable[None] | None"]
Outcome = Literal["reloaded", "unchanged", "own-write", "invalid", "missing", "saved"]


@attrs.frozen
class ConfigChange(Generic[T]):
    """What subscribers receive: the old and new snapshot and the dotted keys that differ."""

    old: T
    new: T
    generation: int
    """Increases by one per swap."""
    changed: frozenset[str]
    """Dotted keys whose value changed (``"sub.port"``, ``"actors"``)."""
    path: Path


@attrs.frozen
class ReloadResult:
    """The outcome of one reload attempt (kept in :attr:`ConfigManager.history`)."""

    index: int
    kind: Outcome
    time: float
    """``trio.current_time()`` when it finished."""
    generation: int
    problems: tuple[Problem, ...] = ()
    error: str = ""


@attrs.define(eq=False)
class Subscription:
    """A registered callback; :meth:`cancel` stops further calls."""

    callback: Callback
    name: str
    manager: ConfigManager[Any] = attrs.field(repr=False)
    last_generation: int = 0
    failures: int = 0

    def cancel(self) -> None:
        """Unsubscribe (idempotent)."""
        if self in self.manager._subscriptions:
            self.manager._subscriptions.remove(self)


def changed_keys(old: Any, new: Any) -> frozenset[str]:
    """Dotted keys whose values differ between two instances of the same config class."""
    out: set[str] = set()

    def walk(a: Any, b: Any, prefix: str) -> None:
        for key in set(a) | set(b):
            x, y = a.get(key), b.get(key)
            name = f"{prefix}{key}"
            if isinstance(x, dict) and isinstance(y, dict):
                walk(x, y, name + ".")
            elif x != y:
                out.add(name)

    walk(instance_to_plain(old), instance_to_plain(new), "")
    return frozenset(out)


class ConfigManager(Generic[T]):
    """The live, reloadable config of one file.

    Args:
        file: the config file (class + path).
        debounce: quiet seconds after the last change event before reloading.
        max_delay: reload at the latest this long after the first event of a burst.
        watch: ``"auto"`` (OS events, polling if they cannot be set up), ``"events"`` or ``"poll"``.
        poll_interval: seconds between polls in polling mode.
        callback_timeout: seconds each subscriber may take per change (then it is cancelled).

    Raises:
        ValueError: a negative or zero duration, or an unknown ``watch`` mode.
    """

    def __init__(self, file: ConfigFile[T], *, debounce: float = 0.25, max_delay: float = 2.0,
                 watch: Literal["auto", "events", "poll"] = "auto", poll_interval: float = 1.0,
                 callback_timeout: float = 5.0, history: int = 64) -> None:
        if debounce < 0 or max_delay < 0:
            raise ValueError(f"debounce and max_delay must be >= 0 seconds, got {debounce} and {max_delay}")
        if poll_interval <= 0 or callback_timeout <= 0:
            raise ValueError(
                f"poll_interval and callback_timeout must be > 0 seconds, got {poll_interval} and {callback_timeout}")
        if watch not in ("auto", "events", "poll"):
            raise ValueError(f'watch must be "auto", "events" or "poll", got {watch!r}')
        self.file = file
        self.watch = watch
        self.poll_interval = poll_interval
        self.callback_timeout = callback_timeout
        self._debounce_args = (debounce, max_delay)
        self._debouncer: Debouncer | None = None
        self._current: T | None = None
        self._digest: str | None = None
        self._own_digests: collections.deque[str] = collections.deque(maxlen=8)
        self._rejected: tuple[str, tuple[Problem, ...], str] | None = None
        self._generation = 0
        self._lock = trio.Lock()
        self._subscriptions: list[Subscription] = []
        self.history: collections.deque[ReloadResult] = collections.deque(maxlen=history)
        self._outcomes = 0
        self._outcome_event = trio.Event()
        self.mode: str = "stopped"
        """How changes are detected right now: ``"stopped"``, ``"events"`` or ``"poll"``."""

    def __repr__(self) -> str:
        return f"ConfigManager({self.file!r}, generation={self._generation}, mode={self.mode!r})"

    @property
    def path(self) -> Path:
        """The watched file."""
        return self.file.path

    @property
    def current(self) -> T:
        """The current immutable snapshot.

        Raises:
            RuntimeError: nothing loaded yet (call :meth:`load` or :meth:`run` first).
        """
        if self._current is None:
            raise RuntimeError(f"{self.path}: config not loaded yet; call load() or start run() first")
        return self._current

    @property
    def generation(self) -> int:
        """How many snapshots have been swapped in (1 after the first load)."""
        return self._generation

    def load(self, *, create: bool = True) -> T:
        """Load the file synchronously (creating it with commented defaults if missing) and return the snapshot.

        Raises:
            ConfigSyntaxError, ConfigValidationError, ConfigVersionError: the file is invalid.
            FileNotFoundError: missing and ``create`` is false.
        """
        loaded = self.file.load(create=create)
        self._install(loaded)
        return loaded.value

    def _install(self, loaded: Loaded[T]) -> None:
        self._current = loaded.value
        self._digest = loaded.digest
        if loaded.upgrades:
            self._own_digests.append(loaded.digest)
        self._generation += 1

    def subscribe(self, callback: Callback, *, name: str | None = None) -> Subscription:
        """Call ``callback(change)`` (sync or async) after every swap that changes a value.

        Returns a :class:`Subscription` (``.cancel()`` to stop). Callbacks run outside the lock,
        concurrently, each in its own task; exceptions are logged with their traceback, never
        raised, and do not stop the other callbacks. An ``async def`` callback is cancelled after
        ``callback_timeout`` seconds; a plain ``def`` callback runs in the trio thread and cannot
        be cut off, so keep it quick (or make it async). A subscriber never sees an older
        snapshot after a newer one (it may skip one if two swaps race).
        """
        sub = Subscription(callback, name or getattr(callback, "__qualname__", repr(callback)), self,
                           last_generation=self._generation)
        self._subscriptions.append(sub)
        return sub

    def notify_changed(self) -> None:
        """Hint that the file may have changed (debounced). Requires :meth:`run` to be running."""
        if self._debouncer is not None:
            self._debouncer.poke()

    def _record(self, kind: Outcome, problems: tuple[Problem, ...] = (), error: str = "") -> ReloadResult:
        result = ReloadResult(self._outcomes, kind, trio.current_time(), self._generation, problems, error)
        self._outcomes += 1
        self.history.append(result)
        self._outcome_event.set()
        self._outcome_event = trio.Event()
        return result

    @property
    def outcome_count(self) -> int:
        """How many reload attempts have finished (index of the next :class:`ReloadResult`)."""
        return self._outcomes

    async def wait_outcome(self, index: int) -> ReloadResult:
        """Wait until reload attempt number ``index`` has finished and return it.

        Raises:
            LookupError: that result already fell out of :attr:`history`.
        """
        while self._outcomes <= index:
            await self._outcome_event.wait()
        for result in self.history:
            if result.index == index:
                return result
        raise LookupError(f"reload result {index} is no longer in the history")

    async def reload(self) -> ReloadResult:
        """Read the file now; swap and notify if it is valid and different. Never raises for bad files.

        Returns once subscribers have been notified (the result is also appended to :attr:`history`).
        The old snapshot is kept when the file is missing or invalid (problems are logged with
        file, key and line and returned in the result).
        """
        async with self._lock:
            kind, problems, error, change = self._reload_locked()
        if change is not None:
            await self._notify(change)
        return self._record(kind, problems, error)

    def _reload_locked(self) -> tuple[Outcome, tuple[Problem, ...], str, ConfigChange[T] | None]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            log.warning("%s: config file is missing; keeping the current settings until it is back", self.path)
            return "missing", (), "file not found", None
        except OSError as exc:
            log.error("%s: cannot read config file (%s); keeping the current settings", self.path, exc)
            return "missing", (), str(exc), None
        new_digest = digest(data)
        if new_digest == self._digest:
            kind: Outcome = "own-write" if new_digest in self._own_digests else "unchanged"
            return kind, (), "", None
        if self._rejected is not None and self._rejected[0] == new_digest:  # same bad bytes again: say it once
            return "invalid", self._rejected[1], self._rejected[2], None
        try:
            loaded = self.file.parse(data)
        except (ConfigSyntaxError, ConfigValidationError) as exc:
            problems = (exc.problem,) if isinstance(exc, ConfigSyntaxError) else exc.problems
            log.error("%s: edit rejected, keeping the previous settings:\n%s", self.path,
                      "\n".join(f"  {p}" for p in problems))
            self._rejected = (new_digest, problems, str(exc))
            return "invalid", problems, str(exc), None
        except ConfigError as exc:
            log.error("%s: edit rejected, keeping the previous settings: %s", self.path, exc)
            self._rejected = (new_digest, (), str(exc))
            return "invalid", (), str(exc), None
        if loaded.upgrades:  # an old file dropped in: bring it up to date on disk too (logs warnings)
            try:
                loaded = self.file.read()
            except (ConfigError, OSError) as exc:
                log.error("%s: upgraded file could not be written back (%s); keeping the previous settings",
                          self.path, exc)
                return "invalid", (), str(exc), None
        else:
            for problem in loaded.warnings:
                log.warning("%s", problem)
        return "reloaded", (), "", self._swap(loaded, "reloaded")

    def _swap(self, loaded: Loaded[T], kind: Outcome) -> ConfigChange[T] | None:
        old = self._current
        self._install(loaded)
        if old is None or old == loaded.value:
            return None
        change = ConfigChange(old, loaded.value, self._generation, changed_keys(old, loaded.value), self.path)
        log.info("%s: config %s (generation %d); changed: %s", self.path, kind, self._generation,
                 ", ".join(sorted(change.changed)) or "-")
        return change

    async def save(self, value: T) -> T:
        """Write ``value`` to the file (atomically, keeping comments) and make it the snapshot.

        Only the fields where ``value`` differs from the current snapshot are written, so an edit
        the user saved meanwhile (not reloaded yet) is kept; the new snapshot is what the file
        then holds. The write is remembered by its hash, so the file event it causes does not reload.
        Subscribers are notified if a value changed. Returns the new (frozen) snapshot.

        Raises:
            ConfigSyntaxError: the file on disk is not valid TOML (not overwritten; fix it first).
            ConfigValidationError: ``value`` does not survive a round trip (e.g. a validator rejects it).
            OSError: the write failed; the old file and snapshot are kept.

        The write (with fsync) runs in a worker thread; under ``MockClock(autojump_threshold=0)``
        the clock may jump while it runs, so keep tests of saves on the real clock or without timeouts.
        """
        async with self._lock:
            text = self.file.render(value, self._current)
            data = text.encode("utf-8")
            loaded = self.file.parse(data)  # validate before touching the disk
            self._own_digests.append(digest(data))
            await trio.to_thread.run_sync(self._write, data)
            change = self._swap(loaded, "saved")
        if change is not None:
            await self._notify(change)
        self._record("saved")
        return loaded.value

    def _write(self, data: bytes) -> None:
        atomic_write(self.path, data, mode=None if self.path.exists() else self.file.mode)

    async def _notify(self, change: ConfigChange[T]) -> None:
        async with trio.open_nursery() as nursery:
            for sub in list(self._subscriptions):
                if change.generation > sub.last_generation:
                    sub.last_generation = change.generation
                    nursery.start_soon(self._deliver, sub, change)

    async def _deliver(self, sub: Subscription, change: ConfigChange[T]) -> None:
        with trio.move_on_after(self.callback_timeout) as scope:
            try:
                result = sub.callback(change)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                sub.failures += 1
                log.exception("%s: config subscriber %s failed on generation %d (others were still notified)",
                              self.path, sub.name, change.generation)
        if scope.cancelled_caught:
            sub.failures += 1
            log.warning("%s: config subscriber %s took longer than %.1fs on generation %d and was cancelled",
                        self.path, sub.name, self.callback_timeout, change.generation)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Watch the file's directory and reload on changes until cancelled.

        Loads the file first if :meth:`load` was not called (raising if it is invalid then).
        Reports started once changes are being watched. Usable as ``await nursery.start(m.run)``.

        Raises:
            ConfigSyntaxError, ConfigValidationError, ConfigVersionError: the initial load failed.
        """
        if self._current is None:
            self.load()
        self._debouncer = Debouncer(self._debounce_args[0], max_delay=self._debounce_args[1])
        try:
            async with trio.open_nursery() as nursery:
                await self._start_source(nursery)
                task_status.started()
                while True:
                    await self._debouncer.wait()
                    try:
                        await self.reload()
                    except Exception:  # a bug must not end the watch: log it, keep watching
                        log.exception("%s: reloading failed unexpectedly; keeping the previous settings", self.path)
        finally:
            self.mode = "stopped"
            self._debouncer = None

    def _on_change(self, paths: set[Path]) -> None:
        if any(p.name == self.path.name for p in paths):
            self.notify_changed()

    async def _start_source(self, nursery: trio.Nursery) -> None:
        directory, name = self.path.parent, self.path.name
        if self.watch in ("auto", "events"):
            try:
                await nursery.start(watch_events, directory, [name], self._on_change)
                self.mode = "events"
                return
            except Exception as exc:
                if self.watch == "events":
                    raise
                log.warning("%s: file events unavailable (%r); polling every %.1fs instead",
                            self.path, exc, self.poll_interval)
        await nursery.start(poll, [self.path], self.poll_interval, self._on_change)
        self.mode = "poll"


