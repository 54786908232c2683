"""Third-party conformance: unmodified qq-botpy logs in, receives and replies (URL patches only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trio

from qgactor.emulator import Emulator

pytest.importorskip("botpy", reason="qq-botpy is not installed (pip install qq-botpy)")

SCRIPT = Path(__file__).parent / "thirdparty" / "botpy_echo.py"


async def test_botpy_logs_in_receives_and_replies(emu: Emulator) -> None:
    proc = await trio.lowlevel.open_process(
        [sys.executable, str(SCRIPT), emu.api_url, emu.token_url, emu.appid, emu.secret],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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
                pytest.fail("botpy never identified:\n" + output.decode(errors="replace"))
            for scene in ("group", "c2c", "guild"):
                sent = await emu.control.send_message(scene, f"hello {scene}")
                reply = await emu.control.wait_for_reply(sent["message_id"], timeout=10)
                assert reply["content"] == f"echo:hello {scene}", output.decode(errors="replace")
                assert reply["accepted"] and reply["msg_id"] == sent["message_id"]
            sessions = (await emu.control.sessions())["sessions"]
            assert sessions[0]["intents"] == (1 << 25) | (1 << 30)
            proc.terminate()
            nursery.cancel_scope.deadline = trio.current_time() + 5
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert b"BOTPY READY" in output
