"""The qgactor command's argument handling: --help everywhere, bad arguments, exit codes.

A few cases run the real executable; the rest call ``qgactor.cli.main`` in-process (the same
code, without paying the interpreter start-up each time).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qgactor.cli import main

COMMANDS = [["run"], ["emulator"], ["chat"], ["init"], ["plugin"], ["plugin", "new"], ["plugin", "list"],
            ["config"], ["config", "check"], ["status"]]


def call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run main(argv) in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_executable_help_and_bad_arguments(qgactor) -> None:
    result = qgactor("--help")
    assert result.returncode == 0
    for name in ("run", "emulator", "chat", "init", "plugin", "config", "status"):
        assert f"    {name}" in result.stdout
    assert "exit codes:" in result.stdout and "130" in result.stdout
    result = qgactor("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr and "hint:" in result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(capsys, command: list[str]) -> None:
    code, out, _ = call(capsys, *command, "--help")
    assert code == 0
    assert out.startswith(f"usage: qgactor {' '.join(command)}")


def test_missing_command_or_action_is_a_usage_error(capsys) -> None:
    code, _, err = call(capsys)
    assert code == 2 and "a command is required" in err
    code, _, err = call(capsys, "plugin")
    assert code == 2 and "an action is required" in err
    code, _, err = call(capsys, "config")
    assert code == 2 and "an action is required" in err


def test_bad_option_values(capsys, tmp_path: Path) -> None:
    code, _, err = call(capsys, "run", "--no-such-option")
    assert code == 2 and "--no-such-option" in err
    code, _, err = call(capsys, "emulator", "--port", "notaport")
    assert code == 2 and "invalid int value" in err
    code, _, err = call(capsys, "emulator", "--port", "70000")
    assert code == 2 and "is not a TCP port" in err
    code, _, err = call(capsys, "chat", "--scene", "moon")
    assert code == 2 and "invalid choice: 'moon'" in err
    code, _, err = call(capsys, "--log-level", "chatty", "plugin", "list", "-C", str(tmp_path))
    assert code == 2 and "unknown log level" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = call(capsys, "--log-json", str(blocker / "x.jsonl"), "plugin", "list", "-C", str(tmp_path))
    assert code == 2 and "cannot open the JSON log file" in err


def test_plugin_new_and_list(capsys, tmp_path: Path) -> None:
    code, _, err = call(capsys, "plugin", "new", "9lives", "-C", str(tmp_path))
    assert code == 2 and "not a valid plugin name" in err
    code, out, _ = call(capsys, "plugin", "new", "weather", "--test", "-C", str(tmp_path))
    assert code == 0 and (tmp_path / "plugins" / "weather.py").exists() and (tmp_path / "tests" / "test_weather.py").exists()
    compile((tmp_path / "plugins" / "weather.py").read_text(), "weather.py", "exec")
    code, _, err = call(capsys, "plugin", "new", "weather", "-C", str(tmp_path))
    assert code == 6 and "already exists" in err and "--force" in err
    code, out, _ = call(capsys, "plugin", "list", "-C", str(tmp_path))
    assert code == 0 and "weather" in out and "0.1.0" in out
    (tmp_path / "plugins" / "broken.py").write_text('__plugin__ = Manifest(version="not a version")\n')
    code, out, _ = call(capsys, "plugin", "list", "-C", str(tmp_path))
    assert code == 3 and "broken" in out and "INVALID" in out and "PEP 440" in out


def test_init_refuses_to_overwrite(capsys, tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "hello.py").write_text("# mine\n")
    code, _, err = call(capsys, "init", str(tmp_path))
    assert code == 6 and "plugins/hello.py" in err and "--force" in err
    assert (tmp_path / "plugins" / "hello.py").read_text() == "# mine\n"


def test_status_and_chat_without_a_running_bot(capsys, tmp_path: Path) -> None:
    code, _, err = call(capsys, "status", "-C", str(tmp_path))
    assert code == 4 and "no running bot" in err and "qgactor run" in err
    code, _, err = call(capsys, "chat", "-C", str(tmp_path))
    assert code == 4 and "no running emulator" in err


def test_logs_coloured_on_request_and_json_lines_to_a_file(capsys, tmp_path: Path) -> None:
    import json
    import logging

    from qgactor.cli.logs import ColourFormatter, RedactSecrets

    record = logging.LogRecord("qgactor.x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert "\x1b[32mINFO" in ColourFormatter(colour=True).format(record)
    assert "\x1b" not in ColourFormatter(colour=False).format(record)
    log_file = tmp_path / "logs" / "qgactor.jsonl"
    code, _, err = call(capsys, "--log-json", str(log_file), "--color", "never", "init", str(tmp_path / "p"))
    assert code == 0
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert any("qgactor.toml" in entry["message"] and entry["level"] == "INFO" for entry in lines)
    assert {"ts", "level", "logger", "message"} <= set(lines[0])
    assert "\x1b" not in err
    redact = RedactSecrets(["s3cr3t-value"])
    leaky = logging.LogRecord("x", logging.ERROR, __file__, 1, "token=%s", ("s3cr3t-value",), None)
    redact.filter(leaky)
    assert leaky.getMessage() == "token=***"


def test_emulator_bad_world_and_busy_port(capsys, tmp_path: Path) -> None:
    import socket

    world = tmp_path / "world.toml"
    world.write_text("[app]\nappid = 5\n", encoding="utf-8")
    code, _, err = call(capsys, "emulator", "--port", "0", "--world", str(world), "--no-state-file")
    assert code == 3 and "invalid world file" in err and "hint:" in err
    code, _, err = call(capsys, "emulator", "--world", str(tmp_path / "missing.toml"))
    assert code == 3 and "does not exist" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = call(capsys, "emulator", "--port", str(port), "--no-state-file")
    assert code == 4 and "cannot serve" in err and "--port" in err
