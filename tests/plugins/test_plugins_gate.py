"""The gate of a plugin slot on trio's MockClock: calls wait while a reload holds it, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from qgactor.plugins.loader import PluginSource
from qgactor.plugins.manifest import Manifest
from qgactor.plugins.slot import PluginSlot, PluginState


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


def _slot() -> PluginSlot:
    return PluginSlot(PluginSource("p", Path("p.py"), Manifest(name="p")), reload_wait=5.0)


async def test_held_gate_drops_after_reload_wait(autojump_clock: trio.testing.MockClock) -> None:
    slot = _slot()
    slot.hold()
    assert slot.state is PluginState.RELOADING
    t0 = trio.current_time()
    assert await slot.invoke("command:x", "msg") is None
    assert trio.current_time() - t0 == pytest.approx(5.0)
    assert (slot.stats_waited, slot.stats_dropped) == (1, 1)


async def test_held_gate_released_by_open(autojump_clock: trio.testing.MockClock) -> None:
    slot = _slot()
    slot.hold()
    done: list[float] = []

    async def call() -> None:
        await slot.invoke("command:x")
        done.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(call)
        await trio.sleep(1.0)
        assert done == []
        slot.state = PluginState.DISABLED  # e.g. the reload ended with the plugin unloaded
        slot.open()
    assert done == [pytest.approx(1.0)]
    assert slot.stats_dropped == 1  # not loaded: not delivered, but it did not hang
