"""Third-party conformance: unmodified SDKs log in, receive and reply, with only their URLs patched.

* qq-botpy 1.x (the official Python SDK): ``thirdparty/botpy_echo.py``
* qg-botsdk 4.x: ``thirdparty/qg_echo.py``
Each script documents its minimal URL patch. Skipped when the SDK is not installed
(both are in the ``bench`` extra).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from qgactor.emulator import Emulator

HERE = Path(__file__).parent / "thirdparty"


@pytest.mark.parametrize("module, script, intents", [
    ("botpy", "botpy_echo.py", (1 << 25) | (1 << 30)),
    ("qg_botsdk", "qg_echo.py", (1 << 25) | (1 << 30)),
])
async def test_sdk_logs_in_receives_and_replies(
    emu: Emulator, module: str, script: str, intents: int, tmp_path: Path
) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[bench]')")
    proc = await trio.lowlevel.open_process(
        [sys.executable, str(HERE / script), emu.api_url, emu.token_url, emu.appid, emu.secret],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd=tmp_path)  # the SDKs write their log files (botpy.log, log/) into the working directory
    output = bytearray()

    async def drain() -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.receive_some(65536):
            output.extend(chunk)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            try:
                await emu.control.wait_for_sessions(1, timeout=20)
            except Exception:
                pytest.fail(f"{module} never identified:\n" + output.decode(errors="replace"))
            for scene in ("group", "c2c", "guild"):
                sent = await emu.control.send_message(scene, f"hello {scene}")
                reply = await emu.control.wait_for_reply(sent["message_id"], timeout=10, accepted=None)
                assert reply["accepted"], (reply, output.decode(errors="replace"))
                assert reply["content"] == f"echo:hello {scene}" and reply["msg_id"] == sent["message_id"]
            sessions = (await emu.control.sessions())["sessions"]
            assert [s["intents"] for s in sessions] == [intents]
            proc.terminate()
            nursery.cancel_scope.deadline = trio.current_time() + 5
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
