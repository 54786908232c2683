"""The exceptions of the config layer and the :class:`Problem` record they carry.

Every message names the file, the dotted key and the line (when known) and says what was
expected, so a user can fix the file without reading code. Values of secret fields are never
included in a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

__all__ = [
    "ConfigError",
    "ConfigSchemaError",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "ConfigVersionError",
    "Problem",
    "format_key",
]

KeyPath = tuple[str | int, ...]


def format_key(path: KeyPath) -> str:
    """Render a key path as TOML-ish text: ``("actors", 0, "name")`` -> ``actors[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if part and all(c.isalnum() or c in "_-" for c in part) else f'"{part}"'
            out += f".{text}" if out else text
    return out or "<top level>"


@attrs.frozen
class Problem:
    """One thing wrong in a config file: where (file, key path, line) and what was expected."""

    file: str
    """The file (or ``<string>``) the problem is in."""
    key: KeyPath
    """Path of the offending key; empty for the whole document."""
    line: int | None
    """1-based line of the key (or of its nearest enclosing table); ``None`` if unknown."""
    message: str
    """What is wrong and what is expected."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {format_key(self.key)}: {self.message}"


class ConfigError(Exception):
    """Base class of every error raised by :mod:`qgactor.config`."""


class ConfigSchemaError(ConfigError, TypeError):
    """A config class is not valid: a field has a type TOML cannot hold, or a hook is malformed.

    Raised when the class is declared with :func:`~qgactor.config.config_class`, or when a
    plain attrs class is first used to generate or load a file.
    """


class ConfigSyntaxError(ConfigError, ValueError):
    """The file is not valid TOML. ``problem`` says where (file and line) and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.file}:{problem.line}: not valid TOML: {problem.message}")
        self.problem = problem


class ConfigValidationError(ConfigError, ValueError):
    """The file is valid TOML but does not match the config class.

    ``problems`` lists every offending key (all are reported at once, not just the first).
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} invalid setting(s):\n{lines}")


class ConfigVersionError(ConfigError, ValueError):
    """The file's ``config_version`` is newer than the config class, or not an integer."""


def display_path(path: Path | str | None) -> str:
    """Return the text used for ``path`` in messages (``<string>`` when there is no file)."""
    return "<string>" if path is None else str(path)
