"""BotSettings: validation, redaction, TOML loading."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from qgactor.bot.settings import BotSettings, SettingsError, load_settings


def test_secret_and_token_are_redacted() -> None:
    s = BotSettings(appid="1", secret="s3cr3t-value", token="t0ken-value")
    text = repr(s)
    assert "s3cr3t" not in text and "t0ken" not in text and "'***'" in text and "appid='1'" in text


def test_validation() -> None:
    with pytest.raises(SettingsError, match="shards"):
        BotSettings(shards=0)
    with pytest.raises(SettingsError, match="transport"):
        BotSettings(transport="carrier-pigeon")
    with pytest.raises(SettingsError, match="intents"):
        BotSettings(intents=-1)
    assert BotSettings(shards="auto").shards == "auto"
    assert BotSettings(admins=["1", 2]).admins == ("1", "2")
    with pytest.raises(SettingsError, match="api_url is empty"):
        BotSettings(environment="custom").base_url()
    assert BotSettings(environment="sandbox").base_url() == "https://sandbox.api.sgroup.qq.com"
    assert BotSettings(api_url="http://127.0.0.1:1/").base_url() == "http://127.0.0.1:1"
    with pytest.raises(SettingsError, match="appid"):
        BotSettings().check_credentials()


def test_every_field_has_a_docstring() -> None:
    import ast
    import inspect

    import qgactor.bot.settings as mod

    tree = ast.parse(inspect.getsource(mod))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "BotSettings")
    documented = set()
    body = cls.body
    for a, b in zip(body, body[1:]):
        if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant):
            documented.add(a.target.id)  # type: ignore[union-attr]
    assert {f.name for f in attrs.fields(BotSettings)} == documented


def test_load_settings(tmp_path: Path) -> None:
    p = tmp_path / "qgactor.toml"
    p.write_text(
        '[bot]\nappid = "123"\nshards = "auto"\nadmins = ["u1"]\nintents = 513\n[plugins]\nx = 1\n',
        encoding="utf-8",
    )
    s = load_settings(p, env={"QGACTOR_SECRET": "from-env"})
    assert (s.appid, s.secret, s.shards, s.admins, s.intents) == ("123", "from-env", "auto", ("u1",), 513)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[bot\n", "not valid TOML"),
        ("[other]\n", "no \\[bot\\] table"),
        ('[bot]\nappid = "1"\nsecrte = "x"\n', "unknown bot setting\\(s\\) secrte"),
        ("[bot]\nshards = -2\n", "shards must be"),
        ("[bot]\nadmins = 5\n", "bot.admins must be a list"),
        ('[bot]\nwebhook_port = "eighty"\n', "bot.webhook_port must be a port number"),
        ("[bot]\nsession_store = 3\n", "bot.session_store must be a string"),
        ('[bot]\ntune_gc = "yes"\n', "bot.tune_gc must be true or false"),
        ("[bot]\nsecret = 987654321\n", "bot.secret must be a string .* got int \\(value hidden\\)"),
    ],
)
def test_load_settings_errors(tmp_path: Path, text: str, fragment: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=fragment) as info:
        load_settings(p, env={})
    assert str(p) in str(info.value)
    assert "987654321" not in str(info.value)  # a secret is never echoed


def test_load_settings_numeric_appid_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    p = tmp_path / "qgactor.toml"
    p.write_text('[bot]\nappid = 102000001\nsecret = "s"\n', encoding="utf-8")
    assert load_settings(p, env={}).appid == "102000001"  # AppIDs are numbers: accept them unquoted
    with pytest.raises(FileNotFoundError, match="missing.toml: no such config file; create one"):
        load_settings(tmp_path / "missing.toml")
    p.write_bytes(b"[bot]\nappid = '\xff'\n")
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings(p, env={})
