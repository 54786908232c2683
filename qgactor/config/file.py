"""One config file bound to one config class: generate, load, save.

>>> cfg = ConfigFile(MyConfig, "plugins/weather.toml")
>>> loaded = cfg.load()            # creates the commented file on first run
>>> loaded.value.city
>>> cfg.save(attrs.evolve(loaded.value, city="Beijing"))   # keeps the user's comments

Loading applies upgrade hooks (and writes the upgraded file back), validates every key, and
reports all problems at once with file, key and line. Unknown keys are warnings by default
(logged, kept in the file, listed in :attr:`Loaded.warnings`, with a "did you mean" hint);
``strict=True`` makes them errors.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from qgactor.config import document
from qgactor.config.atomic import atomic_write, digest
from qgactor.config.convert import INVALID, Collector, build
from qgactor.config.errors import (
    ConfigSyntaxError, ConfigValidationError, KeyPath, Problem, display_path,
)
from qgactor.config.lines import key_lines, line_of
from qgactor.config.schema import Nested, Optional, Seq, schema_of
from qgactor.config.upgrade import VERSION_KEY, apply_upgrades, file_version

__all__ = ["ConfigFile", "Loaded", "parse_config"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@attrs.frozen
class Loaded(Generic[T]):
    """The result of loading a config: the immutable value and where it came from."""

    value: T
    """The config instance (frozen for ``@config_class`` classes; containers are read-only)."""
    text: str
    """The file's text after upgrades (what is on disk after :meth:`ConfigFile.read`)."""
    digest: str
    """SHA-256 of the file's bytes (used to recognise our own writes)."""
    warnings: tuple[Problem, ...] = ()
    """Unknown keys (non-strict mode)."""
    upgrades: tuple[str, ...] = ()
    """Descriptions of the upgrade steps that ran."""


def _unknown_message(path: KeyPath, cls: type) -> str:
    """'unknown key' with the class of its table and a 'did you mean' hint."""
    current: Any = cls
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        field = schema_of(current).field(part) if current is not None else None
        kind = field.kind.inner if field is not None and isinstance(field.kind, Optional) else (field.kind if field else None)
        if isinstance(kind, Nested):
            current = kind.cls
        elif isinstance(kind, Seq) and isinstance(kind.item, Nested):
            current = kind.item.cls
        else:
            return "unknown key (it is ignored)"
    names = [f.key for f in schema_of(current).fields]
    close = difflib.get_close_matches(str(path[-1]), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key (not a setting of {current.__name__}; it is ignored){hint}"


def parse_config(cls: type[T], text: str, *, file: str | os.PathLike[str] | None = None,
                 strict: bool = False) -> tuple[T, str, tuple[Problem, ...], tuple[str, ...]]:
    """Parse and validate TOML ``text`` as ``cls``; return ``(value, upgraded text, warnings, upgrades)``.

    Raises:
        ConfigSyntaxError: not valid TOML.
        ConfigVersionError: ``config_version`` is newer than the class or an upgrade step failed.
        ConfigValidationError: keys with wrong types, missing required keys, rejected values
            (and unknown keys when ``strict``); every problem has file, key and line.
        ConfigSchemaError: ``cls`` is not a valid config class.
    """
    where = display_path(file)
    schema = schema_of(cls)
    try:  # tomllib is ~30x faster than tomlkit; tomlkit is only needed to rewrite the text
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise ConfigSyntaxError(Problem(where, (), int(found.group(1)) if found else None, str(exc))) from None
    upgrades: list[str] = []
    version = file_version(data, schema.version, where)
    if version < schema.version:
        doc = document.parse(text, where)
        upgrades = apply_upgrades(doc, schema.upgrades, schema.version, where) or [
            f"{VERSION_KEY} {version} -> {schema.version} (no key changes)"]
        text = doc.as_string()
        data = doc.unwrap()
    out = Collector()
    value = build(cls, data, (), out)
    lines = key_lines(text) if out.problems or out.unknown else {}
    problems = [Problem(where, path, line_of(lines, path), message) for path, message in out.problems]
    unknown = tuple(sorted(
        (Problem(where, path, line_of(lines, path), _unknown_message(path, cls)) for path in out.unknown),
        key=lambda p: p.line or 0,
    ))
    if strict:
        problems.extend(unknown)
        unknown = ()
    if problems or value is INVALID:
        raise ConfigValidationError(sorted(problems, key=lambda p: p.line or 0))
    return value, text, unknown, tuple(upgrades)


class ConfigFile(Generic[T]):
    """A config class bound to a file path: :meth:`load`, :meth:`read`, :meth:`save`, :meth:`generate_text`.

    Holds no config state itself (see :class:`~qgactor.config.manager.ConfigManager` for a live,
    reloadable snapshot). ``mode`` is the permission of a newly created file (``0o600`` is
    sensible for files holding secrets).
    """

    def __init__(self, cls: type[T], path: str | os.PathLike[str], *, strict: bool = False,
                 mode: int | None = None) -> None:
        schema_of(cls)  # reject bad classes early (ConfigSchemaError)
        self.cls = cls
        self.path = Path(path)
        self.strict = strict
        self.mode = mode

    def __repr__(self) -> str:
        return f"ConfigFile({self.cls.__qualname__}, {str(self.path)!r})"

    def generate_text(self, value: T | None = None) -> str:
        """Return the commented TOML text for ``value`` (default: the class defaults)."""
        return document.generate(self.cls, value).as_string()

    def parse(self, data: bytes) -> Loaded[T]:
        """Validate file contents without touching the disk.

        Raises:
            ConfigSyntaxError: not UTF-8 or not valid TOML.
            ConfigValidationError, ConfigVersionError: see :func:`parse_config`.
        """
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConfigSyntaxError(Problem(str(self.path), (), line, f"not UTF-8 text ({exc.reason})")) from None
        value, new_text, warnings, upgrades = parse_config(self.cls, text, file=self.path, strict=self.strict)
        return Loaded(value, new_text, digest(data), warnings, upgrades)

    def read(self) -> Loaded[T]:
        """Read and validate the file; write it back if upgrade steps ran; log unknown keys.

        Raises:
            FileNotFoundError: the file does not exist.
            ConfigSyntaxError, ConfigValidationError, ConfigVersionError: see :meth:`parse`.
        """
        loaded = self.parse(self.path.read_bytes())
        if loaded.upgrades:
            log.info("%s: upgraded to version %d (%s)", self.path, schema_of(self.cls).version,
                     "; ".join(loaded.upgrades))
            loaded = attrs.evolve(loaded, digest=atomic_write(self.path, loaded.text.encode("utf-8")))
        for problem in loaded.warnings:
            log.warning("%s", problem)
        return loaded

    def load(self, *, create: bool = True) -> Loaded[T]:
        """Read the file, first writing the commented defaults if it is missing and ``create``.

        Raises:
            FileNotFoundError: missing and ``create`` is false.
            ConfigSyntaxError, ConfigValidationError, ConfigVersionError: see :meth:`parse`.
        """
        if create and not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, self.generate_text().encode("utf-8"), mode=self.mode)
            log.info("%s: created with default settings", self.path)
        return self.read()

    def render(self, value: T, base: T | None = None) -> str:
        """Return the file's text with ``value`` written into it, keeping the user's comments.

        With ``base`` (the config ``value`` was derived from) only the fields the program changed
        are written; other keys keep what the file says now (see :func:`document.update`).

        Raises:
            ConfigSyntaxError: the file on disk is not valid TOML (it is not overwritten; fix it first).
            TypeError: ``value`` is not an instance of the config class.
        """
        if not isinstance(value, self.cls):
            raise TypeError(f"expected a {self.cls.__qualname__} instance, got {type(value).__name__}")
        try:
            current = self.path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            return self.generate_text(value)
        doc = document.parse(current, str(self.path))
        document.update(doc, value, base)
        return doc.as_string()

    def save(self, value: T, base: T | None = None) -> str:
        """Write ``value`` to the file atomically, keeping comments and unknown keys; return the digest.

        ``base``: see :meth:`render`.

        Raises:
            ConfigSyntaxError: the file on disk is not valid TOML (left as is).
            OSError: the write failed (the old file is intact).
        """
        text = self.render(value, base)
        return atomic_write(self.path, text.encode("utf-8"), mode=None if self.path.exists() else self.mode)
