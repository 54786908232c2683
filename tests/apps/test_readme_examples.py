"""The README's examples, read from README.md itself and run against the emulator, so an edit
of the README or an API change that breaks an example fails here.

Covered: the ten-line bot (without ``bot.run()``) with the conversation and session examples
added to it; the plugin example in a plugins folder (with the help plugin it depends on); the
embedding example's ``main()`` against the emulator; the TOML snippets as a real
``qgactor.toml`` (``qgactor config check``). The testing-kit example is what ``qgactor init``
writes and is run by ``test_init_creates_a_project_whose_test_passes``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import trio

from apps_helpers import REPO

README = REPO / "README.md"


def blocks(lang: str) -> list[str]:
    """The fenced code blocks of README.md in ``lang``, in order."""
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def block(lang: str, needle: str) -> str:
    found = [b for b in blocks(lang) if needle in b]
    assert len(found) == 1, f"README.md: expected one ```{lang} block containing {needle!r}"
    return found[0]


def without_line(code: str, line: str) -> str:
    assert line in code, f"README example changed: {line!r} not found"
    return code.replace(line, "")


async def test_ten_line_bot_with_conversation_and_session(qq_bot, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default session store is a file in the working directory
    ns: dict[str, Any] = {}
    exec(without_line(block("python", "bot.run()"), "bot.run()"), ns)
    exec(block("python", "msg.conversation("), ns)
    exec(block("python", "msg.session("), ns)
    chat = await qq_bot(ns["bot"])
    assert (await chat.say("/hello")).text == "hi"
    assert (await chat.say("just text", scene="c2c")).text == "just text"  # the sync echo
    assert (await chat.say("/guess", scene="group")).text == "Pick a number from 1 to 100"
    assert (await chat.say("42", scene="group")).text == "You picked 42"
    assert (await chat.say("/count", scene="dm")).text == "you said count 1 times"
    assert (await chat.say("/count", scene="dm")).text == "you said count 2 times"


async def test_plugin_example(qq_bot, tmp_path: Path) -> None:
    code = block("python", "# plugins/weather.py")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "weather.py").write_text(code, encoding="utf-8")
    shutil.copy(REPO / "plugins" / "help.py", plugins / "help.py")  # its declared dependency
    chat = await qq_bot(plugins_dir=str(plugins))
    assert (await chat.say("/weather Beijing")).text == "Beijing: sunny"
    assert (await chat.say("/weather")).text == "Shenzhen: sunny"
    assert "/weather" in (await chat.say("/help")).text
    config = (plugins / "weather.toml").read_text(encoding="utf-8")
    assert "# Default city." in config and 'city = "Shenzhen"' in config


async def test_embedding_example(qq_emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    emu = qq_emulator
    (tmp_path / "qgactor.toml").write_text(
        f'[bot]\nappid = "{emu.appid}"\nsecret = "{emu.secret}"\nenvironment = "custom"\n'
        f'api_url = "{emu.api_url}"\ntoken_url = "{emu.token_url}"\n'
        f'session_store = ":memory:"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ns: dict[str, Any] = {}
    exec(without_line(block("python", "open_actor_nursery"), "trio.run(main)"), ns)
    out = ""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ns["main"])
        with trio.fail_after(15):
            while "1" not in out:
                await trio.sleep(0.02)
                out += capsys.readouterr().out
        sessions = await emu.control.wait_for_sessions(1, timeout=10)
        assert len(sessions) == 1  # the bot of `Bot.from_config` is connected
        nursery.cancel_scope.cancel()
    assert out.strip() == "1"


def test_toml_snippets_are_a_valid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qgactor.cli import main

    project = tmp_path / "bot"
    shutil.copytree(REPO / "actors", project / "actors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    actors = block("toml", "[[actors]]")
    bot = block("toml", "shards = ")
    (project / "qgactor.toml").write_text(bot + "\n" + actors, encoding="utf-8")
    assert main(["config", "check", "-C", str(project)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "reminder (reminder.Reminder)" in out
