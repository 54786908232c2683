"""Handler slots: stepping out while waiting, taking one again, cancellation never over-releases."""

from __future__ import annotations

import trio

from qgactor.bot.slots import HandlerSlot, current_slot, step_out


async def test_waiting_outside_the_slot_frees_it_and_takes_one_again(autojump_clock) -> None:
    sem = trio.Semaphore(1)
    order: list[str] = []
    answer = trio.Event()

    async def waiter() -> None:
        slot = HandlerSlot(sem)
        await slot.acquire()
        current_slot.set(slot)
        assert step_out() is slot and not slot.held
        order.append("waiting")
        await answer.wait()
        await slot.acquire()
        order.append("running again")
        assert slot.held
        slot.release()

    async def other() -> None:
        slot = HandlerSlot(sem)
        await slot.acquire()  # only possible because the waiter stepped out
        order.append("other ran")
        answer.set()
        await trio.sleep(1)
        slot.release()

    async with trio.open_nursery() as n:
        n.start_soon(waiter)
        await trio.sleep(1)
        n.start_soon(other)
    assert order == ["waiting", "other ran", "running again"]
    assert sem.value == 1


async def test_cancelled_while_taking_the_slot_again_holds_nothing(autojump_clock) -> None:
    sem = trio.Semaphore(1)
    slot = HandlerSlot(sem)
    blocker = HandlerSlot(sem)

    async def waiter() -> None:
        await slot.acquire()
        current_slot.set(slot)
        try:
            assert step_out() is slot
            await blocker.acquire()  # someone else takes the freed slot meanwhile
            await trio.sleep(5)
            await slot.acquire()
        finally:
            slot.release()  # what the dispatcher does at the end: must not over-release

    with trio.move_on_after(10):
        await waiter()
    assert not slot.held and blocker.held and sem.value == 0
    blocker.release()
    slot.release()  # twice is harmless
    assert sem.value == 1


async def test_outside_a_dispatcher_task_there_is_nothing_to_step_out_of() -> None:
    assert step_out() is None and current_slot.get() is None


async def test_thread_limiter_waits_outside_the_slot_and_never_leaks_a_token(autojump_clock) -> None:
    from qgactor.bot.slots import ThreadsOutsideSlot

    sem = trio.Semaphore(1)
    threads = trio.CapacityLimiter(1)
    busy = object()
    threads.acquire_on_behalf_of_nowait(busy)  # the only thread is taken
    slot = HandlerSlot(sem)
    other = HandlerSlot(sem)
    borrower = object()

    async def handler() -> None:
        await slot.acquire()
        current_slot.set(slot)
        await ThreadsOutsideSlot(threads).acquire_on_behalf_of(borrower)

    with trio.move_on_after(10):
        async with trio.open_nursery() as n:
            n.start_soon(handler)
            await trio.sleep(1)
            assert not slot.held and sem.value == 1  # waiting for a thread outside the slot
            await other.acquire()                    # someone else runs meanwhile
            threads.release_on_behalf_of(busy)       # the thread frees up: token taken, slot busy
            await trio.sleep(1)
            assert borrower in threads.statistics().borrowers
    # cancelled while taking the slot back: the thread token was given back, no slot held
    assert threads.borrowed_tokens == 0 and not slot.held and other.held
