"""Config class checks: allowed and rejected field types, attribute docstrings."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest

from qgactor.config import ConfigFile, ConfigSchemaError, config_class, rename_key, schema_of
from qgactor.config.docstrings import attribute_docs
from qgactor.config.schema import Choice, Nested, Optional, Scalar, Seq, Table, Union


@config_class
class Inner:
    """Inner settings."""

    host: str = "h"
    """The host."""


@config_class
class Every:
    """One field of each allowed kind."""

    s: str = "x"
    """A string."""
    i: int = 1
    f: float = 1.5
    b: bool = False
    l: list[int] = attrs.Factory(list)
    t: tuple[str, ...] = ()
    st: set[str] = attrs.Factory(set)
    d: dict[str, float] = attrs.Factory(dict)
    bare: list = attrs.Factory(list)  # type: ignore[type-arg]
    lit: Literal["a", "b"] = "a"
    u: int | str = 1
    o: str | None = None
    n: Inner = attrs.Factory(Inner)
    aot: list[Inner] = attrs.Factory(list)


def test_every_allowed_kind_is_accepted_and_classified() -> None:
    kinds = {f.key: f.kind for f in schema_of(Every).fields}
    assert kinds["s"] == Scalar(str) and kinds["f"] == Scalar(float) and kinds["b"] == Scalar(bool)
    assert kinds["l"] == Seq(Scalar(int), list)
    assert kinds["t"] == Seq(Scalar(str), tuple)
    assert kinds["st"] == Seq(Scalar(str), frozenset)
    assert kinds["d"] == Table(Scalar(float))
    assert kinds["lit"] == Choice(("a", "b"))
    assert kinds["u"] == Union((Scalar(int), Scalar(str)))
    assert kinds["o"] == Optional(Scalar(str))
    assert kinds["n"] == Nested(Inner)
    assert kinds["aot"] == Seq(Nested(Inner), list)
    # config_class makes frozen classes
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Every().s = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("annotation", "needle"),
    [
        (Path, "'Path'"),
        (datetime.datetime, "'datetime'"),
        (Any, "Any"),
        (dict[int, str], "dict[str, ...]"),
        (tuple[int, str], "tuple[T, ...]"),
        (int | Inner, "union"),
        (set[Inner], "set cannot hold tables"),
        (list[bytes], "'bytes'"),
    ],
)
def test_bad_field_types_are_rejected_at_definition(annotation: Any, needle: str) -> None:
    with pytest.raises(ConfigSchemaError) as info:
        config_class(type("Bad", (), {"__annotations__": {"field": annotation}, "__module__": __name__}))
    message = str(info.value)
    assert "field 'field'" in message and "Bad" in message
    assert needle in message


def test_plain_attrs_class_is_checked_on_first_use(tmp_path: Path) -> None:
    @attrs.define
    class PluginConfig:
        when: datetime.date = datetime.date(2020, 1, 1)

    with pytest.raises(ConfigSchemaError, match="when"):
        ConfigFile(PluginConfig, tmp_path / "p.toml")


def test_unresolvable_annotation_says_what_to_do() -> None:
    def make() -> type:
        class Local:
            pass

        @attrs.define
        class Uses:
            x: Local = attrs.Factory(Local)  # string annotation: Local is a function local

        return Uses

    with pytest.raises(ConfigSchemaError, match="cannot resolve"):
        schema_of(make())


def test_recursive_class_is_rejected() -> None:
    @attrs.define
    class Node:
        child: list[Node] = attrs.Factory(list)

    globals()["Node"] = Node
    try:
        with pytest.raises(ConfigSchemaError, match="contains itself"):
            schema_of(Node)
    finally:
        del globals()["Node"]


@attrs.define
class Parent:
    a: int = 1
    """Parent doc of a.

    Second paragraph of a."""
    b: int = 2
    """Parent doc of b."""


@attrs.define
class Child(Parent):
    b: int = 3
    """Child doc of b."""
    c: str = "c"
    d: str = attrs.field(default="d", metadata={"doc": "doc from metadata"})


def test_docstrings_inherited_overridden_multiline_and_metadata() -> None:
    docs = attribute_docs(Child)
    assert docs["a"] == "Parent doc of a.\n\nSecond paragraph of a."
    assert docs["b"] == "Child doc of b."
    assert "c" not in docs
    assert docs["d"] == "doc from metadata"


def test_docstrings_of_class_defined_in_a_test_function_and_in_a_plugin_class() -> None:
    class Weather:  # like a Plugin subclass with a nested Config
        @attrs.define
        class Config:
            city: str = "Shenzhen"
            """Default city."""
            units: str = "metric"
            """Units:
            metric or imperial."""

    docs = attribute_docs(Weather.Config)
    assert docs == {"city": "Default city.", "units": "Units:\nmetric or imperial."}


def test_nested_plugin_class_can_refer_to_a_sibling_class() -> None:
    # the string annotation "Location" only resolves through the enclosing class body
    assert schema_of(PluginLike.Config).field("where").kind == Nested(PluginLike.Location)  # type: ignore[union-attr]


class PluginLike:
    @attrs.define
    class Location:
        name: str = "x"

    @attrs.define
    class Config:
        where: Location = attrs.Factory(lambda: PluginLike.Location())


def test_upgrade_versions_are_checked() -> None:
    with pytest.raises(ConfigSchemaError, match="starts at version 3"):

        @config_class(version=2, upgrades=[rename_key(3, "a", "b")])
        class Bad:
            b: int = 0

    @config_class(version=3, upgrades=[rename_key(2, "x", "y"), rename_key(1, "w", "x")])
    class Good:
        y: int = 0

    assert [u.from_version for u in schema_of(Good).upgrades] == [1, 2]


def test_secret_fields_are_detected() -> None:
    @attrs.define
    class Creds:
        appid: str = ""
        secret: str = ""
        hidden: str = attrs.field(default="", repr=False)
        plain: str = attrs.field(default="", metadata={"secret": False})

    sensitive = {f.key for f in schema_of(Creds).fields if f.sensitive}
    assert sensitive == {"secret", "hidden"}


def _import_file(name: str, path: Path) -> Any:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_docstrings_of_a_plugin_module_follow_code_reloads(tmp_path: Path) -> None:
    import sys

    source = tmp_path / "weather_plugin.py"
    template = (
        "import attrs\n\n"
        "class Weather:\n"
        "    @attrs.define\n"
        "    class Config:\n"
        "        city: str = 'Shenzhen'\n"
        '        """{doc}"""\n'
    )
    try:
        source.write_text(template.format(doc="Default city."))
        first = _import_file("weather_plugin", source)
        assert attribute_docs(first.Weather.Config) == {"city": "Default city."}
        # the plugin is edited and re-imported (hot reload): the new class gets the new docs
        source.write_text(template.format(doc="The city asked about when none is given."))
        os.utime(source, ns=(1, 10**9))  # a different mtime so linecache notices even within one tick
        second = _import_file("weather_plugin", source)
        assert attribute_docs(second.Weather.Config) == {"city": "The city asked about when none is given."}
        assert "# The city asked about" in ConfigFile(second.Weather.Config, tmp_path / "w.toml").generate_text()
    finally:
        sys.modules.pop("weather_plugin", None)
