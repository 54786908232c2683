"""The qgactor command's argument handling: --help everywhere, bad arguments, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest


COMMANDS = [["run"], ["emulator"], ["chat"], ["init"], ["plugin"], ["plugin", "new"], ["plugin", "list"],
            ["config"], ["config", "check"], ["status"]]


def test_top_level_help_lists_commands_and_exit_codes(qgactor) -> None:
    result = qgactor("--help")
    assert result.returncode == 0
    for name in ("run", "emulator", "chat", "init", "plugin", "config", "status"):
        assert f"    {name}" in result.stdout
    assert "exit codes:" in result.stdout and "130" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(qgactor, command: list[str]) -> None:
    result = qgactor(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: qgactor {' '.join(command)}")


def test_no_command_is_a_usage_error(qgactor) -> None:
    result = qgactor()
    assert result.returncode == 2
    assert "a command is required" in result.stderr


def test_unknown_command_and_option(qgactor) -> None:
    result = qgactor("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr and "hint:" in result.stderr
    result = qgactor("run", "--no-such-option")
    assert result.returncode == 2
    assert "--no-such-option" in result.stderr


def test_bad_option_values(qgactor, tmp_path: Path) -> None:
    result = qgactor("emulator", "--port", "notaport")
    assert result.returncode == 2 and "invalid int value" in result.stderr
    result = qgactor("emulator", "--port", "70000")
    assert result.returncode == 2 and "is not a TCP port" in result.stderr
    result = qgactor("chat", "--scene", "moon")
    assert result.returncode == 2 and "invalid choice: 'moon'" in result.stderr
    result = qgactor("--log-level", "chatty", "plugin", "list", cwd=tmp_path)
    assert result.returncode == 2 and "unknown log level" in result.stderr


def test_plugin_new_rejects_bad_names_and_existing_files(qgactor, tmp_path: Path) -> None:
    result = qgactor("plugin", "new", "9lives", cwd=tmp_path)
    assert result.returncode == 2 and "not a valid plugin name" in result.stderr
    assert qgactor("plugin", "new", "weather", cwd=tmp_path).returncode == 0
    assert (tmp_path / "plugins" / "weather.py").exists()
    again = qgactor("plugin", "new", "weather", cwd=tmp_path)
    assert again.returncode == 6 and "already exists" in again.stderr and "--force" in again.stderr
    listing = qgactor("plugin", "list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "weather" in listing.stdout and "0.1.0" in listing.stdout


def test_plugin_list_reports_a_broken_manifest(qgactor, tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "broken.py").write_text('__plugin__ = Manifest(version="not a version")\n')
    result = qgactor("plugin", "list", cwd=tmp_path)
    assert result.returncode == 3
    assert "broken" in result.stdout and "INVALID" in result.stdout and "PEP 440" in result.stdout


def test_status_without_a_running_bot(qgactor, tmp_path: Path) -> None:
    result = qgactor("status", "-C", str(tmp_path))
    assert result.returncode == 4
    assert "no running bot" in result.stderr and "qgactor run" in result.stderr


def test_chat_without_an_emulator(qgactor, tmp_path: Path) -> None:
    result = qgactor("chat", cwd=tmp_path)
    assert result.returncode == 4
    assert "no running emulator" in result.stderr


def test_json_log_file_must_be_writable(qgactor, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = qgactor("--log-json", str(blocker / "x.jsonl"), "plugin", "list", cwd=tmp_path)
    assert result.returncode == 2 and "cannot open the JSON log file" in result.stderr
