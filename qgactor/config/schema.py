"""What a config class may contain, checked once per class.

A config class is an attrs class whose fields have types TOML can hold: ``str``, ``int``,
``float``, ``bool``, ``list[T]``, ``tuple[T, ...]``, ``set[T]``/``frozenset[T]``,
``dict[str, T]``, ``Literal[...]`` of scalars, unions of scalars (``int | str``), ``T | None``,
and nested config classes (TOML tables; ``list[Nested]`` is an array of tables). Anything else
(paths, datetimes, enums, ``Any``, fixed-length tuples, non-``str`` dict keys) is rejected with a
:class:`~qgactor.config.errors.ConfigSchemaError` naming the class, the field and the type.

:func:`config_class` declares a frozen, slotted config class and checks it at once.
:func:`schema_of` checks (and caches) any attrs class, e.g. a plugin's plain
``@attrs.define class Config``, the first time it is used.
"""

from __future__ import annotations

import sys
import types
import typing
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

import attrs

from qgactor.config.docstrings import attribute_docs, class_doc
from qgactor.config.errors import ConfigSchemaError
from qgactor.config.upgrade import Upgrade

__all__ = [
    "AnyValue", "Choice", "ClassSchema", "FieldSchema", "Kind", "Nested", "Optional", "Scalar",
    "Seq", "Table", "Union", "config_class", "schema_of",
]

C = TypeVar("C", bound=type)
_SECRET_WORDS = ("secret", "token", "password", "passwd", "apikey", "api_key", "private_key")


@attrs.frozen
class Kind:
    """Base of the field kinds (a tiny type model of what TOML can hold)."""

    def describe(self) -> str:
        """Return a human phrase for messages, e.g. ``"an array of strings"``."""
        raise NotImplementedError


_SCALAR_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


@attrs.frozen
class Scalar(Kind):
    """``str``, ``int``, ``float`` (integers are accepted and converted) or ``bool``."""

    py: type

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        return _SCALAR_NAMES[self.py]


@attrs.frozen
class Choice(Kind):
    """``Literal[...]``: one of a fixed set of scalar values."""

    values: tuple[Any, ...]

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        return "one of " + ", ".join(_toml_repr(v) for v in self.values)


@attrs.frozen
class AnyValue(Kind):
    """An element of a bare ``list``/``dict``/``set``: any TOML value."""

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        return "any TOML value"


@attrs.frozen
class Seq(Kind):
    """A TOML array read into ``container`` (list, tuple, set or frozenset)."""

    item: Kind
    container: type

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        if isinstance(self.item, Nested):
            return f"an array of tables ([[...]]) of {self.item.cls.__name__} settings"
        if isinstance(self.item, AnyValue):
            return "an array"
        return f"an array of {_plural(self.item.describe())}"


@attrs.frozen
class Table(Kind):
    """``dict[str, T]``: a TOML table with free keys."""

    value: Kind

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        if isinstance(self.value, AnyValue):
            return "a table"
        return f"a table whose values are {_plural(self.value.describe())}"


@attrs.frozen
class Nested(Kind):
    """A nested config class: a TOML table with the class's keys."""

    cls: type

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        return f"a table of {self.cls.__name__} settings"


@attrs.frozen
class Union(Kind):
    """A union of scalar kinds, e.g. ``int | str``; the first that fits wins."""

    options: tuple[Kind, ...]

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        return " or ".join(o.describe() for o in self.options)


@attrs.frozen
class Optional(Kind):
    """``T | None``: leaving the key out of the file means ``None``."""

    inner: Kind

    def describe(self) -> str:
        """See :meth:`Kind.describe`."""
        return f"{self.inner.describe()} (or leave the key out)"


def _plural(phrase: str) -> str:
    for article in ("an ", "a "):
        if phrase.startswith(article):
            word, _, rest = phrase[len(article):].partition(" ")
            return f"{word}s {rest}".strip()
    return phrase


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


@attrs.frozen
class FieldSchema:
    """One field of a config class as the config layer sees it."""

    name: str
    """Attribute name."""
    key: str
    """TOML key: ``metadata={"key": ...}`` if given (e.g. ``"class"``), else the constructor keyword."""
    init: str
    """Constructor keyword (the attrs alias: ``_x`` -> ``x``)."""
    kind: Kind
    doc: str
    """The attribute docstring ("" if none)."""
    required: bool
    """True when the field has no default (the file must set it)."""
    sensitive: bool
    """True for secrets: values are never shown in messages or logs."""
    attribute: Any = attrs.field(eq=False, repr=False)
    """The ``attrs.Attribute``."""


@attrs.frozen
class ClassSchema:
    """The checked schema of a config class."""

    cls: type
    fields: tuple[FieldSchema, ...]
    doc: str
    version: int
    upgrades: tuple[Upgrade, ...]

    def field(self, key: str) -> FieldSchema | None:
        """Return the field whose TOML key is ``key``, or ``None``."""
        return next((f for f in self.fields if f.key == key), None)


_schemas: weakref.WeakKeyDictionary[type, ClassSchema] = weakref.WeakKeyDictionary()


def schema_of(cls: type) -> ClassSchema:
    """Check ``cls`` as a config class and return its (cached) schema.

    Raises:
        ConfigSchemaError: ``cls`` is not an attrs class, a field's type is not allowed, an
            annotation cannot be resolved, or ``__config_version__``/``__config_upgrades__``
            are malformed. The message names the class and the field.
    """
    try:
        return _schemas[cls]
    except KeyError:
        pass
    schema = _build_schema(cls, ())
    _schemas[cls] = schema
    return schema


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _enclosing_namespace(cls: type) -> dict[str, Any]:
    """Names visible from a class nested in other classes (``Weather.Config`` sees ``Weather``'s body)."""
    ns: dict[str, Any] = {}
    module = sys.modules.get(cls.__module__)
    parts = cls.__qualname__.split(".")[:-1]
    if module is None or "<locals>" in parts:
        return ns
    obj: Any = module
    for part in parts:
        obj = getattr(obj, part, None)
        if obj is None:
            break
        ns.update({k: v for k, v in vars(obj).items() if isinstance(v, type)})
    return ns


def _build_schema(cls: type, stack: tuple[type, ...]) -> ClassSchema:
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise ConfigSchemaError(
            f"{cls!r} is not an attrs class: declare config classes with @config_class or @attrs.define"
        )
    if cls in stack:
        chain = " -> ".join(c.__qualname__ for c in (*stack, cls))
        raise ConfigSchemaError(f"config class {_name(cls)} contains itself ({chain}); TOML tables cannot recurse")
    try:
        hints = typing.get_type_hints(cls, localns=_enclosing_namespace(cls))
    except Exception as exc:  # NameError, TypeError, SyntaxError from string annotations
        raise ConfigSchemaError(
            f"cannot resolve the annotations of config class {_name(cls)}: {exc!r}. Define the types it "
            "refers to at module level (or before this class), or avoid `from __future__ import annotations` "
            "for classes defined inside functions"
        ) from None
    docs = attribute_docs(cls)
    fields = []
    for attribute in attrs.fields(cls):
        if not attribute.init:
            continue
        where = f"field {attribute.name!r} of config class {_name(cls)}"
        tp = hints.get(attribute.name, attribute.type)
        if tp is None or isinstance(tp, str):
            raise ConfigSchemaError(f"{where} has no usable type annotation; annotate it (e.g. `name: str = ...`)")
        kind = _kind_of(tp, where, (*stack, cls))
        init = getattr(attribute, "alias", None) or attribute.name.lstrip("_")
        key = attribute.metadata.get("key", init)
        if not isinstance(key, str) or not key:
            raise ConfigSchemaError(f"{where}: metadata 'key' must be a non-empty string, got {key!r}")
        fields.append(
            FieldSchema(
                name=attribute.name,
                key=key,
                init=init,
                kind=kind,
                doc=docs.get(attribute.name, ""),
                required=attribute.default is attrs.NOTHING,
                sensitive=_is_sensitive(attribute),
                attribute=attribute,
            )
        )
    version = getattr(cls, "__config_version__", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigSchemaError(f"{_name(cls)}.__config_version__ must be a positive integer, got {version!r}")
    upgrades = tuple(getattr(cls, "__config_upgrades__", ()))
    for up in upgrades:
        if not isinstance(up, Upgrade):
            raise ConfigSchemaError(
                f"{_name(cls)}.__config_upgrades__ must hold Upgrade objects (see rename_key/upgrade), got {up!r}"
            )
        if not 1 <= up.from_version < version:
            raise ConfigSchemaError(
                f"{_name(cls)}: upgrade {up.description!r} starts at version {up.from_version}, but the class "
                f"is at version {version}; an upgrade must start at a version in 1..{version - 1}"
            )
    return ClassSchema(cls=cls, fields=tuple(fields), doc=class_doc(cls), version=version,
                       upgrades=tuple(sorted(upgrades, key=lambda u: u.from_version)))


def _is_sensitive(attribute: Any) -> bool:
    if attribute.metadata.get("secret") is not None:
        return bool(attribute.metadata["secret"])
    if attribute.repr is not True:
        return True
    name = attribute.name.lower().strip("_")
    return any(name == word or name.endswith("_" + word) for word in _SECRET_WORDS)


_SCALARS = (str, int, float, bool)
_SEQS = {list: list, tuple: tuple, set: frozenset, frozenset: frozenset}


def _kind_of(tp: Any, where: str, stack: tuple[type, ...]) -> Kind:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _kind_of(args[0], where, stack)
    if tp in _SCALARS:
        return Scalar(tp)
    if origin is typing.Literal:
        if not all(isinstance(v, _SCALARS) for v in args):
            raise ConfigSchemaError(f"{where}: Literal values must be str, int, float or bool, got {tp!r}")
        return Choice(tuple(args))
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner: Kind
        if len(options) == 1:
            inner = _kind_of(options[0], where, stack)
        else:
            kinds = tuple(_kind_of(a, where, stack) for a in options)
            if not all(isinstance(k, (Scalar, Choice)) for k in kinds):
                raise ConfigSchemaError(
                    f"{where}: a union may only combine scalar types (str, int, float, bool, Literal), got {tp!r}"
                )
            inner = Union(kinds)
        return Optional(inner) if len(options) < len(args) else inner
    if tp in _SEQS or origin in _SEQS:
        container = _SEQS[origin or tp]
        if not args:
            return Seq(AnyValue(), container)
        if container is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise ConfigSchemaError(
                f"{where}: only variable-length tuples (tuple[T, ...]) are allowed, got {tp!r}; use a nested config class"
            )
        item = _kind_of(args[0], where, stack)
        if isinstance(item, Nested) and container is not list and container is not tuple:
            raise ConfigSchemaError(f"{where}: a set cannot hold tables; use list[{item.cls.__name__}]")
        return Seq(item, container)
    if tp is dict or origin is dict:
        if not args:
            return Table(AnyValue())
        if args[0] is not str:
            raise ConfigSchemaError(f"{where}: TOML table keys are strings, so use dict[str, ...], got {tp!r}")
        return Table(_kind_of(args[1], where, stack))
    if isinstance(tp, type) and attrs.has(tp):
        _build_schema(tp, stack)  # check it (and catch recursion) now
        return Nested(tp)
    raise ConfigSchemaError(
        f"{where} has type {getattr(tp, '__name__', tp)!r}, which TOML cannot hold. Allowed: str, int, float, bool, "
        "list[T], tuple[T, ...], set[T], dict[str, T], Literal[...], unions of scalars, T | None and nested "
        "config classes"
    )


@overload
def config_class(cls: C, /) -> C: ...
@overload
def config_class(
    *, version: int | None = None, upgrades: Sequence[Upgrade] | None = None, frozen: bool = True
) -> Callable[[C], C]: ...


def config_class(
    cls: Any = None, /, *, version: int | None = None, upgrades: Sequence[Upgrade] | None = None,
    frozen: bool = True,
) -> Any:
    """Declare a config class: ``attrs.frozen`` (or ``attrs.define`` with ``frozen=False``) + a schema check.

    Use bare (``@config_class``) or with options (``@config_class(version=2, upgrades=[...])``).
    ``version`` (default: the class body's ``__config_version__``, else 1) becomes the file's
    ``config_version``; ``upgrades`` (default: ``__config_upgrades__``) bring older files up to it.
    A class that already is an attrs class is only checked.

    Raises:
        ConfigSchemaError: a field's type is not allowed (see :mod:`qgactor.config.schema`).
    """

    def wrap(c: type) -> type:
        if not attrs.has(c):
            c = attrs.frozen(c) if frozen else attrs.define(c)
        if version is not None:
            c.__config_version__ = version  # type: ignore[attr-defined]
        if upgrades is not None:
            c.__config_upgrades__ = tuple(upgrades)  # type: ignore[attr-defined]
        _schemas.pop(c, None)
        schema_of(c)
        return c

    return wrap(cls) if cls is not None else wrap
