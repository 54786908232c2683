"""Runs the registry's jobs: start, interval, cron and stop jobs.

The scheduler watches the registry: jobs added while it runs start at once (a ``start`` job
added late runs immediately), removed or disabled ones stop. Runs of one job never overlap:
an interval job that overruns skips the missed ticks. ``stop`` jobs run when the scheduler
is cancelled (shielded, each limited to ``stop_timeout`` seconds).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from typing import Awaitable, Callable

import trio

from qgactor.bot.registry import ComponentRegistry, Job

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)

JobRunner = Callable[[Job], Awaitable[None]]


class Scheduler:
    """Run the jobs of ``registry`` by calling ``runner(job)`` (which must not raise for a
    failing job: it logs it).

    Args:
        registry: where jobs are registered.
        runner: awaited for each due run.
        wall_clock: wall time in seconds (cron schedules follow it; tests tie it to trio time).
        tz: time zone for cron schedules (default: the local zone).
        stop_timeout: seconds each stop job may take at shutdown.
    """

    def __init__(
        self,
        registry: ComponentRegistry,
        runner: JobRunner,
        *,
        wall_clock: Callable[[], float] = time.time,
        tz: dt.tzinfo | None = None,
        stop_timeout: float = 5.0,
    ) -> None:
        self.registry = registry
        self.runner = runner
        self.wall_clock = wall_clock
        self.tz = tz
        self.stop_timeout = stop_timeout
        self._tasks: dict[Job, trio.CancelScope] = {}
        self._nursery: trio.Nursery | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._started_jobs: set[int] = set()
        self.runs = 0

    def _on_change(self) -> None:
        token = self._token
        if token is None:
            return
        try:
            token.run_sync_soon(self._resync)
        except trio.RunFinishedError:
            pass

    def _resync(self) -> None:
        nursery = self._nursery
        if nursery is None:
            return
        current = {j for j in self.registry.jobs if j.enabled}
        for job, scope in list(self._tasks.items()):
            if job not in current:
                scope.cancel()
                del self._tasks[job]
        for job in current:
            if job in self._tasks:
                continue
            if job.kind == "start":
                if id(job) in self._started_jobs:
                    continue
                self._started_jobs.add(id(job))
                scope = trio.CancelScope()
                self._tasks[job] = scope
                nursery.start_soon(self._run_once, job, scope)
            elif job.kind in ("interval", "cron"):
                scope = trio.CancelScope()
                self._tasks[job] = scope
                nursery.start_soon(self._loop, job, scope)

    async def _call(self, job: Job) -> None:
        self.runs += 1
        await self.runner(job)

    async def _run_once(self, job: Job, scope: trio.CancelScope) -> None:
        with scope:
            await self._call(job)

    def _next_delay(self, job: Job) -> float:
        assert job.cron is not None
        now = self.wall_clock()
        when = dt.datetime.fromtimestamp(now, self.tz)
        nxt = job.cron.next_after(when)
        return max(0.0, nxt.timestamp() - now)

    async def _loop(self, job: Job, scope: trio.CancelScope) -> None:
        with scope:
            if job.kind == "interval":
                assert job.interval is not None
                period = job.interval
                deadline = trio.current_time() + (job.delay if job.delay is not None else period)
                while True:
                    await trio.sleep_until(deadline)
                    await self._call(job)
                    now = trio.current_time()
                    deadline += period
                    if deadline <= now:  # overran: skip the missed ticks
                        deadline += math.ceil((now - deadline) / period) * period
                        if deadline <= now:
                            deadline += period
            else:
                while True:
                    await trio.sleep(self._next_delay(job))
                    await self._call(job)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run start jobs, then interval/cron jobs until cancelled; then run stop jobs."""
        self._token = trio.lowlevel.current_trio_token()
        self.registry.add_listener(self._on_change)
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._resync()
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None
            self.registry.remove_listener(self._on_change)
            self._tasks.clear()
            with trio.CancelScope(shield=True):
                for job in self.registry.jobs:
                    if job.kind == "stop" and job.enabled:
                        with trio.move_on_after(self.stop_timeout) as cs:
                            await self._call(job)
                        if cs.cancelled_caught:
                            log.error("stop job %s did not finish within %.1f s", job.name,
                                      self.stop_timeout)
