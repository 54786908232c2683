"""qgactor.toml: generated on first run from BotSettings + the app sections; validated; env credentials."""

from __future__ import annotations

import stat
from pathlib import Path

import attrs
import pytest

from qgactor.bot.settings import BotSettings, load_settings
from qgactor.config import ConfigValidationError
from qgactor.config.app import ActorConfig, AppConfig, app_config_file, app_config_manager, load_app_config


def test_first_run_writes_a_commented_private_file(tmp_path: Path) -> None:
    path = tmp_path / "qgactor.toml"
    loaded = load_app_config(path)
    assert loaded.value == AppConfig()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it will hold the secret
    lines = path.read_text().splitlines()
    # [bot] comments come from BotSettings' attribute docstrings
    assert lines[lines.index('appid = ""') - 1] == "# The bot's AppID from the QQ Open Platform console (q.qq.com)."
    for table in ("[bot]", "[plugins]", "[logging]", "[emulator]", "[reload]"):
        assert table in lines
    assert "# [[actors]]" in lines and '# class = "Reminder"' in lines
    # the bot layer's stdlib reader accepts the same file
    assert load_settings(path, env={}) == BotSettings()
    # no credentials: the embedded emulator is used
    assert loaded.value.use_emulator(env={}) and not loaded.value.has_credentials(env={})


def test_uncommented_actor_example_and_credentials(tmp_path: Path) -> None:
    path = tmp_path / "qgactor.toml"
    load_app_config(path)
    text = path.read_text()
    example = text[text.index("# [[actors]]"):]
    uncommented = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in example.splitlines())
    text = text[: text.index("# [[actors]]")] + uncommented + "\n"
    text = text.replace('appid = ""', 'appid = "1024"').replace('shards = 1', 'shards = "auto"')
    path.write_text(text)
    app = load_app_config(path, create=False).value
    assert app.actors == [ActorConfig("reminder", "Reminder", "reminder", {"max_delay": 300}, True)]
    assert app.actors[0].actor_name == "reminder"
    assert app.bot.shards == "auto"
    assert not app.has_credentials(env={})  # appid but no secret
    bot = app.effective_bot(env={"QGACTOR_SECRET": "s3cret", "QGACTOR_APPID": "ignored"})
    assert bot.appid == "1024" and bot.secret == "s3cret"
    assert not app.use_emulator(env={"QGACTOR_SECRET": "s3cret"})
    assert attrs.evolve(app, emulator=attrs.evolve(app.emulator, mode="always")).use_emulator(env={"QGACTOR_SECRET": "x"})
    # the env secret is never written back by a save
    app_config_file(path).save(attrs.evolve(app, plugins=attrs.evolve(app.plugins, dir="my_plugins")))
    assert "s3cret" not in path.read_text() and 'dir = "my_plugins"' in path.read_text()
    assert app.resolve(tmp_path, "my_plugins") == tmp_path / "my_plugins"


def test_bad_bot_settings_name_file_key_and_line_and_hide_secrets(tmp_path: Path) -> None:
    path = tmp_path / "qgactor.toml"
    load_app_config(path)
    text = path.read_text().replace('environment = "production"', 'environment = "prod"')
    text = text.replace('secret = ""', "secret = 987654321").replace('level = "INFO"', 'level = "LOUD"')
    path.write_text(text)
    lines = text.splitlines()
    with pytest.raises(ConfigValidationError) as info:
        load_app_config(path)
    got = {(p.key, p.line) for p in info.value.problems}
    assert got == {
        (("bot", "environment"), lines.index('environment = "prod"') + 1),
        (("bot", "secret"), lines.index("secret = 987654321") + 1),
        (("logging", "level"), lines.index('level = "LOUD"') + 1),
    }
    assert "bot.environment must be one of 'production', 'sandbox', 'custom'" in str(info.value)
    assert "987654321" not in str(info.value)


async def test_app_config_hot_reload(tmp_path: Path) -> None:
    path = tmp_path / "qgactor.toml"
    manager = app_config_manager(path, watch="poll")
    manager.load()
    seen = []
    manager.subscribe(lambda change: seen.append(sorted(change.changed)))
    path.write_text(path.read_text().replace('level = "INFO"', 'level = "DEBUG"'))
    assert (await manager.reload()).kind == "reloaded"
    assert manager.current.logging.level == "DEBUG" and seen == [["logging.level"]]
