"""Config versions and the upgrade hooks that bring older files up to date.

Every generated file starts with ``config_version = N``. A config class declares its current
version and the steps from each older version (``__config_version__`` and
``__config_upgrades__``, set by ``@config_class(version=..., upgrades=...)`` or written in the
class body of a plain attrs class). Steps run in order on the tomlkit document, so comments and
formatting of the user's file survive; :func:`rename_key` covers the common case.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import attrs
import tomlkit
from tomlkit.items import Table

from qgactor.config.errors import ConfigVersionError

__all__ = ["VERSION_KEY", "Upgrade", "apply_upgrades", "rename_key", "upgrade"]

VERSION_KEY = "config_version"
"""The top-level key holding the schema version of a file."""


@attrs.frozen
class Upgrade:
    """One step from ``from_version`` to ``from_version + 1``: ``apply(document)`` edits the document in place."""

    from_version: int
    apply: Callable[[MutableMapping[str, Any]], None] = attrs.field(repr=False)
    description: str = ""


def upgrade(from_version: int, description: str = "") -> Callable[[Callable[[MutableMapping[str, Any]], None]], Upgrade]:
    """Decorator turning ``def step(doc): ...`` into an :class:`Upgrade` from ``from_version``."""

    def wrap(fn: Callable[[MutableMapping[str, Any]], None]) -> Upgrade:
        return Upgrade(from_version, fn, description or fn.__name__)

    return wrap


def _split(dotted: str) -> list[str]:
    parts = dotted.split(".")
    if not all(parts):
        raise ValueError(f"bad dotted key {dotted!r}: use names like 'section.key'")
    return parts


def _container(doc: MutableMapping[str, Any], parts: list[str], create: bool) -> MutableMapping[str, Any] | None:
    node: Any = doc
    for part in parts:
        if part not in node:
            if not create:
                return None
            node[part] = tomlkit.table()
        node = node[part]
        if not isinstance(node, MutableMapping):
            return None
    return node  # type: ignore[no-any-return]


def rename_key(from_version: int, old: str, new: str) -> Upgrade:
    """An upgrade step that moves dotted key ``old`` (e.g. ``"a.b"``) to ``new`` (e.g. ``"a.c"``).

    Missing keys are left alone; if ``new`` already exists the old value is dropped (the newer key
    wins). A rename within one table keeps the key's position and trailing comment.
    """
    old_parts, new_parts = _split(old), _split(new)

    def apply(doc: MutableMapping[str, Any]) -> None:
        src = _container(doc, old_parts[:-1], create=False)
        if src is None or old_parts[-1] not in src:
            return
        dst = _container(doc, new_parts[:-1], create=True)
        if dst is None:
            return
        if new_parts[-1] in dst:
            del src[old_parts[-1]]
            return
        if src is dst:
            inner = src.value if isinstance(src, Table) else src
            replace = getattr(inner, "_replace", None)
            if replace is not None:  # tomlkit: rename in place, keeping position and comments
                replace(old_parts[-1], new_parts[-1], src[old_parts[-1]])
                return
        dst[new_parts[-1]] = src.pop(old_parts[-1])

    return Upgrade(from_version, apply, f"rename {old} -> {new}")


def file_version(doc: MutableMapping[str, Any], current: int, where: str) -> int:
    """Return the version a document declares (``current`` if it has no ``config_version``).

    Raises:
        ConfigVersionError: the version is not a positive integer or is newer than ``current``.
    """
    raw = doc.get(VERSION_KEY, current)
    value = raw.unwrap() if hasattr(raw, "unwrap") else raw
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigVersionError(f"{where}: {VERSION_KEY} must be a positive integer, got {value!r}")
    if value > current:
        raise ConfigVersionError(
            f"{where}: {VERSION_KEY} = {value} but this program only knows versions up to {current}; "
            "the file was written by a newer version: upgrade qgactor or restore an older file"
        )
    return value


def apply_upgrades(doc: MutableMapping[str, Any], upgrades: tuple[Upgrade, ...], current: int, where: str) -> list[str]:
    """Run the steps from the document's version up to ``current`` in place; return their descriptions.

    Sets ``config_version`` to ``current`` when a step ran.

    Raises:
        ConfigVersionError: see :func:`file_version`, or a step raised (chained).
    """
    version = file_version(doc, current, where)
    done: list[str] = []
    while version < current:
        for step in (u for u in upgrades if u.from_version == version):
            try:
                step.apply(doc)
            except Exception as exc:
                raise ConfigVersionError(
                    f"{where}: upgrade step {step.description!r} (version {version} -> {version + 1}) failed: {exc!r}"
                ) from exc
            done.append(step.description)
        version += 1
    if VERSION_KEY in doc and doc[VERSION_KEY] != current:
        doc[VERSION_KEY] = current
    return done
