"""``python -m qgactor.emulator``, port errors and world files."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio

from qgactor.emulator import World, WorldError, open_emulator


async def test_module_entry_point_serves_and_prints_credentials() -> None:
    proc = await trio.lowlevel.open_process([sys.executable, "-m", "qgactor.emulator", "--port", "0"],
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        out = b""
        with trio.fail_after(20):
            assert proc.stdout is not None
            while b"Ctrl+C" not in out:
                chunk = await proc.stdout.receive_some(4096)
                assert chunk, out
                out += chunk
        text = out.decode()
        base = re.search(r"at (http://\S+)", text).group(1)  # type: ignore[union-attr]
        appid = re.search(r"appid\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        secret = re.search(r"secret\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        async with httpx.AsyncClient() as http:
            r = await http.post(base + "/app/getAppAccessToken", json={"appId": appid, "clientSecret": secret})
            assert r.status_code == 200 and r.json()["access_token"]
    finally:
        proc.terminate()
        await proc.wait()


async def test_ctrl_c_stops_the_module_entry_point_cleanly() -> None:
    proc = await trio.lowlevel.open_process([sys.executable, "-m", "qgactor.emulator", "--port", "0"],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = b""
        with trio.fail_after(20):
            assert proc.stdout is not None and proc.stderr is not None
            while b"Ctrl+C" not in out:
                chunk = await proc.stdout.receive_some(4096)
                assert chunk, out
                out += chunk
            proc.send_signal(signal.SIGINT)
            err = b""
            while chunk := await proc.stderr.receive_some(65536):
                err += chunk
            assert await proc.wait() == 0, err
        assert b"Traceback" not in err
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_busy_port_is_a_plain_oserror() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(OSError):
            async with open_emulator(port=s.getsockname()[1]):
                pass  # pragma: no cover


def test_world_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "w.toml"
    bad.write_text('[app]\nappid = "1"\n[bot]\nid = "2"\n')
    with pytest.raises(WorldError, match=r"w.toml: \[app\]: missing key 'secret'"):
        World.load(bad)
    bad.write_text('[app]\nappid="1"\nsecret="s"\n[bot]\nid="2"\n[[guilds]]\nid="abc"\n')
    with pytest.raises(WorldError, match="numeric"):
        World.load(bad)
    bad.write_text('[app]\nappid="1"\nsecret="s"\n[bot]\nid="2"\n[[groups]]\ngroup_openid="G"\n'
                   '[[groups.members]]\nuser="nobody"\n')
    with pytest.raises(WorldError, match="unknown user 'nobody'"):
        World.load(bad)
    bad.write_text("not = [toml")
    with pytest.raises(WorldError, match="not valid TOML"):
        World.load(bad)


async def test_custom_world(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text('[app]\nappid = "42"\nsecret = "short"\n[bot]\nid = "7"\nusername = "b"\n'
                    '[[users]]\nid = "9"\nusername = "u"\n'
                    '[[guilds]]\nid = "123"\nname = "G"\nowner_id = "9"\n'
                    '  [[guilds.channels]]\n  id = "5"\n  name = "c"\n'
                    '[[groups]]\ngroup_openid = "GG"\n  [[groups.members]]\n  user = "9"\n')
    async with open_emulator(world=path) as emu:
        assert emu.appid == "42" and emu.secret == "short"
        ev = await emu.control.send_message("guild", "hi")
        assert ev["d"]["guild_id"] == "123" and ev["d"]["channel_id"] == "5"
        g = await emu.control.send_message("group", "hi")
        assert g["d"]["group_openid"] == "GG" and len(g["d"]["author"]["member_openid"]) == 32


def test_config_rejects_impossible_values() -> None:
    from qgactor.emulator import EmulatorConfig
    for bad in ({"proactive": "sometimes"}, {"resume_unknown_session": "x"}, {"heartbeat_interval_ms": 0},
                {"replay_buffer": 0}, {"port": 70000}, {"token_lifetime": 10, "token_overlap": 60}):
        with pytest.raises(ValueError):
            EmulatorConfig(**bad)
