"""``plugins-watcher``: code and config edits in the plugins directory reload that plugin only.

OS file events come from watchfiles (recursive, so package plugins are covered) with a short
debounce (changes are grouped until 50 ms pass quietly). Where the filesystem has no events
(``force_polling=True``, or the OS watch cannot be created) a poller compares
``(mtime_ns, size)`` of every file every ``poll_interval`` seconds on trio's clock.
(watchfiles' own polling mode is not used: it compares whole-second mtimes and misses an edit
made in the same second as the previous one.)
A change only counts if the content changed: the watcher compares the SHA-256 of the plugin's
code files and of its config file with what was last loaded, so a touch, a duplicate event, or
a config file the program wrote itself does not reload anything.

Mapping a changed path to a plugin: ``NAME.py`` or anything under ``NAME/`` is NAME's code;
``<config dir>/NAME.toml`` is NAME's config; a path of no known plugin triggers a rescan (new or
deleted plugins). Names starting with ``.`` or ``_`` and ``__pycache__`` are ignored. A plugin
whose manifest says ``allow_hot_reload = false`` is not reloaded: a warning says a restart is
needed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import trio
import watchfiles

from qgactor.runtime import Actor

if TYPE_CHECKING:
    from qgactor.plugins.manager import PluginManager

__all__ = ["PluginWatcher", "classify_changes"]

log = logging.getLogger(__name__)


def _ignored(rel: Path) -> bool:
    return (
        rel.parts[0].startswith((".", "_"))
        or any(part.startswith(".") or part == "__pycache__" for part in rel.parts)
        or rel.suffix in (".pyc", ".pyo", ".swp", ".tmp")
        or rel.name.endswith("~")
    )


def classify_changes(
    paths: set[Path], *, plugins_dir: Path, config_dir: Path, known: set[str]
) -> tuple[set[str], set[str], bool]:
    """Split changed paths into ``(code changes, config changes, rescan needed)`` by plugin."""
    code: set[str] = set()
    config: set[str] = set()
    rescan = False
    plugins_dir, config_dir = plugins_dir.resolve(), config_dir.resolve()
    for raw in paths:
        p = Path(raw).resolve()
        if p.parent == config_dir and p.suffix == ".toml" and p.stem in known:
            if not p.name.startswith((".", "_")):
                config.add(p.stem)
            continue
        try:
            rel = p.relative_to(plugins_dir)
        except ValueError:
            continue
        if not rel.parts or _ignored(rel):
            continue
        top = rel.parts[0]
        if len(rel.parts) == 1:
            if not top.endswith(".py"):
                continue
            name = top[:-3]
        else:
            name = top
        if name in known:
            code.add(name)
        else:
            rescan = True
    return code, config, rescan


class PluginWatcher(Actor):
    """Watches the plugins (and config) directory; see the module docstring."""

    def __init__(self, manager: PluginManager, *, debounce: float = 0.05,
                 force_polling: bool | None = None, poll_interval: float = 0.25) -> None:
        self.manager = manager
        self.debounce_ms = max(1, int(debounce * 1000))
        self.force_polling = force_polling
        self.poll_interval = poll_interval
        self.ready = trio.Event()
        """Set once the OS watch (or the poller) is in place."""

    async def on_start(self) -> None:
        """Start the watch loop."""
        self.ctx.start_soon(self._watch, name="plugins-watcher:watch")

    async def _watch(self) -> None:
        m = self.manager
        dirs = {m.plugins_dir.resolve(), m.config_dir.resolve()}
        if self.force_polling:
            await self._poll(dirs)
            return
        stop = anyio.Event()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_set_when_cancelled, stop)
                try:
                    await self._events(dirs, stop)
                except (OSError, RuntimeError) as exc:
                    log.warning("plugins watcher: OS file events unavailable (%s); polling "
                                "every %.2fs", exc, self.poll_interval)
                    await self._poll(dirs)
                nursery.cancel_scope.cancel()
        finally:
            stop.set()

    def _set_ready(self, dirs: set[Path], how: str) -> None:
        if not self.ready.is_set():
            log.debug("plugins watcher: watching %s (%s)", ", ".join(map(str, sorted(dirs))), how)
            self.ready.set()
            self.manager.watcher_ready.set()

    async def _events(self, dirs: set[Path], stop: anyio.Event) -> None:
        async for changes in watchfiles.awatch(
            *sorted(dirs), debounce=1000, step=self.debounce_ms, rust_timeout=250,
            yield_on_timeout=True, stop_event=stop, recursive=True, force_polling=False,
        ):
            self._set_ready(dirs, "OS events")
            if changes:
                await self.handle({Path(p) for _, p in changes})

    async def _poll(self, dirs: set[Path]) -> None:
        seen = _stat_tree(dirs)
        self._set_ready(dirs, f"polling every {self.poll_interval:g}s")
        while True:
            await trio.sleep(self.poll_interval)
            now = _stat_tree(dirs)
            changed = {p for p in seen.keys() | now.keys() if seen.get(p) != now.get(p)}
            seen = now
            if changed:
                await self.handle(changed)

    async def handle(self, paths: set[Path]) -> list[str]:
        """Reload the plugins whose code or config content changed; return their names."""
        m = self.manager
        log.debug("plugins watcher: changed %s", sorted(map(str, paths)))
        code, config, rescan = classify_changes(
            paths, plugins_dir=m.plugins_dir, config_dir=m.config_dir, known=set(m.slots))
        reloaded: list[str] = []
        for name in sorted(code | config):
            slot = m.slots.get(name)
            if slot is None:
                rescan = True
                continue
            if not slot.source.path.exists():
                rescan = True
                continue
            if not self._content_changed(name, code_changed=name in code,
                                         config_changed=name in config):
                continue
            if slot.state.value == "disabled":
                log.info("plugin %s changed on disk; it is disabled, so nothing is loaded", name)
                self._remember(name)
                continue
            if not slot.manifest.allow_hot_reload:
                log.warning("plugin %s changed on disk but its manifest says allow_hot_reload = "
                            "false: restart the bot to load the new version", name)
                self._remember(name)
                continue
            log.info("plugin %s changed on disk: reloading", name)
            result = await m.reload(name)
            if result.ok:
                reloaded.append(name)
            else:
                self._remember(name)  # do not retry the same broken content
        if rescan:
            reloaded += await m.rescan()
        return reloaded

    def _content_changed(self, name: str, *, code_changed: bool, config_changed: bool) -> bool:
        from qgactor.plugins.manager import source_digest

        life = self.manager.life
        slot = self.manager.slots[name]
        if code_changed and life.code_digests.get(name) != source_digest(slot.source):
            return True
        if config_changed:
            path = self.manager.config_dir / f"{name}.toml"
            try:
                now = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                return False
            return life.config_digests.get(name) != now
        return False

    def _remember(self, name: str) -> None:
        from qgactor.plugins.manager import source_digest

        life = self.manager.life
        slot = self.manager.slots[name]
        life.code_digests[name] = source_digest(slot.source)
        path = self.manager.config_dir / f"{name}.toml"
        try:
            life.config_digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            pass


def _stat_tree(dirs: set[Path]) -> dict[Path, tuple[int, int]]:
    """``(mtime_ns, size)`` of every file under ``dirs`` (skipping ``__pycache__``)."""
    out: dict[Path, tuple[int, int]] = {}
    for root in dirs:
        try:
            entries = list(root.rglob("*"))
        except OSError:
            continue
        for p in entries:
            if "__pycache__" in p.parts:
                continue
            try:
                st = p.stat()
            except OSError:
                continue
            if p.is_file():
                out[p] = (st.st_mtime_ns, st.st_size)
    return out


async def _set_when_cancelled(stop: Any) -> None:
    try:
        await trio.sleep_forever()
    finally:
        stop.set()
