"""Command matching: words, regexes, prefix, longest match first, options validation."""

from __future__ import annotations

import re

import pytest

from qgactor.bot.commands import Command, match_commands
from qgactor.bot.scenes import Scene


def h(msg):  # a handler stand-in; matching never calls it
    return None


def test_word_at_start_with_and_without_prefix() -> None:
    c = Command.create(h, "hello")
    assert c.match("hello world").rest == "world"
    assert c.match("/hello world").rest == "world"
    assert c.match("  /hello").rest == ""
    assert c.match("say hello") is None
    assert c.match("helloworld") is None  # ascii word boundary
    assert c.match("hello, you").rest == ", you"


def test_cjk_words_need_no_boundary_and_args_split() -> None:
    c = Command.create(h, ["签到"])
    m = c.match("签到今天 早上")
    assert m is not None and m.rest == "今天 早上" and m.args == ["今天", "早上"]


def test_custom_and_empty_prefix() -> None:
    c = Command.create(h, "ping")
    assert c.match("!ping", prefix="!") is not None
    assert c.match("/ping", prefix="") is None


def test_longest_match_first_across_commands() -> None:
    short = Command.create(h, "help")
    long = Command.create(h, "help me")
    rx = Command.create(h, regex=r"^/?help (\w+) now")
    found = match_commands([short, long, rx], "/help me now")
    assert [c for c, _ in found] == [rx, long, short]
    m = found[0][1]
    assert m.groups == ("me",) and m.match is not None and m.rest == ""


def test_longest_word_within_one_command() -> None:
    c = Command.create(h, ["go", "go home"])
    assert c.match("go home now").command == "go home"
    assert c.match("go home now").rest == "now"


def test_regex_search_groups_and_rest() -> None:
    c = Command.create(h, regex=[r"roll (\d+)d(\d+)", re.compile("flip")])
    m = c.match("please roll 2d6 quickly")
    assert m.groups == ("2", "6") and m.rest == "quickly"
    assert c.match("flip it").command == "flip"
    assert c.match("nothing") is None


def test_disabled_commands_do_not_match() -> None:
    c = Command.create(h, "x")
    c.enabled = False
    assert match_commands([c], "x") == []


def test_option_validation() -> None:
    with pytest.raises(ValueError, match="at least one word"):
        Command.create(h)
    with pytest.raises(ValueError, match="non-empty"):
        Command.create(h, [""])
    with pytest.raises(ValueError, match="invalid command regex"):
        Command.create(h, regex="(")
    with pytest.raises(ValueError, match="unknown scene"):
        Command.create(h, "x", scenes=["moon"])
    with pytest.raises(TypeError):
        Command.create("not callable", "x")  # type: ignore[arg-type]
    c = Command.create(h, "x", scenes=["group", Scene.C2C])
    assert c.scenes == {Scene.GROUP, Scene.C2C} and c.name == "x"
