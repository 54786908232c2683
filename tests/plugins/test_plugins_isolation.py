"""A plugin's handlers run under its worker's incarnation (MockClock for the restart timing):
a raising handler crashes the worker (its supervisor counts the restart), calls arriving while
it restarts wait and run on the next incarnation, and calls still running when the
incarnation ends are cancelled — as if they ran as the worker's own tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing
from plugins_helpers import command_handler, running_manager, wait_until, write_plugin

from qgactor.plugins import HandlerFailed
from qgactor.runtime import Backoff


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


MIXED = '''
import trio
from qgactor.plugins import Plugin, command, tool


class Mixed(Plugin):
    async def on_load(self):
        self.bot.log.append("loaded")

    @command("boom")
    async def boom(self, msg):
        raise ValueError("bad input " + msg)

    @command("ok")
    async def ok(self, msg):
        return "ok:" + msg

    @command("sync")
    def sync(self, msg):
        return "sync:" + msg

    @command("wait")
    async def wait(self, msg):
        self.bot.log.append("waiting")
        await trio.sleep(3600)
        return "never"

    @tool("explode")
    async def explode(self):
        raise KeyError("tool bug")
'''


def worker_snapshot(m, name: str):
    sup = m.slots[name].supervisor
    assert sup is not None
    snap = sup.snapshot().find(f"plugin:{name}:worker")
    assert snap is not None
    return snap


async def test_crash_restarts_worker_and_waiting_call_runs_on_next_incarnation(
    plugins_dir: Path, autojump_clock: trio.testing.MockClock
) -> None:
    write_plugin(plugins_dir, "mixed", MIXED)
    backoff = Backoff(initial=2.0, factor=1.0, max=2.0, jitter=0)
    async with running_manager(plugins_dir, backoff=backoff, max_restarts=5, within=60) as m:
        ok, boom, sync = (command_handler(m, n) for n in ("ok", "boom", "sync"))
        assert await ok("a") == "ok:a"
        assert await sync("s") == "sync:s"  # plain def: in a thread, same gate
        assert worker_snapshot(m, "mixed").restarts == 0
        assert await boom("x") is None
        t0 = trio.current_time()
        # the worker is restarting (2 s backoff): this call waits for it, it is not dropped
        assert await ok("b") == "ok:b"
        assert trio.current_time() - t0 == pytest.approx(2.0, abs=0.1)
        snap = worker_snapshot(m, "mixed")
        assert snap.restarts == 1
        assert snap.last_error is not None and "bad input x" in snap.last_error
        info = m.info("mixed")
        assert (info.state, info.calls, info.failures, info.waited, info.dropped) == (
            "loaded", 4, 1, 1, 0)


async def test_tool_failure_raises_and_crashes_the_worker(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "mixed", MIXED)
    async with running_manager(plugins_dir, backoff=Backoff(initial=0), within=60) as m:
        with pytest.raises(HandlerFailed, match="tool bug"):
            await m.call_tool("mixed.explode")
        await wait_until(lambda: worker_snapshot(m, "mixed").restarts == 1)
        assert await command_handler(m, "ok")("c") == "ok:c"


async def test_running_calls_cancelled_when_a_sibling_crashes_or_plugin_disabled(
    plugins_dir: Path, autojump_clock: trio.testing.MockClock
) -> None:
    write_plugin(plugins_dir, "mixed", MIXED)
    async with running_manager(plugins_dir, backoff=Backoff(initial=0), max_restarts=5,
                               within=60) as m:
        wait, boom = command_handler(m, "wait"), command_handler(m, "boom")
        results: list[object] = []

        async def call_wait() -> None:
            results.append(await wait("w"))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call_wait)
            await wait_until(lambda: m.bot.log.count("waiting") == 1)
            assert m.slots["mixed"].inflight
            t0 = trio.current_time()
            assert await boom("y") is None  # crashes the incarnation the wait runs under
        assert results == [None]
        assert trio.current_time() - t0 < 1.0  # cancelled, not run out to its hour
        # disabling the plugin cancels what still runs under its worker
        async with trio.open_nursery() as nursery:
            nursery.start_soon(call_wait)
            await wait_until(lambda: m.bot.log.count("waiting") == 2)
            t0 = trio.current_time()
            await m.disable("mixed")
        assert results == [None, None]
        assert trio.current_time() - t0 < 5.0  # the drain bound (2 s), not the hour
        assert not m.slots["mixed"].inflight


async def test_calls_waiting_for_a_restart_are_released_when_the_plugin_gives_up(
    plugins_dir: Path, autojump_clock: trio.testing.MockClock
) -> None:
    write_plugin(plugins_dir, "mixed", MIXED)
    backoff = Backoff(initial=1.0, factor=1.0, max=1.0, jitter=0)
    async with running_manager(plugins_dir, backoff=backoff, max_restarts=0, within=60,
                               reload_wait=30.0) as m:
        ok, boom = command_handler(m, "ok"), command_handler(m, "boom")
        assert await boom("z") is None  # max_restarts=0: the supervisor gives up
        t0 = trio.current_time()
        assert await ok("late") is None  # released when the plugin is disabled, no 30 s hang
        assert trio.current_time() - t0 < 1.0
        await wait_until(lambda: m.info("mixed").state == "crashed")
        assert "bad input z" in m.info("mixed").reason


async def test_a_call_cancelled_by_its_caller_does_not_hold_up_a_reload(
    plugins_dir: Path, autojump_clock: trio.testing.MockClock
) -> None:
    write_plugin(plugins_dir, "mixed", MIXED)
    async with running_manager(plugins_dir, drain_timeout=30.0) as m:
        wait = command_handler(m, "wait")
        reloaded: list[float] = []

        async def reload() -> None:
            result = await m.reload("mixed")
            assert result.ok, result
            reloaded.append(trio.current_time())

        async with trio.open_nursery() as nursery:
            caller = trio.CancelScope()

            async def call() -> None:
                with caller:
                    await wait("w")

            nursery.start_soon(call)
            await wait_until(lambda: m.bot.log.count("waiting") == 1)
            nursery.start_soon(reload)
            await wait_until(lambda: m.slots["mixed"].state.value == "reloading")
            t0 = trio.current_time()
            caller.cancel()  # e.g. a bus handler timeout: the reload's drain must not wait 30 s
        assert reloaded and reloaded[0] - t0 < 1.0
        assert await command_handler(m, "ok")("after") == "ok:after"
