"""Where a qgactor project keeps its files: config, plugins, actors and the state directory."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

__all__ = ["Project", "CONFIG_NAME", "STATE_DIR_NAME", "write_private"]

CONFIG_NAME = "qgactor.toml"
"""The project's config file name."""
STATE_DIR_NAME = ".qgactor"
"""The project's state directory (runtime files: management endpoint, sessions, emulator info)."""


@attrs.frozen
class Project:
    """The paths of one bot project rooted at ``root``."""

    root: Path = attrs.field(converter=lambda p: Path(p).resolve())
    """The project directory."""

    @property
    def config_path(self) -> Path:
        """``qgactor.toml`` in the project directory."""
        return self.root / CONFIG_NAME

    @property
    def plugins_dir(self) -> Path:
        """The default plugins directory (``plugins/``)."""
        return self.root / "plugins"

    @property
    def actors_dir(self) -> Path:
        """The directory of application actors (``actors/``)."""
        return self.root / "actors"

    @property
    def state_dir(self) -> Path:
        """``.qgactor/`` in the project directory (not created by this property)."""
        return self.root / STATE_DIR_NAME

    @property
    def management_file(self) -> Path:
        """The file (mode 0600) where a running bot publishes its management endpoint and token."""
        return self.state_dir / "management.json"

    @property
    def emulator_file(self) -> Path:
        """The file (mode 0600) where ``qgactor emulator`` publishes its URL and credentials."""
        return self.state_dir / "emulator.json"

    def ensure_state_dir(self) -> Path:
        """Create the state directory (mode 0700) if needed and return it; raises ``OSError``."""
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        gitignore = self.state_dir / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n", encoding="utf-8")
        return self.state_dir


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600 (readable by the owner only).

    The file is created 0600 before any byte is written, so a secret is never world-readable,
    then renamed over the target. Raises ``OSError``.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
