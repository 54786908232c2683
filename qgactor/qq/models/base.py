"""The model base: slotted attrs classes parsed from JSON dicts by generated code.

Every model keeps the dict it was parsed from in ``.raw`` and answers attribute access for
keys it does not declare from there, so a field the platform adds tomorrow is readable as
``model.new_field`` today. Declared fields missing from the payload are ``None`` (lists:
``[]``); a nested object of the wrong JSON type becomes ``None`` (the original stays in
``.raw``). Parsing never raises on a dict.

Speed: the ``@model`` decorator generates one straight-line ``parse(d)`` function per class
from the field declarations (``value``, ``text``, ``nested``, ``nested_list``, ``plain_list``,
``context``), so parsing does no per-field dispatch, validation or reflection.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, TypeVar

import attrs

from qgactor.qq.errors import EventParseError
from qgactor.qq.text import unescape

__all__ = ["Model", "model", "value", "text", "nested", "nested_list", "plain_list", "context"]

_KIND = "qq_kind"
_KEY = "qq_key"
_MODEL = "qq_model"

M = TypeVar("M", bound="Model")


@attrs.define(kw_only=True, slots=True)
class Model:
    """Base of all platform models: ``.raw`` plus attribute access to unknown keys."""

    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    _parse: ClassVar[Callable[[dict[str, Any]], Any]]

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup failed: an undeclared field
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            raw = object.__getattribute__(self, "raw")
        except AttributeError:
            raise AttributeError(name) from None
        try:
            return raw[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no field {name!r} (payload keys: {sorted(raw)[:20]})"
            ) from None

    def get(self, key: str, default: Any = None) -> Any:
        """The raw payload value of ``key`` (declared or not), or ``default``."""
        return self.raw.get(key, default)

    @classmethod
    def from_dict(cls: type[M], data: Any) -> M:
        """Parse a JSON object into this model. Raises ``EventParseError`` if it is not a dict."""
        if type(data) is not dict:
            if isinstance(data, dict):
                data = dict(data)
            else:
                raise EventParseError(
                    f"{cls.__name__} expects a JSON object, got {type(data).__name__}", data=data
                )
        return cls._parse(data)  # type: ignore[no-any-return]

    @classmethod
    def from_list(cls: type[M], data: Any) -> list[M]:
        """Parse a JSON array of objects (non-objects are skipped). Raises ``EventParseError``
        if ``data`` is not a list."""
        if not isinstance(data, list):
            raise EventParseError(f"{cls.__name__} list expects a JSON array, got {type(data).__name__}",
                                  data=data)
        parse = cls._parse
        return [parse(x) for x in data if type(x) is dict]


def value(key: str | None = None) -> Any:
    """A field copied as is from ``d[key]`` (default key: the field name), ``None`` if absent."""
    return attrs.field(default=None, metadata={_KIND: "value", _KEY: key})


def text(key: str | None = None) -> Any:
    """A string field with the platform's HTML entities (``&amp; &lt; &gt;``) unescaped."""
    return attrs.field(default=None, metadata={_KIND: "text", _KEY: key})


def nested(model_cls: type[Model], key: str | None = None) -> Any:
    """A nested object parsed as ``model_cls`` (``None`` if absent or not an object)."""
    return attrs.field(default=None, metadata={_KIND: "nested", _KEY: key, _MODEL: model_cls})


def nested_list(model_cls: type[Model], key: str | None = None) -> Any:
    """A list of objects parsed as ``model_cls`` (``[]`` if absent; non-objects skipped)."""
    return attrs.field(factory=list, metadata={_KIND: "list", _KEY: key, _MODEL: model_cls})


def plain_list(key: str | None = None) -> Any:
    """A list copied as is (``[]`` if absent or not a list)."""
    return attrs.field(factory=list, metadata={_KIND: "plain_list", _KEY: key})


def context(default: Any = None, *, repr: bool = True) -> Any:
    """A field not read from the payload (event name, event id, bot id...): set by the parser's caller."""
    return attrs.field(default=default, repr=repr, eq=False, metadata={_KIND: "context"})


def _build_parser(cls: type[Model]) -> Callable[[dict[str, Any]], Any]:
    ns: dict[str, Any] = {"_new": object.__new__, "cls": cls, "_unescape": unescape}
    lines = ["def parse(d):", "    self = _new(cls)", "    self.raw = d", "    g = d.get"]
    for i, a in enumerate(attrs.fields(cls)):
        if a.name == "raw":
            continue
        kind = a.metadata.get(_KIND, "context")
        key = a.metadata.get(_KEY) or a.name
        name = a.name
        if kind == "value":
            lines.append(f"    self.{name} = g({key!r})")
        elif kind == "text":
            lines.append(f"    v = g({key!r})")
            lines.append(f"    self.{name} = _unescape(v) if v.__class__ is str and '&' in v else v")
        elif kind == "nested":
            ns[f"m{i}"] = a.metadata[_MODEL]._parse
            lines.append(f"    v = g({key!r})")
            lines.append(f"    self.{name} = m{i}(v) if v.__class__ is dict else None")
        elif kind == "list":
            ns[f"m{i}"] = a.metadata[_MODEL]._parse
            lines.append(f"    v = g({key!r})")
            lines.append(f"    self.{name} = [m{i}(x) for x in v if x.__class__ is dict] "
                         f"if v.__class__ is list else []")
        elif kind == "plain_list":
            lines.append(f"    v = g({key!r})")
            lines.append(f"    self.{name} = v if v.__class__ is list else []")
        else:  # context / plain attrs field: its default
            default = a.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                ns[f"f{i}"] = default.factory
                lines.append(f"    self.{name} = f{i}()")
            else:
                ns[f"d{i}"] = None if default is attrs.NOTHING else default
                lines.append(f"    self.{name} = d{i}")
    lines.append("    return self")
    source = "\n".join(lines)
    exec(compile(source, f"<qgactor model parser {cls.__qualname__}>", "exec"), ns)  # noqa: S102
    return ns["parse"]  # type: ignore[no-any-return]


def model(cls: type[M]) -> type[M]:
    """Class decorator: make ``cls`` a slotted keyword-only attrs model and generate its parser."""
    made = attrs.define(kw_only=True, slots=True)(cls)
    made._parse = _build_parser(made)
    return made
