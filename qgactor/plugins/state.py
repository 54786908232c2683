"""The small persistent state of the plugin manager: which plugins the user disabled.

Stored as TOML (``disabled = ["a", "b"]``), written atomically (temp file, fsync, rename) so a
crash mid-write leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import logging
import os
import tempfile
import tomllib
from pathlib import Path

import tomlkit

__all__ = ["PluginStateFile", "DEFAULT_STATE_FILE"]

log = logging.getLogger(__name__)

DEFAULT_STATE_FILE = ".plugins-state.toml"
"""Default file name (inside the plugins directory; ignored by discovery and the watcher)."""


class PluginStateFile:
    """Reads and writes the set of disabled plugins.

    A missing file means "nothing disabled"; an unreadable one is logged and treated the same
    (the bot must start), and is replaced on the next write.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load_disabled(self) -> set[str]:
        """The names of the plugins the user disabled."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            log.error("plugin state file %s is not valid TOML (%s); treating all plugins as "
                      "enabled; fix or delete the file", self.path, exc)
            return set()
        disabled = data.get("disabled", [])
        if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
            log.error("plugin state file %s: 'disabled' must be a list of plugin names",
                      self.path)
            return set()
        return set(disabled)

    def save_disabled(self, disabled: set[str]) -> None:
        """Atomically write the set of disabled plugins.

        Raises:
            OSError: the file cannot be written (the old file is left intact).
        """
        doc = tomlkit.document()
        doc.add(tomlkit.comment("Plugins disabled with `plugin disable`; managed by qgactor."))
        doc["disabled"] = sorted(disabled)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".toml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(tomlkit.dumps(doc))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
