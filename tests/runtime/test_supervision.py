"""Supervision: strategies, restart types, intensity, backoff, shutdown order (issue items 2-4, 8, 9)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from kernel_helpers import wait_until
from qgactor.runtime import (
    Actor,
    Backoff,
    ChildSpec,
    ExitReason,
    Restart,
    RestartIntensityExceeded,
    Strategy,
    Supervisor,
    open_actor_nursery,
)


class Recorder(Actor):
    """Logs its lifecycle into a shared list; ``"crash"`` makes it raise, ``"stop"`` stops it."""

    def __init__(self, log: list[Any], tag: str) -> None:
        self.log = log
        self.tag = tag

    async def on_start(self) -> None:
        self.log.append(("start", self.tag))

    async def receive(self, msg: Any) -> Any:
        if msg == "crash":
            raise RuntimeError(f"{self.tag} crashed")
        if msg == "stop":
            self.ctx.stop()
        return self.tag

    async def on_stop(self, reason: ExitReason) -> None:
        self.log.append(("stop", self.tag, reason.kind.value))


def starts(log: list[Any]) -> list[str]:
    return [e[1] for e in log if e[0] == "start"]


def spec(log: list[Any], tag: str, restart: Restart = Restart.PERMANENT) -> ChildSpec:
    return ChildSpec(Recorder, args=(log, tag), name=tag, restart=restart)


async def test_one_for_one_restarts_only_the_failed_child() -> None:
    log: list[Any] = []
    async with open_actor_nursery(backoff=None) as an:
        a = await an.spawn(spec(log, "a"))
        b = await an.spawn(spec(log, "b"))
        await b.tell("crash")
        await wait_until(lambda: starts(log).count("b") == 2)
        assert starts(log) == ["a", "b", "b"]
        assert ("stop", "b", "crash") in log
        assert a.restarts == 0 and b.restarts == 1
        assert await b.ask("who") == "b"


@pytest.mark.parametrize(
    "strategy,expected_restarted",
    [(Strategy.ONE_FOR_ALL, ["a", "b", "c"]), (Strategy.REST_FOR_ONE, ["b", "c"])],
)
async def test_all_and_rest_strategies(strategy: Strategy, expected_restarted: list[str]) -> None:
    log: list[Any] = []
    async with open_actor_nursery(backoff=None) as an:
        sup = await an.spawn(Supervisor.spec(
            "sup", [spec(log, t) for t in "abc"], strategy=strategy))
        assert starts(log) == ["a", "b", "c"]
        log.clear()
        await an.lookup("b").tell("crash")  # type: ignore[union-attr]
        await wait_until(lambda: len(starts(log)) == len(expected_restarted))
        assert starts(log) == expected_restarted  # restarted in start order
        stops = [e[1] for e in log if e[0] == "stop"]
        # siblings are stopped in reverse start order (after the failed child ended)
        assert stops == ["b"] + [t for t in reversed(expected_restarted) if t != "b"]
        assert sup.alive


@pytest.mark.parametrize("strategy", [Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE])
async def test_strategies_ignore_children_not_due_to_restart(strategy: Strategy) -> None:
    log: list[Any] = []
    async with open_actor_nursery(backoff=None) as an:
        await an.spawn(Supervisor.spec("sup", [
            spec(log, "a", Restart.TEMPORARY), spec(log, "b", Restart.TRANSIENT), spec(log, "c")],
            strategy=strategy))
        log.clear()
        await an.lookup("b").tell("stop")  # type: ignore[union-attr]  # transient, normal exit
        await wait_until(lambda: an.lookup("b") is None)
        await an.lookup("a").tell("crash")  # type: ignore[union-attr]  # temporary crash
        await wait_until(lambda: an.lookup("a") is None)
        await trio.sleep(0.01)
        assert starts(log) == []
        assert an.lookup("c") is not None


async def test_restart_types() -> None:
    log: list[Any] = []
    async with open_actor_nursery(backoff=None) as an:
        perm = await an.spawn(spec(log, "perm"))
        trans = await an.spawn(spec(log, "trans", Restart.TRANSIENT))
        temp = await an.spawn(spec(log, "temp", Restart.TEMPORARY))
        await perm.tell("stop")  # permanent: restarted even after a normal stop
        await wait_until(lambda: starts(log).count("perm") == 2)
        await trans.tell("crash")  # transient: restarted after a crash...
        await wait_until(lambda: starts(log).count("trans") == 2)
        await trans.tell("stop")  # ...but not after a normal stop
        await wait_until(lambda: not trans.alive)
        await temp.tell("crash")  # temporary: never
        await wait_until(lambda: not temp.alive)
        assert temp.exit_reason is not None and temp.exit_reason.is_crash
        assert trans.exit_reason is not None and trans.exit_reason.is_normal
        assert starts(log).count("temp") == 1


async def test_root_intensity_exceeded_raises_out_of_nursery() -> None:
    log: list[Any] = []
    with pytest.raises(RestartIntensityExceeded) as ei:
        async with open_actor_nursery(max_restarts=2, within=5.0, backoff=None) as an:
            await an.spawn(spec(log, "a"))
            await an.spawn(spec(log, "b"))
            bad = await an.spawn(spec(log, "bad"))
            await an.spawn(spec(log, "z"))
            for _ in range(10):
                await bad.tell("crash")
                await trio.sleep(0.001)
            await trio.sleep_forever()  # cancelled when the root fails
    assert isinstance(ei.value.__cause__, RuntimeError)
    assert starts(log).count("bad") == 3  # initial + 2 restarts
    stops = [e[1] for e in log if e[0] == "stop"][-3:]
    assert stops == ["z", "b", "a"]  # the rest stopped in reverse start order


async def test_nested_supervisor_fails_to_parent_which_restarts_it() -> None:
    log: list[Any] = []
    async with open_actor_nursery(backoff=None, max_restarts=5) as an:
        sup = await an.spawn(Supervisor.spec("inner", [spec(log, "x"), spec(log, "y")],
                                             max_restarts=1, backoff=None))
        for _ in range(2):
            await wait_until(lambda: an.lookup("y") is not None)
            await an.lookup("y").tell("crash")  # type: ignore[union-attr]
            await trio.sleep(0.01)
        await wait_until(lambda: sup.restarts == 1 and an.lookup("y") is not None)
        # inner stopped x (reverse order) when it failed, then the root restarted the subtree
        assert starts(log) == ["x", "y", "y", "x", "y"]
        assert sup.snapshot().last_error is not None
        assert "RestartIntensityExceeded" in sup.snapshot().last_error  # type: ignore[operator]


async def test_backoff_exponential_capped_and_reset(autojump_clock: trio.testing.MockClock) -> None:
    times: list[float] = []
    crashes: list[float] = []

    class Crashy(Actor):
        async def on_start(self) -> None:
            times.append(trio.current_time())

        async def receive(self, msg: Any) -> Any:
            crashes.append(trio.current_time())
            raise RuntimeError("boom")

    backoff = Backoff(initial=1.0, factor=2.0, max=4.0, jitter=0.0, reset_after=30.0)
    async with open_actor_nursery(backoff=backoff, max_restarts=100, within=1.0) as an:
        ref = await an.spawn(Crashy, name="c")
        for _ in range(5):
            n = len(times)
            await ref.tell("x")
            await wait_until(lambda: len(times) == n + 1, timeout=100, step=0.1)
        gaps = [round(b - a, 6) for a, b in zip(crashes, times[1:])]
        assert gaps == [1.0, 2.0, 4.0, 4.0, 4.0]
        await trio.sleep(31)  # a quiet period resets the backoff
        n = len(times)
        await ref.tell("x")
        await wait_until(lambda: len(times) == n + 1, timeout=100, step=0.1)
        assert times[-1] - crashes[-1] == pytest.approx(1.0)


def test_backoff_delay_jitter_bounds() -> None:
    import random

    b = Backoff(initial=1.0, factor=3.0, max=10.0, jitter=0.25)
    rng = random.Random(7)
    for attempt, base in [(0, 1.0), (1, 3.0), (2, 9.0), (3, 10.0), (50, 10.0), (5000, 10.0)]:
        for _ in range(50):
            d = b.delay(attempt, rng)
            assert base * 0.75 <= d <= base * 1.25
    assert Backoff(initial=0).delay(5) == 0.0
    with pytest.raises(ValueError):
        Backoff(initial=-1)


async def test_graceful_shutdown_reverse_order_with_timeout(autojump_clock: trio.testing.MockClock) -> None:
    log: list[Any] = []

    class Stuck(Recorder):
        async def receive(self, msg: Any) -> Any:
            await trio.sleep_forever()

    async with open_actor_nursery() as an:
        await an.spawn(spec(log, "first"))
        stuck = await an.spawn(ChildSpec(Stuck, args=(log, "stuck"), name="stuck", shutdown=2.0))
        await an.spawn(spec(log, "last"))
        await stuck.tell("hang")
        await trio.sleep(0.1)
        t0 = trio.current_time()
    elapsed = trio.current_time() - t0
    assert [e[1:] for e in log if e[0] == "stop"] == [
        ("last", "shutdown"), ("stuck", "shutdown"), ("first", "shutdown")]
    assert elapsed == pytest.approx(2.0)  # the stuck child got its timeout, then was cancelled
    assert [d.reason for d in an.dead_letters] == ["stopped"]  # the message it was handling


async def test_on_stop_runs_shielded_when_cancelled_from_outside() -> None:
    log: list[Any] = []

    class Slow(Actor):
        async def on_stop(self, reason: ExitReason) -> None:
            await trio.sleep(0.01)  # would raise Cancelled if not shielded
            log.append(reason.kind.value)

    with trio.CancelScope() as outer:
        async with open_actor_nursery() as an:
            await an.spawn(Slow, name="s")
            outer.cancel()  # cancels the body; the actors still stop gracefully
            await trio.sleep_forever()
    assert log == ["shutdown"]


async def test_child_error_never_cancels_siblings_and_groups_are_unwrapped() -> None:
    log: list[Any] = []

    class GroupRaiser(Actor):
        async def receive(self, msg: Any) -> Any:
            async def fail() -> None:
                raise KeyError("inner")

            async with trio.open_nursery() as n:  # raises ExceptionGroup([KeyError])
                n.start_soon(fail)
                await trio.sleep_forever()

    reasons: list[ExitReason] = []

    class Watch(GroupRaiser):
        async def on_stop(self, reason: ExitReason) -> None:
            reasons.append(reason)

    async with open_actor_nursery(backoff=None) as an:
        sib = await an.spawn(spec(log, "sibling"))
        g = await an.spawn(ChildSpec(Watch, name="g", restart=Restart.TEMPORARY))
        await g.tell("go")
        await wait_until(lambda: not g.alive)
        assert reasons[0].is_crash and isinstance(reasons[0].error, KeyError)
        assert await sib.ask("x") == "sibling"
        assert [e for e in log if e[0] == "stop"] == []


async def test_factory_raising_on_start_counts_as_crash_not_hang() -> None:
    attempts = []

    class BadStart(Actor):
        async def on_start(self) -> None:
            attempts.append(1)
            raise OSError("cannot connect")

    class BadInit(Actor):
        def __init__(self) -> None:
            raise ValueError("bad config")

    with trio.fail_after(5):
        with pytest.raises(RestartIntensityExceeded) as ei:
            async with open_actor_nursery(max_restarts=2, backoff=None) as an:
                await an.spawn(BadStart, name="bad")
                await trio.sleep_forever()
    assert isinstance(ei.value.__cause__, OSError) and len(attempts) == 3
    with trio.fail_after(5):
        with pytest.raises(RestartIntensityExceeded) as ei:
            async with open_actor_nursery(max_restarts=1, backoff=None) as an:
                await an.spawn(BadInit)
                await trio.sleep_forever()
    assert isinstance(ei.value.__cause__, ValueError)


async def test_body_exception_propagates_unwrapped_after_graceful_stop() -> None:
    log: list[Any] = []
    with pytest.raises(ZeroDivisionError):
        async with open_actor_nursery() as an:
            await an.spawn(spec(log, "a"))
            1 / 0
    assert log[-1] == ("stop", "a", "shutdown")
