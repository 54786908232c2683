"""``def`` handlers on qgactor's own worker threads (``bridge.run_in_worker``): results and
errors come back, the task's context variables are visible, the limiter bounds the threads,
threads are reused and end when idle, blocking helpers run in the handler's task, and bare
``trio.from_thread`` calls work as under ``trio.to_thread.run_sync``.

Real threads and the real clock (short waits on real conditions)."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest
import trio

from qgactor.bot import bridge
from qgactor.bot.bridge import run_blocking, run_in_worker
from qgactor.bot.dispatch import call_handler
from qgactor.bot.slots import ThreadsOutsideSlot

_var: contextvars.ContextVar[str] = contextvars.ContextVar("_var", default="unset")


async def test_result_error_and_context_variables_come_through() -> None:
    token = trio.lowlevel.current_trio_token()
    _var.set("from the task")
    main = threading.get_ident()

    def handler(arg: int) -> tuple[int, str, bool]:
        return arg * 2, _var.get(), threading.get_ident() != main

    assert await run_in_worker(token, handler, 21) == (42, "from the task", True)

    def broken(_: object) -> None:
        raise LookupError("handler bug")

    with pytest.raises(LookupError, match="handler bug"):
        await run_in_worker(token, broken, None)


async def test_blocking_helper_runs_in_the_handler_task_and_raises_there() -> None:
    token = trio.lowlevel.current_trio_token()
    tasks: list[object] = []

    async def helper(x: int) -> int:
        tasks.append(trio.lowlevel.current_task())
        await trio.sleep(0)
        return x + 1

    async def failing() -> None:
        await trio.sleep(0)
        raise KeyError("from trio")

    def handler(_: object) -> int:
        total = sum(run_blocking(token, helper, i) for i in range(5))
        with pytest.raises(KeyError, match="from trio"):
            run_blocking(token, failing)
        return total

    async def caller() -> int:
        tasks.append(trio.lowlevel.current_task())
        return await run_in_worker(token, handler, None)

    assert await caller() == sum(range(1, 6))
    assert len(set(map(id, tasks))) == 1  # every helper ran in the task that called the handler


async def test_bare_from_thread_calls_work_inside_a_handler() -> None:
    token = trio.lowlevel.current_trio_token()
    hit = trio.Event()

    async def answer() -> str:
        await trio.sleep(0)
        return "from trio"

    def handler(_: object) -> str:
        trio.from_thread.run_sync(hit.set)  # no trio_token: as inside trio.to_thread.run_sync
        trio.from_thread.check_cancelled()
        return trio.from_thread.run(answer)

    with trio.fail_after(5):
        assert await run_in_worker(token, handler, None) == "from trio"
    assert hit.is_set()


async def test_cancelled_handler_sees_check_cancelled_and_is_waited_for() -> None:
    token = trio.lowlevel.current_trio_token()
    started = trio.Event()
    seen: list[str] = []

    def handler(_: object) -> None:
        trio.from_thread.run_sync(started.set)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                trio.from_thread.check_cancelled()
            except trio.Cancelled:
                seen.append("cancelled")
                raise
            time.sleep(0.001)
        seen.append("never cancelled")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_in_worker, token, handler, None)
            await started.wait()
            nursery.cancel_scope.cancel()
    assert seen == ["cancelled"]  # and the thread had finished when the nursery closed


async def test_the_limiter_bounds_threads_and_threads_are_reused() -> None:
    token = trio.lowlevel.current_trio_token()
    limiter = trio.CapacityLimiter(3)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    idents: set[int] = set()

    def handler(_: object) -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            idents.add(threading.get_ident())
        time.sleep(0.002)
        with lock:
            state["now"] -= 1

    with trio.fail_after(20):
        for _ in range(3):  # rounds: the threads of one round serve the next
            async with trio.open_nursery() as nursery:
                for _ in range(20):
                    nursery.start_soon(run_in_worker, token, handler, None, limiter)
    assert state["peak"] == 3
    assert limiter.borrowed_tokens == 0
    # threads are cached: 60 calls, at most 3 at once, far fewer than 60 threads
    assert len(idents) <= 3 + bridge._THREADS.threads


async def test_threads_outside_slot_limiter_takes_free_threads_without_waiting() -> None:
    token = trio.lowlevel.current_trio_token()
    inner = trio.CapacityLimiter(1)
    limiter = ThreadsOutsideSlot(inner)
    assert await run_in_worker(token, lambda x: x, "ok", limiter) == "ok"
    assert inner.borrowed_tokens == 0
    borrower = object()
    limiter.acquire_on_behalf_of_nowait(borrower)
    with pytest.raises(trio.WouldBlock):
        limiter.acquire_on_behalf_of_nowait(object())
    limiter.release_on_behalf_of(borrower)


async def test_idle_threads_end_after_the_idle_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    token = trio.lowlevel.current_trio_token()
    threads = bridge._WorkerThreads(idle_timeout=0.05)
    monkeypatch.setattr(bridge, "_THREADS", threads)
    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(run_in_worker, token, lambda _: time.sleep(0.01), None)
    assert 1 <= threads.threads <= 4
    with trio.fail_after(5):
        while threads.threads:
            await trio.sleep(0.01)
    # and a new call after they ended starts a thread again
    assert await run_in_worker(token, lambda x: x + 1, 1) == 2


async def test_a_def_handler_returning_a_coroutine_is_awaited() -> None:
    from qgactor.bot.services import BotServices

    services = BotServices(bot=None, settings=None, registry=None, sessions=None,  # type: ignore[arg-type]
                           token=trio.lowlevel.current_trio_token())

    async def later(x: int) -> int:
        await trio.sleep(0)
        return x * 3

    assert await call_handler(services, lambda x: later(x), 5) == 15
