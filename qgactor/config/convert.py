"""Convert between plain TOML data (dicts, lists, scalars) and config instances.

:func:`build` checks every key against the schema and collects *all* problems (with key paths)
before giving up, then calls the class constructor so attrs validators and converters run too.
Loaded containers are read-only (:mod:`qgactor.config.frozen`). :func:`to_plain` is the reverse,
used to write files.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import attrs

from qgactor.config.errors import KeyPath
from qgactor.config.frozen import FrozenDict, FrozenList
from qgactor.config.schema import (
    AnyValue, Choice, Kind, Nested, Optional, Scalar, Seq, Table, Union, schema_of,
)
from qgactor.config.upgrade import VERSION_KEY

__all__ = ["Collector", "INVALID", "build", "instance_to_plain", "to_plain"]

_ATTRS_CONVERTER: Any = getattr(attrs, "Converter", ())  # attrs >= 24.1 (takes_self/takes_field converters)


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()
"""Returned by :func:`build`/:func:`convert` for a value that had problems (see the collector)."""


@attrs.define
class Collector:
    """Problems and unknown keys found while building, as ``(key path, message)`` pairs."""

    problems: list[tuple[KeyPath, str]] = attrs.Factory(list)
    unknown: list[KeyPath] = attrs.Factory(list)

    def add(self, path: KeyPath, message: str) -> None:
        """Record a problem at ``path``."""
        self.problems.append((path, message))


def _type_phrase(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date/time"
    return type(value).__name__


def _shown(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "(value hidden)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _freeze_any(value: Any) -> Any:
    if isinstance(value, dict):
        return FrozenDict({k: _freeze_any(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList(_freeze_any(v) for v in value)
    return value


def convert(kind: Kind, value: Any, path: KeyPath, out: Collector, sensitive: bool = False) -> Any:
    """Check ``value`` (plain TOML data) against ``kind``; return the Python value or :data:`INVALID`."""

    def wrong() -> Any:
        out.add(path, f"expected {kind.describe()}, got {_type_phrase(value)} {_shown(value, sensitive)}")
        return INVALID

    if isinstance(kind, Optional):
        return convert(kind.inner, value, path, out, sensitive)
    if isinstance(kind, Scalar):
        if kind.py is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, kind.py) and (kind.py is bool or not isinstance(value, bool)):
            return value
        return wrong()
    if isinstance(kind, Choice):
        for choice in kind.values:
            if type(choice) is type(value) and choice == value:
                return value
        out.add(path, f"expected {kind.describe()}, got {_shown(value, sensitive)}")
        return INVALID
    if isinstance(kind, Union):
        for option in kind.options:
            scratch = Collector()
            result = convert(option, value, path, scratch, sensitive)
            if result is not INVALID:
                return result
        return wrong()
    if isinstance(kind, AnyValue):
        return _freeze_any(value)
    if isinstance(kind, Seq):
        if not isinstance(value, list):
            return wrong()
        items = [convert(kind.item, v, (*path, n), out, sensitive) for n, v in enumerate(value)]
        if any(i is INVALID for i in items):
            return INVALID
        if kind.container is list:
            return FrozenList(items)
        try:
            return kind.container(items)
        except TypeError as exc:  # unhashable set members
            out.add(path, f"cannot make a set of these values: {exc}")
            return INVALID
    if isinstance(kind, Table):
        if not isinstance(value, dict):
            return wrong()
        entries = {k: convert(kind.value, v, (*path, k), out, sensitive) for k, v in value.items()}
        if any(v is INVALID for v in entries.values()):
            return INVALID
        return FrozenDict(entries)
    if isinstance(kind, Nested):
        if not isinstance(value, dict):
            return wrong()
        return build(kind.cls, value, path, out)
    raise AssertionError(f"unknown kind {kind!r}")


class _NoInstance:
    """Stands in for the instance when a field validator is checked on its own."""


def build(cls: type, data: dict[str, Any], path: KeyPath, out: Collector) -> Any:
    """Build an instance of config class ``cls`` from a plain TOML table.

    Every problem is recorded in ``out`` (with its key path); returns :data:`INVALID` if there were
    any. Unknown keys are recorded in ``out.unknown`` and otherwise ignored.

    Raises:
        ConfigSchemaError: ``cls`` is not a valid config class.
    """
    schema = schema_of(cls)
    before = len(out.problems)
    kwargs: dict[str, Any] = {}
    for field in schema.fields:
        key_path = (*path, field.key)
        if field.key not in data:
            if field.required:
                out.add(key_path, f"missing; this setting is required ({field.kind.describe()})")
            continue
        value = convert(field.kind, data[field.key], key_path, out, field.sensitive)
        if value is INVALID:
            continue
        _check_field(field.attribute, value, key_path, out, field.sensitive)
        kwargs[field.init] = value
    known = {f.key for f in schema.fields}
    for key in data:
        if key not in known and not (key == VERSION_KEY and not path):
            out.unknown.append((*path, key))
    if len(out.problems) > before:
        return INVALID
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        out.add(path, f"rejected by {cls.__name__}: {exc}")
        return INVALID
    except Exception as exc:  # noqa: BLE001 - e.g. __attrs_post_init__ checks: still a bad value, not a crash
        out.add(path, f"rejected by {cls.__name__}: {type(exc).__name__}: {exc}")
        return INVALID


def _check_field(attribute: Any, value: Any, path: KeyPath, out: Collector, sensitive: bool) -> None:
    """Run one field's converter and validator alone, so a failure is reported at its own key."""
    try:
        converter: Callable[[Any], Any] | None = attribute.converter
        if converter is not None and not isinstance(converter, _ATTRS_CONVERTER):
            value = converter(value)
        if attribute.validator is not None:
            attribute.validator(_NoInstance(), attribute, value)
    except (ValueError, TypeError) as exc:
        message = str(exc) if not sensitive else f"invalid value ({type(exc).__name__}); value hidden"
        out.add(path, message)
    except Exception:  # noqa: BLE001 - a validator needing the whole instance: the constructor checks it
        pass


def to_plain(kind: Kind, value: Any) -> Any:
    """Return the plain TOML data for ``value`` of ``kind`` (``None`` for an unset optional)."""
    if value is None:
        return None
    if isinstance(kind, Optional):
        return to_plain(kind.inner, value)
    if isinstance(kind, Nested):
        return instance_to_plain(value)
    if isinstance(kind, Seq):
        items = [to_plain(kind.item, v) for v in value]
        if kind.container is frozenset:
            try:
                items.sort()
            except TypeError:
                pass
        return items
    if isinstance(kind, Table):
        return {str(k): to_plain(kind.value, v) for k, v in value.items()}
    if isinstance(kind, AnyValue):
        return to_plain_any(value)
    return value


def to_plain_any(value: Any) -> Any:
    """Plain copy of an untyped container tree (sets become sorted arrays)."""
    if isinstance(value, dict):
        return {str(k): to_plain_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain_any(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_plain_any(v) for v in value]
        try:
            items.sort()
        except TypeError:
            pass
        return items
    return value


def instance_to_plain(instance: Any) -> dict[str, Any]:
    """Return ``{key: plain value}`` of a config instance; unset optionals are left out."""
    schema = schema_of(type(instance))
    out: dict[str, Any] = {}
    for field in schema.fields:
        plain = to_plain(field.kind, getattr(instance, field.name))
        if plain is not None:
            out[field.key] = plain
    return out
