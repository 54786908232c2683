"""Version field and upgrade hooks for renamed keys."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from qgactor.config import ConfigFile, ConfigVersionError, config_class, rename_key, upgrade


@config_class
class Server:
    port: int = 1
    """The port."""


@upgrade(2, "seconds -> milliseconds")
def _to_ms(doc: MutableMapping[str, Any]) -> None:
    if "timeout" in doc:
        doc["timeout_ms"] = int(doc.pop("timeout") * 1000)


@config_class(version=3, upgrades=[rename_key(1, "net.port", "server.port"), rename_key(1, "nick", "name"), _to_ms])
class V3:
    name: str = "n"
    """The name."""
    timeout_ms: int = 500
    server: Server = attrs.Factory(Server)


def test_version_1_file_is_upgraded_in_place_keeping_comments(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text(
        "# my file\n"
        "config_version = 1\n"
        "# what to call it\n"
        'nick = "old"  # mine\n'
        "timeout = 2.5\n"
        "[net]\n"
        "port = 99\n"
    )
    loaded = ConfigFile(V3, path).read()
    assert loaded.value == V3(name="old", timeout_ms=2500, server=Server(99))
    assert loaded.upgrades == ("rename net.port -> server.port", "rename nick -> name", "seconds -> milliseconds")
    text = path.read_text()
    assert "config_version = 3" in text
    assert '# what to call it\nname = "old"  # mine\n' in text  # renamed in place, comments kept
    assert "nick" not in text and "timeout =" not in text
    # loading again is a no-op
    assert ConfigFile(V3, path).read().upgrades == ()


def test_file_at_version_2_runs_only_later_steps(tmp_path: Path) -> None:
    path = tmp_path / "v2.toml"
    path.write_text('config_version = 2\nnick = "stays unknown"\ntimeout = 1\n')
    loaded = ConfigFile(V3, path).read()
    assert loaded.upgrades == ("seconds -> milliseconds",)
    assert loaded.value.timeout_ms == 1000 and loaded.value.name == "n"
    assert [p.key for p in loaded.warnings] == [("nick",)]


def test_rename_does_not_clobber_an_existing_new_key(tmp_path: Path) -> None:
    path = tmp_path / "both.toml"
    path.write_text('config_version = 1\nnick = "old"\nname = "new"\n')
    assert ConfigFile(V3, path).read().value.name == "new"


def test_failing_step_is_reported_and_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    original = 'config_version = 2\ntimeout = "soon"\n'
    path.write_text(original)
    with pytest.raises(ConfigVersionError, match="seconds -> milliseconds.*version 2 -> 3"):
        ConfigFile(V3, path).read()
    assert path.read_text() == original


def test_generated_file_carries_current_version(tmp_path: Path) -> None:
    text = ConfigFile(V3, tmp_path / "x.toml").generate_text()
    assert "config_version = 3" in text


def test_plain_attrs_class_declares_version_in_its_body(tmp_path: Path) -> None:
    @attrs.define
    class PluginConfig:
        __config_version__ = 2
        __config_upgrades__ = (rename_key(1, "town", "city"),)
        city: str = "Shenzhen"

    path = tmp_path / "p.toml"
    path.write_text('town = "Beijing"\nconfig_version = 1\n')
    assert ConfigFile(PluginConfig, path).read().value.city == "Beijing"


def test_version_bump_without_steps_updates_the_file(tmp_path: Path) -> None:
    @config_class(version=2)
    class Bumped:
        x: int = 0

    path = tmp_path / "b.toml"
    path.write_text("# keep me\nconfig_version = 1\nx = 4\n")
    loaded = ConfigFile(Bumped, path).read()
    assert loaded.value.x == 4 and loaded.upgrades == ("config_version 1 -> 2 (no key changes)",)
    assert path.read_text() == "# keep me\nconfig_version = 2\nx = 4\n"
