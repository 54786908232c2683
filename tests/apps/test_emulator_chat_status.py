"""Acceptance: `qgactor emulator` serves a client, `qgactor chat` talks through it, and
`qgactor status` shows the live tree of a running `qgactor run` (token-protected, 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import trio
import trio_websocket

from apps_helpers import QGACTOR, REPO, interrupt, qgactor_env, run_qgactor
from qgactor import Bot
from qgactor.testing import point_at_emulator


async def _wait_for_file(path: Path, proc: trio.Process, timeout: float = 30.0) -> dict:
    with trio.fail_after(timeout):
        while not path.exists():
            assert proc.returncode is None, f"the process exited early with {proc.returncode}"
            await trio.sleep(0.05)
        return json.loads(path.read_text(encoding="utf-8"))


async def _stop(proc: trio.Process, timeout: float = 20.0) -> int:
    proc.send_signal(signal.SIGINT)
    with trio.fail_after(timeout):
        return await proc.wait()


class _EmulatorInfo:
    """Stands in for the Emulator object where only URLs and credentials are needed."""

    def __init__(self, info: dict) -> None:
        self.api_url, self.token_url, self.appid, self.secret = (
            info["api_url"], info["token_url"], info["appid"], info["secret"])


async def test_emulator_serves_a_client_and_chat_talks_to_a_bot(tmp_path: Path) -> None:
    state = tmp_path / ".qgactor" / "emulator.json"
    with trio.fail_after(60):  # a hang fails the test (and kills the subprocesses) instead of stalling
        await _emulator_and_chat(tmp_path, state)


async def _emulator_and_chat(tmp_path: Path, state: Path) -> None:
    async with trio.open_nursery() as nursery:
        proc: trio.Process = await nursery.start(lambda task_status: trio.run_process(
            [str(QGACTOR), "emulator", "--port", "0", "-C", str(tmp_path)], env=qgactor_env(),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False, task_status=task_status))
        info = await _wait_for_file(state, proc)
        assert state.stat().st_mode & 0o077 == 0
        # it prints what another SDK needs: base URL, app id and secret
        printed = b""
        while not all(v.encode() in printed for v in (info["base_url"], info["appid"], info["secret"])):
            chunk = await proc.stdout.receive_some()
            assert chunk, f"the emulator closed stdout; it printed: {printed.decode()}"
            printed += chunk
        # a plain client: token, REST, gateway Hello
        async with httpx.AsyncClient(trust_env=False) as http:
            token = (await http.post(info["token_url"], json={"appId": info["appid"], "clientSecret": info["secret"]})).json()
            assert isinstance(token["expires_in"], str) and 7100 < int(token["expires_in"]) <= 7200
            auth = {"Authorization": f"QQBot {token['access_token']}"}
            me = (await http.get(info["api_url"] + "/users/@me", headers=auth)).json()
            assert me["bot"] is True
            gateway = (await http.get(info["api_url"] + "/gateway/bot", headers=auth)).json()
        async with trio_websocket.open_websocket_url(gateway["url"]) as ws:
            hello = json.loads(await ws.get_message())
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0

        # a real bot on that emulator, and the chat console as a user with piped input
        bot = Bot(session_store=":memory:")

        @bot.on_command("hello")
        async def hello_cmd(msg):
            await msg.reply(f"hi {msg.scene.value}")

        point_at_emulator(bot, _EmulatorInfo(info))
        await nursery.start(bot.serve)
        chat = await trio.run_process(
            [str(QGACTOR), "chat", "-C", str(tmp_path), "--reply-timeout", "3"],
            stdin=b"/hello\n/scene c2c\n/hello\n/user nobody\n", capture_stdout=True, capture_stderr=True,
            env=qgactor_env(), check=False)
        out = chat.stdout.decode()
        assert chat.returncode == 0, chat.stderr.decode()
        assert "bot> hi guild" in out and "bot> hi c2c" in out
        assert "no user 'nobody'" in out
        bot.stop()
        assert await _stop(proc) == 0
        assert not state.exists(), "the emulator removes its state file when it stops"


def test_status_shows_the_live_tree_and_needs_the_token(tmp_path: Path, capsys) -> None:
    from qgactor.cli import main

    root = tmp_path / "bot"
    shutil.copytree(REPO / "plugins", root / "plugins", ignore=shutil.ignore_patterns("__pycache__", "*.toml", ".*"))
    management = root / ".qgactor" / "management.json"
    log_file = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen([str(QGACTOR), "run", "--no-console"], cwd=root, env=qgactor_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file, text=True)
    try:
        for _ in range(600):  # up to 30 s, checking a real condition
            if management.exists() or proc.poll() is not None:
                break
            trio.run(trio.sleep, 0.05)
        assert management.exists(), (tmp_path / "run.log").read_text()
        assert management.stat().st_mode & 0o777 == 0o600
        result = run_qgactor("status", "-C", str(root))
        assert result.returncode == 0, result.stderr
        names = [line.split()[0].strip("├└─│ ") for line in result.stdout.splitlines()[1:]]
        rows = result.stdout
        for actor in ("bot", "gateway", "dispatcher", "conversations", "plugins", "plugin:help", "plugin:guess"):
            assert any(line.split()[-5:] and actor in line for line in rows.splitlines()), (actor, rows)
        assert "running" in rows and "MAILBOX" in rows
        assert names[0] == "bot"
        assert main(["status", "--json", "-C", str(root)]) == 0
        tree = json.loads(capsys.readouterr().out)
        assert tree["name"] == "bot" and {c["name"] for c in tree["children"]} >= {"gateway", "dispatcher", "plugins"}
        # the endpoint is bound to 127.0.0.1 and refuses a wrong token (exit 5)
        data = json.loads(management.read_text())
        saved = management.read_text()
        management.write_text(json.dumps({**data, "token": "wrong"}))
        assert main(["status", "-C", str(root)]) == 5
        err = capsys.readouterr().err
        assert "rejected the management token" in err and "wrong" not in err
        management.write_text(saved)
    finally:
        rc = interrupt(proc, timeout=20)
    log_file.close()
    assert rc == 0, (tmp_path / "run.log").read_text()
    assert not management.exists()
    assert main(["status", "-C", str(root)]) == 4
    assert "no running bot" in capsys.readouterr().err


async def test_run_with_credentials_connects_to_the_configured_platform(tmp_path: Path) -> None:
    """With credentials, `run` connects to the platform in the config (here a standalone emulator
    standing in for it): a wrong secret exits 5 without printing it; the right one connects."""
    state = tmp_path / ".qgactor" / "emulator.json"
    project = tmp_path / "bot"
    project.mkdir()
    with trio.fail_after(60):  # a hang fails the test (and kills the subprocesses) instead of stalling
        await _credentials(tmp_path, state, project)


async def _credentials(tmp_path: Path, state: Path, project: Path) -> None:
    async with trio.open_nursery() as nursery:
        emulator: trio.Process = await nursery.start(lambda task_status: trio.run_process(
            [str(QGACTOR), "emulator", "--port", "0", "-C", str(tmp_path)], env=qgactor_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, task_status=task_status))
        info = await _wait_for_file(state, emulator)

        def write_config(secret: str) -> None:
            (project / "qgactor.toml").write_text(
                f'[bot]\nappid = "{info["appid"]}"\nsecret = "{secret}"\nenvironment = "custom"\n'
                f'api_url = "{info["api_url"]}"\ntoken_url = "{info["token_url"]}"\n', encoding="utf-8")

        write_config("wrong-secret-xyz")
        refused = await trio.run_process([str(QGACTOR), "run", "--no-console", "-C", str(project)],
                                         capture_stdout=True, capture_stderr=True, env=qgactor_env(), check=False)
        err = refused.stderr.decode()
        assert refused.returncode == 5, err
        assert "rejected the credentials" in err and "wrong-secret-xyz" not in err + refused.stdout.decode()

        write_config(info["secret"])
        log_path = tmp_path / "run.log"
        with log_path.open("wb") as log_file:
            bot: trio.Process = await nursery.start(lambda task_status: trio.run_process(
                [str(QGACTOR), "run", "--no-console", "-C", str(project)], env=qgactor_env(),
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, check=False,
                task_status=task_status))
            await _wait_for_file(project / ".qgactor" / "management.json", bot)
            assert not (project / ".qgactor" / "emulator.json").exists(), "no embedded emulator with credentials"
            async with httpx.AsyncClient(trust_env=False) as http:
                sessions = (await http.get(info["base_url"] + "/_emulator/sessions")).json()
            assert len(sessions["sessions"]) == 1
            assert await _stop(bot) == 0
        log_text = log_path.read_text(encoding="utf-8")
        assert "gateway: 1/1 shard(s) connected" in log_text
        assert info["secret"] not in log_text, "the secret must never be logged"
        assert await _stop(emulator) == 0
