"""Commented TOML documents for config classes (tomlkit), and in-place updates that keep the user's text.

:func:`generate` writes a whole document from an instance (or the class defaults): the class
docstring on top, ``config_version``, then every field with its docstring as comment lines above
it; nested classes become ``[tables]`` and lists of them ``[[arrays of tables]]``.
:func:`update` changes only the keys whose value differs, so comments, ordering, quoting and
unknown keys written by the user survive a program's rewrite. :func:`parse` turns text into a
tomlkit document with syntax errors reported by file and line.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import AoT, Comment, Item, Table, Whitespace

from qgactor.config.convert import to_plain
from qgactor.config.errors import ConfigSyntaxError, Problem
from qgactor.config.schema import ClassSchema, FieldSchema, Kind, Nested, Optional, Seq, Table as TableKind, schema_of
from qgactor.config.upgrade import VERSION_KEY

__all__ = ["generate", "parse", "update"]

_VERSION_DOC = "Version of this file's layout; older files are upgraded automatically. Do not edit."


def parse(text: str, file: str) -> tomlkit.TOMLDocument:
    """Parse TOML text with tomlkit.

    Raises:
        ConfigSyntaxError: the text is not valid TOML (the problem carries file and line).
    """
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigSyntaxError(Problem(file, (), getattr(exc, "line", None), str(exc))) from None


def _comment_block(doc: str) -> str:
    if not doc:
        return ""
    return "".join(f"# {line}".rstrip() + "\n" for line in doc.splitlines())


def _is_table_field(kind: Kind) -> bool:
    inner = kind.inner if isinstance(kind, Optional) else kind
    return isinstance(inner, (Nested, TableKind))


def _is_aot_field(kind: Kind) -> bool:
    inner = kind.inner if isinstance(kind, Optional) else kind
    return isinstance(inner, Seq) and isinstance(inner.item, Nested)


def _defaults(schema: ClassSchema) -> Any:
    try:
        return schema.cls()
    except Exception:  # noqa: BLE001 - required fields: placeholders are written instead
        return None


def _placeholder(field: FieldSchema, first: bool) -> str:
    state = "required" if field.required else "unset"
    kind = field.kind.inner if isinstance(field.kind, Optional) else field.kind
    lead = "" if first else "\n"
    return f"{lead}{_comment_block(field.doc)}# {field.key} = ...  ({state}: {kind.describe()})\n"


def _new_item(field: FieldSchema, value: Any, first: bool) -> Item | None:
    """A tomlkit item for ``field`` with its docstring as comment lines above it."""
    plain = to_plain(field.kind, value)
    if plain is None:
        return None
    kind = field.kind.inner if isinstance(field.kind, Optional) else field.kind
    lead = "" if first else "\n"
    if isinstance(kind, Nested):
        table = tomlkit.table(is_super_table=False)
        _fill(table, schema_of(kind.cls), value)
        table.trivia.indent = "\n" + _comment_block(field.doc)
        return table
    if isinstance(kind, TableKind):
        table = tomlkit.table(is_super_table=False)
        for k, v in plain.items():
            table.add(k, v)
        table.trivia.indent = "\n" + _comment_block(field.doc)
        return table
    if isinstance(kind, Seq) and isinstance(kind.item, Nested):
        item_schema = schema_of(kind.item.cls)
        aot = tomlkit.aot()
        for n, element in enumerate(value):
            table = tomlkit.table()
            _fill(table, item_schema, element)
            table.trivia.indent = "\n" + (_comment_block(field.doc) if n == 0 else "")
            aot.append(table)
        return aot
    item = tomlkit.item(plain)
    item.trivia.indent = (lead if field.doc else "") + _comment_block(field.doc)
    return item


def _aot_example(field: FieldSchema) -> str:
    """Commented-out ``[[key]]`` example for an empty array of tables.

    The item class's ``__config_example__`` instance is used if it has one, else its defaults.
    """
    kind = field.kind.inner if isinstance(field.kind, Optional) else field.kind
    assert isinstance(kind, Seq) and isinstance(kind.item, Nested)
    item_schema = schema_of(kind.item.cls)
    sample = getattr(kind.item.cls, "__config_example__", None)
    example = tomlkit.document()
    table = tomlkit.table()
    _fill(table, item_schema, sample if sample is not None else _defaults(item_schema))
    aot = tomlkit.aot()
    aot.append(table)
    example.add(field.key, aot)
    body = "".join(f"# {line}".rstrip() + "\n" for line in example.as_string().strip("\n").splitlines())
    return f"\n{_comment_block(field.doc)}# (none yet; an example:)\n{body}"


def _fill(container: Any, schema: ClassSchema, instance: Any) -> None:
    first = True
    values = {f.name: getattr(instance, f.name) if instance is not None else None for f in schema.fields}
    defaults = _defaults(schema)
    examples = []

    def order(f: FieldSchema) -> tuple[bool, bool]:
        return (_is_aot_field(f.kind) and bool(values[f.name]), _is_table_field(f.kind))

    for field in sorted(schema.fields, key=order):
        value = values[field.name]
        if _is_aot_field(field.kind) and not value:
            examples.append(field)
            default = getattr(defaults, field.name, None) if defaults is not None else None
            if value is not None and default:  # explicitly empty where the default is not
                container.add(field.key, tomlkit.array())
        elif value is None:
            container.add(_raw_comment(_placeholder(field, first)))
        else:
            item = _new_item(field, value, first)
            if item is None:
                continue
            container.add(field.key, item)
        first = False
    for field in examples:  # last, so uncommenting an example in place is valid TOML
        container.add(_raw_comment(_aot_example(field)))


def _raw_comment(text: str) -> Item:
    """A tomlkit item rendering ``text`` (complete comment lines) verbatim."""
    item = tomlkit.comment("x")
    item.trivia.indent = ""
    item.trivia.comment_ws = ""
    item.trivia.comment = text.rstrip("\n")
    item.trivia.trail = "\n"
    return item


def generate(cls: type, instance: Any = None) -> tomlkit.TOMLDocument:
    """Return a commented document for ``instance`` (default: the class defaults).

    Raises:
        ConfigSchemaError: ``cls`` is not a valid config class.
    """
    schema = schema_of(cls)
    doc = tomlkit.document()
    if schema.doc:
        for line in schema.doc.splitlines():
            doc.add(tomlkit.comment(line) if line.strip() else tomlkit.comment(""))
        doc.add(tomlkit.nl())
    version = tomlkit.item(schema.version)
    version.trivia.indent = _comment_block(_VERSION_DOC)
    doc.add(VERSION_KEY, version)
    doc.add(tomlkit.nl())
    _fill(doc, schema, instance if instance is not None else _defaults(schema))
    return doc


def _unwrap(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def update(container: MutableMapping[str, Any], instance: Any, base: Any = None) -> None:
    """Write ``instance``'s values into an existing document (or table) in place.

    Only keys whose value differs are replaced (tomlkit keeps their trailing comments); missing
    keys are added with their docstrings; unset optionals are removed; keys the class does not
    know are left alone. With ``base`` (the config the program started from), only fields that
    differ between ``base`` and ``instance`` are written, so an edit the user made to the file
    meanwhile is not overwritten with a stale value (a three-way merge).

    Raises:
        ConfigSchemaError: the instance's class is not a valid config class.
    """
    schema = schema_of(type(instance))
    if base is not None and type(base) is not type(instance):
        base = None
    for field in schema.fields:
        value = getattr(instance, field.name)
        base_value = getattr(base, field.name) if base is not None else None
        if base is not None and base_value == value:
            continue  # the program did not change it: keep whatever the file says
        plain = to_plain(field.kind, value)
        kind = field.kind.inner if isinstance(field.kind, Optional) else field.kind
        if field.key not in container:
            item = _new_item(field, value, first=False)
            if item is not None:
                _insert_key(container, field.key, item)
            continue
        if plain is None:
            del container[field.key]
            continue
        existing = container[field.key]
        if isinstance(kind, Nested) and isinstance(existing, MutableMapping):
            update(existing, value, base_value)
        elif isinstance(kind, TableKind) and isinstance(existing, MutableMapping):
            for k in [k for k in existing if k not in plain]:
                del existing[k]
            for k, v in plain.items():
                if k not in existing:
                    _insert_key(existing, k, tomlkit.item(v))
                elif not _same(_unwrap(existing[k]), v):
                    existing[k] = v
        elif (
            isinstance(kind, Seq) and isinstance(kind.item, Nested)
            and isinstance(existing, AoT) and len(existing) == len(value)
        ):
            bases = list(base_value) if base_value is not None and len(base_value) == len(value) else []
            for n, (table, element) in enumerate(zip(existing, value)):
                update(table, element, bases[n] if bases else None)
        elif not _same(_unwrap(existing), plain):
            new_item = _new_item(field, value, first=False)
            if isinstance(existing, (Table, AoT)) or isinstance(new_item, (Table, AoT)):
                del container[field.key]  # the shape changed (e.g. [[jobs]] <-> jobs = []): re-place it
                if isinstance(new_item, (Table, AoT)):
                    container[field.key] = new_item
                else:
                    _insert_key(container, field.key, tomlkit.item(plain))
            else:
                container[field.key] = plain


def _same(a: Any, b: Any) -> bool:
    """Equal as config values (``1 == 1.0`` counts as equal, ``true`` and ``1`` do not)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _insert_key(container: Any, key: str, item: Item) -> None:
    """Add a new key where a human would: over its ``# key = ...`` placeholder if there is one,
    else after the last key of the container (before comments that introduce the next table)."""
    inner = container.value if isinstance(container, Table) else container
    body = getattr(inner, "body", None)
    insert_at = getattr(inner, "_insert_at", None)
    if isinstance(item, (Table, AoT)) or body is None or insert_at is None:
        container[key] = item
        return
    marker = f"# {key} = ..."
    for index, (k, v) in enumerate(body):
        if k is None and isinstance(v, Comment) and v.trivia.comment.startswith(marker):
            item.trivia.indent = ""
            v.trivia.indent = v.trivia.comment = v.trivia.comment_ws = v.trivia.trail = ""  # renders nothing
            insert_at(index, key, item)
            return
    end = next((i for i, (_, v) in enumerate(body) if isinstance(v, (Table, AoT))), len(body))
    while end > 0 and body[end - 1][0] is None and isinstance(body[end - 1][1], (Comment, Whitespace)):
        end -= 1
    if end >= len(body):
        container[key] = item
    else:
        insert_at(end, key, item)
