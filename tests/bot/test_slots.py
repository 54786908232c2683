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
