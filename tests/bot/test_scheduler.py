"""The scheduler: start, interval, cron and stop jobs, changes while running (MockClock)."""

from __future__ import annotations

import datetime as dt

import pytest
import trio

from qgactor.bot.registry import ComponentRegistry, Job
from qgactor.bot.schedule import parse_cron
from qgactor.bot.scheduler import Scheduler


def recorder():
    log: list[tuple[str, float]] = []

    async def runner(job: Job) -> None:
        log.append((job.name, trio.current_time()))
        await job.fn(job)

    return log, runner


async def nothing(job):
    return None


async def test_start_interval_and_stop_jobs(autojump_clock) -> None:
    reg = ComponentRegistry()
    reg.add_job(Job(fn=nothing, kind="start", name="start"))
    reg.add_job(Job(fn=nothing, kind="interval", interval=10, name="tick"))
    reg.add_job(Job(fn=nothing, kind="interval", interval=10, delay=0, name="now"))
    reg.add_job(Job(fn=nothing, kind="stop", name="stop"))
    log, runner = recorder()
    t0 = trio.current_time()
    async with trio.open_nursery() as n:
        await n.start(Scheduler(reg, runner).run)
        await trio.sleep(35)
        n.cancel_scope.cancel()
    rel = [(name, round(t - t0)) for name, t in log]
    assert ("start", 0) in rel
    assert [t for name, t in rel if name == "tick"] == [10, 20, 30]
    assert [t for name, t in rel if name == "now"] == [0, 10, 20, 30]
    assert rel[-1] == ("stop", 35)


async def test_overrunning_interval_job_skips_missed_ticks(autojump_clock) -> None:
    reg = ComponentRegistry()

    async def slow(job):
        await trio.sleep(25)

    reg.add_job(Job(fn=slow, kind="interval", interval=10, name="slow"))
    log, runner = recorder()
    t0 = trio.current_time()
    async with trio.open_nursery() as n:
        await n.start(Scheduler(reg, runner).run)
        await trio.sleep(75)
        n.cancel_scope.cancel()
    assert [round(t - t0) for _, t in log] == [10, 40, 70]


async def test_cron_job_follows_wall_clock(autojump_clock) -> None:
    base = dt.datetime(2026, 1, 1, 12, 0, 30, tzinfo=dt.timezone.utc).timestamp()
    reg = ComponentRegistry()
    reg.add_job(Job(fn=nothing, kind="cron", cron=parse_cron("*/2 * * * *"), name="cron"))
    log, runner = recorder()
    t0 = trio.current_time()
    sched = Scheduler(reg, runner, wall_clock=lambda: base + trio.current_time() - t0,
                      tz=dt.timezone.utc)
    async with trio.open_nursery() as n:
        await n.start(sched.run)
        await trio.sleep(300)
        n.cancel_scope.cancel()
    assert [round(t - t0) for _, t in log] == [90, 210]


async def test_jobs_added_and_removed_while_running(autojump_clock) -> None:
    reg = ComponentRegistry()
    log, runner = recorder()
    t0 = trio.current_time()
    async with trio.open_nursery() as n:
        await n.start(Scheduler(reg, runner).run)
        await trio.sleep(5)
        reg.add_job(Job(fn=nothing, kind="interval", interval=10, name="late", owner="p"))
        reg.add_job(Job(fn=nothing, kind="start", name="late-start", owner="p"))
        await trio.sleep(25)
        assert reg.remove_components("p") == 2
        await trio.sleep(50)
        n.cancel_scope.cancel()
    rel = [(name, round(t - t0)) for name, t in log]
    assert rel == [("late-start", 5), ("late", 15), ("late", 25)]


async def test_stop_job_timeout_is_bounded(autojump_clock, caplog) -> None:
    reg = ComponentRegistry()

    async def hang(job):
        await trio.sleep_forever()

    reg.add_job(Job(fn=hang, kind="stop", name="hang"))
    log, runner = recorder()
    async with trio.open_nursery() as n:
        await n.start(Scheduler(reg, runner, stop_timeout=2).run)
        n.cancel_scope.cancel()
    assert "did not finish within 2.0 s" in caplog.text
