"""Stopping the gateway (and a whole bot) is clean: every actor stops within its own graceful
stop, nothing is cancelled by the kernel's shutdown timeout, nothing is logged as an error.

Regression for "bot shutdown waits ~2 s because ``gateway.shard-N.connection`` did not stop in
time and was cancelled with an ERROR traceback".
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio

from gw_helpers import FAST, gateway_env
from qgactor.bot.inbound import InboundEvent
from qgactor.emulator import open_emulator
from qgactor.runtime import Actor, Mailbox, Overflow

GATEWAY_ACTORS = ["gateway", "gateway.shards", "gateway.shard-0", "gateway.shard-0.connection",
                  "gateway.shard-0.heartbeat", "gateway.shard-1.connection", "gateway.shard-1.heartbeat"]


def assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    """No record at ERROR or above, and no kernel warning about a child cancelled at its timeout."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.name, r.getMessage(), r.exc_info is not None) for r in errors]
    forced = [r.getMessage() for r in caplog.records if "did not stop within" in r.getMessage()
              or "ignored cancellation" in r.getMessage()]
    assert not forced, forced


async def test_stopping_a_connected_gateway_is_clean(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with gateway_env(max_concurrency=2) as env:
        ref = await env.start_gateway(shards=2)
        await env.wait_status(lambda s: s["connected"] == 2)
        sent = await env.emu.control.send_message("guild", "before stop")
        await env.box.wait_for(lambda evs: any(e.event_id == sent["event_id"] for e in evs))
        await env.system.stop(ref)
        assert not ref.alive
        assert [n for n in GATEWAY_ACTORS if env.system.lookup(n) is not None] == []
        with trio.fail_after(5):  # the emulator sees both sockets go away
            while (await env.emu.control.sessions())["connections"]:
                await trio.sleep(0.01)
    assert_clean(caplog)


class GatedSink(Actor):
    """A sink that blocks on its first event until ``gate`` is set (a stuck dispatcher)."""

    def __init__(self, gate: trio.Event, seen: list[InboundEvent], holding: trio.Event) -> None:
        self.gate, self.seen, self.holding = gate, seen, holding

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, InboundEvent) and msg.name != "READY":
            self.holding.set()
            await self.gate.wait()
        self.seen.append(msg)
        return None


async def test_stopping_while_the_dispatcher_holds_the_reader_is_clean(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    gate, holding, seen = trio.Event(), trio.Event(), []
    async with gateway_env() as env:
        env.sink = await env.system.spawn(GatedSink, gate, seen, holding, name="gated",
                                          mailbox=Mailbox(capacity=1, overflow=Overflow.BACKPRESSURE))
        ref = await env.start_gateway()
        await env.wait_status(lambda s: s["connected"] == 1)
        for i in range(4):  # one handled (stuck), one queued, one held by the reader
            await env.emu.control.send_message("guild", f"m{i}")
        with trio.fail_after(5):
            await holding.wait()
        await env.wait_status(lambda s: s["shards"][0]["reading_blocked"])
        await env.system.stop(ref)  # the reader is blocked in sink.tell(): cancelled, not stuck
        assert not ref.alive and env.system.lookup("gateway.shard-0.connection") is None
        gate.set()
    assert_clean(caplog)


async def test_a_bot_against_the_emulator_stops_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    from qgactor.bot import Bot

    caplog.set_level(logging.INFO)
    async with open_emulator() as emu:
        bot = Bot(appid=emu.appid, secret=emu.secret, environment="custom", api_url=emu.api_url,
                  token_url=emu.token_url, session_store=":memory:")
        async with bot.running():
            await emu.control.wait_for_sessions(1, timeout=10)
            sent = await emu.control.send_message("guild", "hello")
            assert sent["message_id"]
            with trio.fail_after(5):
                while bot.snapshot() is None or not (await bot.system.lookup("gateway").ask("status"))["dispatched"]:  # type: ignore[union-attr]
                    await trio.sleep(0.01)
        assert bot.system is None
    assert_clean(caplog)


async def test_no_secret_or_token_in_logs_reprs_or_status(caplog: pytest.LogCaptureFixture) -> None:
    """Connect, refresh the token (4004), resume, get a bad frame, stop - at DEBUG level."""
    caplog.set_level(logging.DEBUG)
    async with gateway_env() as env:
        ref = await env.start_gateway()
        await env.wait_status(lambda s: s["connected"] == 1)
        first = (await env.tokens.header()).split()[-1]
        await env.emu.control.close(4004)
        await env.wait_status(lambda s: s["connected"] == 1 and s["shards"][0]["identifies"] == 2)
        await env.emu.control.close(4009)
        await env.wait_status(lambda s: s["connected"] == 1 and s["shards"][0]["resumes"] == 1)
        await env.emu.control.inject_event("NO_SUCH_EVENT", {"x": 1}, raw=True)
        await env.wait_status(lambda s: s["bad_frames"] == 1)
        token = (await env.tokens.header()).split()[-1]
        secret = env.emu.secret
        status = repr(await env.status())
        shown = [repr(ref), repr(ref._spec), repr(env.system.snapshot()), status]
        await env.system.stop(ref)
    texts = [r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
             for r in caplog.records if not r.name.startswith("qgactor.emulator")]
    assert len(texts) > 10
    for text in texts + shown:
        assert secret not in text and token not in text and first not in text, text


async def test_an_event_held_by_a_stopped_reader_is_replayed_when_the_gateway_resumes() -> None:
    from qgactor.bot.gateway import gateway_spec

    gate, holding, seen = trio.Event(), trio.Event(), []
    async with gateway_env() as env:
        sink = await env.system.spawn(GatedSink, gate, seen, holding, name="gated",
                                      mailbox=Mailbox(capacity=1, overflow=Overflow.BACKPRESSURE))
        spec = gateway_spec(api=env.api, token_source=env.tokens, intents=1 << 30, shards=1, sink=sink,
                            options=FAST)
        ref = await env.system.spawn(spec)
        await env.wait_status(lambda s: s["connected"] == 1)
        sent = [await env.emu.control.send_message("guild", f"m{i}") for i in range(4)]
        with trio.fail_after(5):
            await holding.wait()
        await env.wait_status(lambda s: s["shards"][0]["reading_blocked"])
        await env.system.stop(ref)  # m0 in the sink, m1 in its mailbox, m2 in the reader's hands
        gate.set()
        ref = await env.system.spawn(spec)  # same spec, same session: it resumes
        st = await env.wait_status(lambda s: s["connected"] == 1 and s["shards"][0]["resumes"] == 1)
        assert st["shards"][0]["identifies"] == 1
        want = [s["event_id"] for s in sent]
        with trio.fail_after(5):
            while [e.event_id for e in seen if e.name == "AT_MESSAGE_CREATE"] != want:
                assert len(seen) < 20, [e.event_id for e in seen]
                await trio.sleep(0.01)
