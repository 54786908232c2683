"""Acceptance: the real `qgactor` executable runs a fresh project on piped input, `init` creates
a project whose own test passes, and bad configs give the documented errors and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from apps_helpers import REPO, qgactor_env

ACTORS = """
[[actors]]
module = "reminder"
class = "Reminder"
name = "reminder"

[actors.options]
max_delay = 60
"""


def fresh_project(tmp_path: Path) -> Path:
    """A temp project with the repository's example plugins and actors (no qgactor.toml yet)."""
    root = tmp_path / "bot"
    shutil.copytree(REPO / "plugins", root / "plugins", ignore=shutil.ignore_patterns("__pycache__", "*.toml", ".*"))
    shutil.copytree(REPO / "actors", root / "actors", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_run_on_a_fresh_directory_with_piped_input(qgactor, tmp_path: Path) -> None:
    root = fresh_project(tmp_path)
    script = "\n".join(["/help", "/weather Beijing", "/scene group", "/guess", "/quit", "never sent"]) + "\n"
    result = qgactor("run", "--reply-timeout", "3", "--settle", "0.5", cwd=root, input=script, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (root / "qgactor.toml").exists(), "run must create the config on first use"
    out = result.stdout
    assert "bot> [guess " in out and "/weather" in out  # the help plugin lists every plugin
    assert "bot> Beijing: " in out  # a reply (the console does not echo what it sends)
    assert "now typing in group" in out
    assert "bot> I picked a number from 1 to 100" in out  # the guess game, in the group
    assert "never sent" not in out
    assert "gateway: 1/1 shard(s) connected" in result.stderr
    assert "stopped" in result.stderr
    assert not (root / ".qgactor" / "management.json").exists(), "the management file is removed at exit"


def test_init_creates_a_project_whose_test_passes(qgactor, tmp_path: Path) -> None:
    result = qgactor("init", "mybot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "mybot"
    for rel in ("qgactor.toml", "plugins/hello.py", "actors/reminder.py", "tests/test_bot.py", "pytest.ini"):
        assert (project / rel).is_file(), rel
    assert "qq_project" in result.stdout and "pytest" in result.stdout
    assert (project / "qgactor.toml").stat().st_mode & 0o077 == 0, "the config may hold the secret: 0600"
    added = qgactor("plugin", "new", "weather", "--test", cwd=project)  # its test must pass too
    assert added.returncode == 0, added.stderr
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                           capture_output=True, text=True, timeout=90, env=qgactor_env())
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout


def test_the_repository_reminder_is_the_init_template() -> None:
    """One source serves both: init copies the packaged module, the repository imports it."""
    import importlib.util

    from qgactor.cli.examples import reminder
    from qgactor.cli.templates import PROJECT_FILES, REMINDER_ACTOR

    assert Path(reminder.__file__).read_text(encoding="utf-8") == REMINDER_ACTOR
    assert PROJECT_FILES["actors/reminder.py"] == REMINDER_ACTOR
    assert "class Reminder(Actor)" in REMINDER_ACTOR
    spec = importlib.util.spec_from_file_location("repo_actors_reminder", REPO / "actors" / "reminder.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.Reminder is reminder.Reminder


def test_bad_configs_exit_3_with_file_key_and_line(qgactor, capsys, tmp_path: Path) -> None:
    from qgactor.cli import main

    config = tmp_path / "qgactor.toml"
    config.write_text("[bot]\nappid = \"1\"\nshards = 0\ntransport = \"pigeon\"\n", encoding="utf-8")
    result = qgactor("run", cwd=tmp_path)  # the real executable once
    assert result.returncode == 3, result.stderr
    assert str(config) in result.stderr and "hint:" in result.stderr
    assert "transport" in result.stderr and "shards" in result.stderr

    def check(*extra: str) -> tuple[int, str]:
        code = main(["config", "check", "-C", str(tmp_path), *extra])
        return code, capsys.readouterr().err

    code, err = check()
    assert code == 3 and "transport" in err and "shards" in err
    config.write_text("[bot\nappid = 1\n", encoding="utf-8")
    code, err = check()
    assert code == 3 and f"{config}:1" in err and "not valid TOML" in err
    config.write_text(ACTORS.replace('"reminder"\nclass', '"nosuch"\nclass'), encoding="utf-8")
    code = main(["run", "--no-console", "-C", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3 and "nosuch" in err and "does not exist" in err
    code, err = check("--config", str(tmp_path / "missing.toml"))
    assert code == 3 and "does not exist" in err
    config.write_text(ACTORS, encoding="utf-8")
    code = main(["config", "check", "-C", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "OK" in out and "reminder (reminder.Reminder)" in out


def test_unreachable_platform_exits_4(qgactor, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "qgactor.toml").write_text(
        f'[bot]\nappid = "1"\nsecret = "s3cr3t-value"\nenvironment = "custom"\n'
        f'api_url = "http://127.0.0.1:{port}"\ntoken_url = "http://127.0.0.1:{port}/app/getAppAccessToken"\n',
        encoding="utf-8",
    )
    result = qgactor("run", "--no-console", cwd=tmp_path, timeout=90)
    assert result.returncode == 4, result.stderr
    assert "hint:" in result.stderr
    assert "s3cr3t-value" not in result.stderr + result.stdout
