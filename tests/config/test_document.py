"""Generate, load and save config files: round trips keep comments; errors name file, key and line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qgactor.config import (
    ConfigFile, ConfigSyntaxError, ConfigValidationError, ConfigVersionError, FrozenDict, FrozenList,
    config_class, generate, parse_config,
)


@config_class
class Endpoint:
    """Where to connect."""

    host: str = "localhost"
    """Host name or address."""
    port: int = 8080
    """TCP port.

    Must be free."""


@config_class
class Job:
    name: str = "job"
    """Name of the job."""
    every: float = 60.0
    """Seconds between runs."""


def _positive(inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@config_class
class Settings:
    """Settings used by the round-trip tests.

    Second line of the class doc."""

    name: str = "bot"
    """The bot's name."""
    retries: int = attrs.field(default=3, validator=_positive)
    """How often to retry."""
    ratio: float = 0.5
    enabled: bool = True
    """Whether it runs."""
    tags: list[str] = attrs.Factory(lambda: ["a", "b"])
    admins: tuple[str, ...] = ()
    ids: set[int] = attrs.Factory(lambda: {2, 1})
    limits: dict[str, int] = attrs.Factory(lambda: {"daily": 10})
    """Per-period limits."""
    anything: list = attrs.Factory(list)  # type: ignore[type-arg]
    mode: Literal["fast", "safe"] = "safe"
    shards: int | str = 1
    proxy: str | None = None
    """Optional HTTP proxy."""
    secret: str = ""
    """The app secret."""
    endpoint: Endpoint = attrs.Factory(Endpoint)
    """The server."""
    jobs: list[Job] = attrs.Factory(lambda: [Job()])
    """Scheduled jobs."""


def test_generated_file_has_docstrings_as_comments(tmp_path: Path) -> None:
    text = ConfigFile(Settings, tmp_path / "s.toml").generate_text()
    lines = text.splitlines()
    assert lines[:3] == ["# Settings used by the round-trip tests.", "#", "# Second line of the class doc."]
    assert "config_version = 1" in lines
    i = lines.index('name = "bot"')
    assert lines[i - 1] == "# The bot's name."
    j = lines.index("port = 8080")
    assert lines[j - 3 : j] == ["# TCP port.", "#", "# Must be free."]
    k = lines.index("[endpoint]")
    assert lines[k - 1] == "# The server." and lines[k + 1] == "# Host name or address."
    assert "[[jobs]]" in lines and "# Scheduled jobs." in lines
    assert "# proxy = ...  (unset: a string)" in lines
    assert lines[lines.index("[limits]") - 1] == "# Per-period limits."


def test_round_trip_every_field_type_keeps_user_comments(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    cfg = ConfigFile(Settings, path)
    assert cfg.load().value == Settings()
    text = path.read_text()
    # the user edits: own comments, own quoting, every kind of value
    text = text.replace("# The bot's name.", "# The bot's name.\n# MY COMMENT ABOUT THE NAME")
    text = text.replace('name = "bot"', "name = 'literal-quoted'  # my trailing comment")
    text = text.replace("retries = 3", "retries = 7")
    text = text.replace("ratio = 0.5", "ratio = 2")  # an integer is a valid float
    text = text.replace("enabled = true", "enabled = false")
    text = text.replace('tags = ["a", "b"]', 'tags = [\n  "x",  # first\n  "y",\n]')
    text = text.replace("admins = []", 'admins = ["10", "20"]')
    text = text.replace("ids = [1, 2]", "ids = [5, 5, 6]")
    text = text.replace("daily = 10", "daily = 10\nhourly = 2")
    text = text.replace("anything = []", 'anything = [1, "two", {three = 3}]')
    text = text.replace('mode = "safe"', 'mode = "fast"')
    text = text.replace("shards = 1", 'shards = "auto"')
    text = text.replace("# proxy = ...  (unset: a string)", 'proxy = "http://p:1"')
    text = text.replace('host = "localhost"', 'host = "example.org"')
    text = text.replace('[[jobs]]\n# Name of the job.\nname = "job"\n\n# Seconds between runs.\nevery = 60.0',
                        '[[jobs]]\nname = "a"\nevery = 1.0\n\n[[jobs]]\nname = "b"\nevery = 2.5')
    text = text.rstrip("\n") + "\n# MY FINAL COMMENT\n"
    path.write_text(text)

    value = cfg.load().value
    expected = Settings(
        name="literal-quoted", retries=7, ratio=2.0, enabled=False, tags=["x", "y"], admins=("10", "20"),
        ids={5, 6}, limits={"daily": 10, "hourly": 2}, anything=[1, "two", {"three": 3}], mode="fast",
        shards="auto", proxy="http://p:1", endpoint=Endpoint("example.org", 8080),
        jobs=[Job("a", 1.0), Job("b", 2.5)],
    )
    assert value == expected
    assert isinstance(value.ratio, float) and isinstance(value.admins, tuple)
    assert isinstance(value.tags, FrozenList) and isinstance(value.limits, FrozenDict)
    assert isinstance(value.ids, frozenset)
    with pytest.raises(TypeError, match="config snapshot"):
        value.tags.append("z")
    with pytest.raises(TypeError):
        value.limits["x"] = 1
    with pytest.raises(TypeError):
        value.anything[2]["three"] = 4

    # the program changes some values; everything the user wrote elsewhere survives
    changed = attrs.evolve(value, retries=9, tags=["x", "y", "z"], endpoint=Endpoint("example.org", 9000),
                           proxy=None, limits={"daily": 11, "weekly": 1})
    cfg.save(changed)
    after = path.read_text()
    for kept in ("# MY COMMENT ABOUT THE NAME", "name = 'literal-quoted'  # my trailing comment",
                 "# MY FINAL COMMENT", "# TCP port.", "# Must be free.", 'shards = "auto"', "ratio = 2\n"):
        assert kept in after, kept
    assert "retries = 9" in after and "port = 9000" in after
    assert not any(line.startswith("proxy") for line in after.splitlines())  # unset optional removed
    assert cfg.load().value == changed


def test_program_sets_an_unset_optional_over_its_placeholder(tmp_path: Path) -> None:
    cfg = ConfigFile(Settings, tmp_path / "s.toml")
    cfg.load()
    cfg.save(attrs.evolve(Settings(), proxy="http://x"))
    lines = (tmp_path / "s.toml").read_text().splitlines()
    i = lines.index('proxy = "http://x"')
    assert lines[i - 1] == "# Optional HTTP proxy."
    assert not any(line.startswith("# proxy = ...") for line in lines)


scalars = st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=8), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(max_size=20),
    retries=st.integers(1, 2**63 - 1),
    ratio=st.floats(allow_nan=False),
    tags=st.lists(st.text(max_size=5), max_size=4),
    ids=st.sets(st.integers(-1000, 1000), max_size=4),
    limits=st.dictionaries(st.text(min_size=1, max_size=5), st.integers(-5, 5), max_size=3),
    anything=st.lists(scalars, max_size=3),
    shards=st.one_of(st.integers(0, 99), st.text(max_size=4)),
    proxy=st.one_of(st.none(), st.text(max_size=5)),
    jobs=st.lists(st.builds(Job, st.text(max_size=4), st.floats(allow_nan=False, allow_infinity=False)), max_size=3),
)
def test_any_value_survives_generate_and_load(**values: object) -> None:
    value = Settings(**values)  # type: ignore[arg-type]
    text = generate(Settings, value).as_string()
    loaded, *_ = parse_config(Settings, text)
    assert loaded == value


def test_invalid_values_are_all_reported_with_file_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "config_version = 1\n"          # 1
        'name = 3\n'                     # 2
        "retries = -1\n"                 # 3
        'mode = "turbo"\n'               # 4
        'tags = ["ok", 5]\n'             # 5
        "shards = 1.5\n"                 # 6
        'secret = 123456\n'              # 7
        "[endpoint]\n"                   # 8
        'port = "http"\n'                # 9
        "[[jobs]]\n"                     # 10
        'name = "a"\n'                   # 11
        "[[jobs]]\n"                     # 12
        'every = "soon"\n'               # 13
    )
    with pytest.raises(ConfigValidationError) as info:
        ConfigFile(Settings, path).read()
    found = {(p.key, p.line) for p in info.value.problems}
    assert found == {
        (("name",), 2), (("retries",), 3), (("mode",), 4), (("tags", 1), 5), (("shards",), 6),
        (("secret",), 7), (("endpoint", "port"), 9), (("jobs", 1, "every"), 13),
    }
    message = str(info.value)
    assert f"{path}:9: endpoint.port: expected an integer, got a string 'http'" in message
    assert f"{path}:13: jobs[1].every: expected a number" in message
    assert f"{path}:3: retries: retries must be positive, got -1" in message
    assert 'one of "fast", "safe"' in message
    assert "123456" not in message  # secret values never appear


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "ok"\nretries = = 3\n')
    with pytest.raises(ConfigSyntaxError) as info:
        ConfigFile(Settings, path).read()
    assert info.value.problem.line == 2
    assert str(info.value).startswith(f"{path}:2: not valid TOML")


def test_not_utf8_is_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "ok"\nname2 = "\xe9"\n')
    with pytest.raises(ConfigSyntaxError, match=":2: not valid TOML: not UTF-8"):
        ConfigFile(Settings, path).read()


def test_missing_required_key(tmp_path: Path) -> None:
    @config_class
    class Needs:
        token_url: str
        """Where tokens come from."""

    path = tmp_path / "n.toml"
    cfg = ConfigFile(Needs, path)
    assert "# token_url = ...  (required: a string)" in cfg.generate_text()
    with pytest.raises(ConfigValidationError, match="token_url: missing; this setting is required"):
        cfg.load()


def test_unknown_keys_warn_by_default_and_fail_when_strict(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "u.toml"
    path.write_text('name = "x"\nretires = 4\n[endpoint]\nprot = 1\n')
    with caplog.at_level(logging.WARNING):
        loaded = ConfigFile(Settings, path).read()
    assert loaded.value.name == "x"
    assert [(p.key, p.line) for p in loaded.warnings] == [(("retires",), 2), (("endpoint", "prot"), 4)]
    assert "did you mean 'retries'?" in caplog.text and "did you mean 'port'?" in caplog.text
    with pytest.raises(ConfigValidationError, match="unknown key"):
        ConfigFile(Settings, path, strict=True).read()
    # unknown keys survive a rewrite by the program
    ConfigFile(Settings, path).save(attrs.evolve(loaded.value, name="y"))
    assert "retires = 4" in path.read_text() and "prot = 1" in path.read_text()


def test_newer_file_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text("config_version = 5\n")
    with pytest.raises(ConfigVersionError, match="newer version"):
        ConfigFile(Settings, path).read()


def test_save_refuses_to_overwrite_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("name = [\n")
    with pytest.raises(ConfigSyntaxError):
        ConfigFile(Settings, path).save(Settings())
    assert path.read_text() == "name = [\n"


def test_cross_field_checks_in_post_init_are_reported_not_raised(tmp_path: Path) -> None:
    @config_class
    class Window:
        low: int = 0
        high: int = 10

        def __attrs_post_init__(self) -> None:
            if self.low > self.high:
                raise RuntimeError(f"low ({self.low}) must not exceed high ({self.high})")

    path = tmp_path / "w.toml"
    path.write_text("low = 5\nhigh = 1\n")
    with pytest.raises(ConfigValidationError, match=r"rejected by Window: RuntimeError: low \(5\) must not exceed"):
        ConfigFile(Window, path).read()
