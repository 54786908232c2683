"""``Bot.run()`` (it tunes the garbage collector once the bot is up) and Ctrl-C: a real bot process against the emulator gets SIGINT and exits
quietly (exit status 0, no traceback on stderr), and ``is_interrupt`` recognises trio's
exception groups around ``KeyboardInterrupt``. Real subprocess, real clock, short waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trio

from qgactor.bot.bot import is_interrupt
from qgactor.emulator import open_emulator

SCRIPT = textwrap.dedent(
    """
    import gc, logging, sys
    from qgactor.bot import Bot

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    appid, secret, api_url, token_url = sys.argv[1:5]
    bot = Bot(appid=appid, secret=secret, environment="custom", api_url=api_url,
              token_url=token_url, session_store=":memory:")

    @bot.on_command("ping")
    async def ping(msg):
        # Bot.run() owns the process: the collector was tuned once the bot was up
        await msg.reply(f"pong gc={gc.get_threshold()[0]} frozen={gc.get_freeze_count() > 0}")

    bot.run()
    print("run() returned", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child is POSIX here")
async def test_ctrl_c_stops_bot_run_quietly(tmp_path: Path) -> None:
    script = tmp_path / "bot_script.py"
    script.write_text(SCRIPT)
    err_path = tmp_path / "stderr.txt"
    async with open_emulator() as emu:
        with open(err_path, "wb") as err:
            proc = await trio.lowlevel.open_process(
                [sys.executable, str(script), emu.appid, emu.secret, emu.api_url, emu.token_url],
                stdout=subprocess.PIPE, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                # the bot is up and serving: its gateway session exists and it answers
                await emu.control.wait_for_sessions(1, timeout=20)
                sent = await emu.control.send_message("guild", "ping")
                reply = await emu.control.wait_for_reply(sent["message_id"], timeout=10)
                assert reply["content"] == "pong gc=10000 frozen=True"
                proc.send_signal(signal.SIGINT)
                with trio.fail_after(20):
                    code = await proc.wait()
                assert proc.stdout is not None
                out = b""
                while chunk := await proc.stdout.receive_some():
                    out += chunk
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
    stderr = err_path.read_text()
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert "KeyboardInterrupt" not in stderr, stderr
    assert "interrupted" in stderr  # the quiet INFO line of Bot.run
    assert out.decode().strip() == "run() returned"


def test_is_interrupt_unwraps_groups_of_interrupts_and_cancellations() -> None:
    ki = KeyboardInterrupt()
    assert is_interrupt(ki)
    assert is_interrupt(BaseExceptionGroup("serve", [ki]))
    assert is_interrupt(BaseExceptionGroup("outer", [BaseExceptionGroup("inner", [KeyboardInterrupt()])]))
    # Cancelled beside the interrupt: the tasks the interrupt tore down
    cancelled = _a_cancelled()
    assert is_interrupt(BaseExceptionGroup("serve", [ki, cancelled]))
    # not an interrupt: a real error beside it, only cancellations, or a plain error
    assert not is_interrupt(BaseExceptionGroup("serve", [KeyboardInterrupt(), ValueError("boom")]))
    assert not is_interrupt(BaseExceptionGroup("serve", [_a_cancelled()]))
    assert not is_interrupt(ValueError("boom"))
    assert not is_interrupt(ExceptionGroup("serve", [ValueError("boom")]))


def _a_cancelled() -> BaseException:
    """A real ``trio.Cancelled`` (it cannot be constructed directly)."""
    caught: list[BaseException] = []

    async def main() -> None:
        with trio.CancelScope() as scope:
            scope.cancel()
            try:
                await trio.sleep(1)
            except trio.Cancelled as exc:
                caught.append(exc)
                raise

    trio.run(main)
    return caught[0]
