"""Plain ``def`` handlers on cancellation: the worker thread is waited for, never abandoned, and a
blocking helper it is stuck in is cancelled (no deadlock, no thread outliving the bot).

Real threads and the real clock (short waits on real conditions)."""

from __future__ import annotations

import threading

import trio

from qgactor.bot.bridge import run_blocking, run_in_worker
from qgactor.bot.registry import ComponentRegistry, Job
from qgactor.bot.scheduler import Scheduler


async def test_cancelled_handler_thread_is_waited_for_and_its_blocking_helper_cancelled() -> None:
    token = trio.lowlevel.current_trio_token()
    never = trio.Event()  # e.g. a conversation waiting for a user who never answers
    entered = trio.Event()
    log: list[str] = []

    def handler(_: object) -> None:
        trio.from_thread.run_sync(entered.set, trio_token=token)
        try:
            run_blocking(token, never.wait)
        except trio.Cancelled:
            log.append("helper cancelled")
            raise
        finally:
            log.append("thread done")

    with trio.fail_after(5):  # a hang here is the deadlock this guards against
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_in_worker, token, handler, None)
            await entered.wait()
            nursery.cancel_scope.cancel()
    # the thread finished before the nursery let us go: nothing runs on behind our back
    assert log == ["helper cancelled", "thread done"]


async def test_blocking_helper_from_a_foreign_thread_still_works() -> None:
    token = trio.lowlevel.current_trio_token()

    async def answer() -> int:
        await trio.sleep(0)
        return 42

    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_blocking(token, answer)))
    thread.start()
    with trio.fail_after(5):
        while thread.is_alive():
            await trio.sleep(0.005)
    assert result == [42]


async def test_stop_jobs_run_after_a_running_sync_job_returned() -> None:
    token = trio.lowlevel.current_trio_token()
    running = trio.Event()
    release = threading.Event()
    order: list[str] = []

    def slow(_: object) -> None:
        trio.from_thread.run_sync(running.set, trio_token=token)
        release.wait(5)
        order.append("job returned")

    async def stop(_: object) -> None:
        order.append("stop job")

    reg = ComponentRegistry()
    reg.add_job(Job(fn=slow, kind="interval", interval=60, delay=0, name="slow"))
    reg.add_job(Job(fn=stop, kind="stop", name="stop"))

    async def runner(job: Job) -> None:
        if job.kind == "stop":
            await job.fn(job)
        else:
            await run_in_worker(token, job.fn, job)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(Scheduler(reg, runner).run)
            await running.wait()
            nursery.cancel_scope.cancel()
            # the job is mid-run in its thread when the scheduler is cancelled
            threading.Timer(0.05, release.set).start()
    assert order == ["job returned", "stop job"]
