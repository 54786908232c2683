"""Event bus: declared specs, ordering by priority and before/after, STOP, observers."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from qgactor.plugins.events import (
    STOP,
    BusEvent,
    EventBus,
    EventBusError,
    EventFieldError,
    EventSpec,
    OrderingError,
    UnknownEventError,
)


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


def _bus() -> EventBus:
    bus = EventBus()
    bus.declare(EventSpec("shop.sold", {"item": str, "count": int}, owner="shop"))
    return bus


async def test_emit_checks_declared_spec() -> None:
    bus = _bus()
    with pytest.raises(UnknownEventError, match="shop.sold"):
        await bus.emit("shop.sould", item="x", count=1)
    with pytest.raises(EventFieldError, match="missing count"):
        await bus.emit("shop.sold", item="x")
    with pytest.raises(EventFieldError, match="unexpected colour"):
        await bus.emit("shop.sold", item="x", count=1, colour="red")
    with pytest.raises(EventFieldError, match="'count' must be int, got str"):
        await bus.emit("shop.sold", item="x", count="1")
    with pytest.raises(UnknownEventError):
        bus.subscribe("nope", _noop)
    with pytest.raises(EventBusError, match="'other.<event>'"):
        bus.declare(EventSpec("shop.x", {}, owner="other"))
    with pytest.raises(EventBusError, match="already declared"):
        bus.declare(EventSpec("shop.sold", {}, owner=None))


async def _noop(ev: BusEvent) -> None:
    return None


async def test_ordering_priority_then_constraints_then_registration() -> None:
    bus = _bus()
    seen: list[str] = []

    def rec(tag: str, ret: object = None):
        async def h(ev: BusEvent) -> object:
            assert ev.item == "apple" and ev.fields["count"] == 2
            seen.append(tag)
            return ret
        return h

    bus.subscribe("shop.sold", rec("low"), name="low", owner="a", priority=-5)
    bus.subscribe("shop.sold", rec("high"), name="high", owner="b", priority=10)
    bus.subscribe("shop.sold", rec("mid1"), name="mid1", owner="c")
    bus.subscribe("shop.sold", rec("mid2"), name="mid2", owner="d")
    # must run before b.high despite lower priority, and after d (a whole owner)
    bus.subscribe("shop.sold", rec("audit"), name="audit", owner="e",
                  before=["b.high"], after=["d"])
    result = await bus.emit("shop.sold", item="apple", count=2)
    assert seen == ["mid1", "mid2", "audit", "high", "low"]
    assert result.handled == ["c.mid1", "d.mid2", "e.audit", "b.high", "a.low"]
    assert [s.id for s in bus.handlers("shop.sold")] == result.handled


async def test_cycle_in_constraints_rejected_and_nothing_registered() -> None:
    bus = _bus()
    bus.subscribe("shop.sold", _noop, name="x", owner="a", before=["b.y"])
    with pytest.raises(OrderingError, match="a.x, b.y"):
        bus.subscribe("shop.sold", _noop, name="y", owner="b", before=["a.x"])
    assert [s.id for s in bus.handlers("shop.sold")] == ["a.x"]


async def test_stop_and_error_isolation() -> None:
    bus = _bus()
    seen: list[str] = []

    async def boom(ev: BusEvent) -> None:
        seen.append("boom")
        raise RuntimeError("handler bug")

    async def stopper(ev: BusEvent) -> object:
        seen.append("stop")
        return STOP

    async def never(ev: BusEvent) -> None:
        seen.append("never")

    bus.subscribe("shop.sold", boom, priority=3)
    bus.subscribe("shop.sold", stopper, priority=2)
    bus.subscribe("shop.sold", never, priority=1)
    result = await bus.emit("shop.sold", item="x", count=1)
    assert seen == ["boom", "stop"]
    assert result.stopped_by == "stopper"
    assert [(h, type(e)) for h, e in result.errors] == [("boom", RuntimeError)]


async def test_observers_never_block_emitter(autojump_clock) -> None:
    bus = EventBus(observer_queue=2, observer_timeout=5)
    bus.declare(EventSpec("t.tick", {"n": int}))
    release = trio.Event()
    observed: list[int] = []

    async def slow_observer(ev: BusEvent) -> None:
        await release.wait()
        observed.append(ev.n)

    bus.subscribe("t.tick", slow_observer, observer=True)
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)
        t0 = trio.current_time()
        results = [await bus.emit("t.tick", n=i) for i in range(50)]
        assert trio.current_time() == t0  # the emitter never waited
        assert sum(r.observers_queued for r in results) + bus.observers_dropped == 50
        assert bus.observers_dropped > 0
        release.set()
        await trio.testing.wait_all_tasks_blocked()
        assert len(observed) == 50 - bus.observers_dropped
        nursery.cancel_scope.cancel()


async def test_hung_handler_times_out(autojump_clock) -> None:
    bus = EventBus(handler_timeout=3)
    bus.declare(EventSpec("t.e", {}))

    async def hang(ev: BusEvent) -> None:
        await trio.sleep_forever()

    bus.subscribe("t.e", hang)
    t0 = trio.current_time()
    result = await bus.emit("t.e")
    assert trio.current_time() - t0 == pytest.approx(3)
    assert isinstance(result.errors[0][1], trio.TooSlowError)


async def test_remove_owner() -> None:
    bus = _bus()
    bus.declare(EventSpec("c.own", {}, owner="c"))
    bus.subscribe("shop.sold", _noop, owner="c")
    bus.subscribe("shop.sold", _noop, owner="d")
    assert bus.remove_owner("c") == 1
    assert [s.owner for s in bus.handlers("shop.sold")] == ["d"]
    with pytest.raises(UnknownEventError):
        bus.spec("c.own")
