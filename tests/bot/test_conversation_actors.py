"""Conversation actors under the kernel's dynamic supervisor (MockClock): idle stop, routing."""

from __future__ import annotations

import pytest
import trio

from qgactor.bot import Bot, ConversationTimeout
from qgactor.bot.conversations import ConversationManager
from qgactor.bot.dispatch import DispatchCore
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.services import BotServices
from qgactor.runtime import DynamicSupervisor, open_actor_nursery


def c2c(user: str, text: str, mid: str) -> InboundEvent:
    return InboundEvent("C2C_MESSAGE_CREATE", {"id": mid, "content": text,
                                               "author": {"user_openid": user}})


async def setup(system):
    bot = Bot(appid="1", secret="s", session_store=":memory:")
    services = BotServices(bot=bot, settings=bot.settings, registry=bot.registry,
                           sessions=bot.sessions, token=trio.lowlevel.current_trio_token())
    sup = await system.spawn(DynamicSupervisor, name="conversations")
    services.conversations = ConversationManager(sup, idle_timeout=30)
    return services, sup, DispatchCore(services)


async def start_sweeper(nursery, services):
    await nursery.start(services.conversations.sweep)


async def test_idle_conversation_actors_stop_and_keys_stay_known(autojump_clock) -> None:
    async with open_actor_nursery(name="t") as system:
        services, sup, core = await setup(system)
        manager = services.conversations
        async with trio.open_nursery() as sweeper:
            await start_sweeper(sweeper, services)
            a = await manager.actor_for(("c2c", "U1", "U1"))
            assert await manager.actor_for(("c2c", "U1", "U1")) is a  # one actor per key
            await manager.actor_for(("c2c", "U2", "U2"))
            assert len(sup) == 2
            await trio.sleep(20)
            b = await manager.actor_for(("c2c", "U2", "U2"))  # activity keeps U2 alive
            await trio.sleep(20)
            assert len(sup) == 1 and not a.alive and b.alive
            await trio.sleep(60)
            assert len(sup) == 0 and manager.stopped_idle == 2
            sweeper.cancel_scope.cancel()
        assert set(manager.known) == {("c2c", "U1", "U1"), ("c2c", "U2", "U2")}
        assert await manager.offer(core.parse(c2c("U1", "hi", "m1"))) is False


async def test_wait_for_routes_only_this_users_messages_and_times_out(autojump_clock) -> None:
    async with open_actor_nursery(name="t") as system:
        services, sup, core = await setup(system)
        manager = services.conversations
        origin = core.parse(c2c("U1", "start", "m0"))
        got = []

        async def dialog():
            async with origin.conversation(timeout=60) as conv:
                got.append((await conv.wait_for()).text)
                with pytest.raises(ConversationTimeout, match="within 60 s"):
                    await conv.wait_for()
                got.append("timed out")

        async with trio.open_nursery() as n:
            await start_sweeper(n, services)  # idle stop (30 s) never takes a waiting actor
            n.start_soon(dialog)
            await trio.sleep(45)
            assert await manager.offer(core.parse(c2c("U2", "not yours", "m1"))) is False
            assert await manager.offer(core.parse(c2c("U1", "mine", "m2"))) is True
            await trio.sleep(200)
            n.cancel_scope.cancel()
        assert got == ["mine", "timed out"]
        await trio.sleep(1)  # (virtual time) the actor handles the withdrawal
        assert manager.waiting == {}
        assert manager.turns == 1


async def test_cancelled_handler_withdraws_its_waiter(autojump_clock) -> None:
    async with open_actor_nursery(name="t") as system:
        services, sup, core = await setup(system)
        manager = services.conversations
        origin = core.parse(c2c("U1", "start", "m0"))

        async def dialog():
            async with origin.conversation(timeout=60) as conv:
                await conv.wait_for()

        async with trio.open_nursery() as n:
            n.start_soon(dialog)
            await trio.sleep(1)
            assert manager.waiting
            n.cancel_scope.cancel()
        await trio.sleep(1)
        assert manager.waiting == {}
        assert await manager.offer(core.parse(c2c("U1", "later", "m3"))) is False


async def test_records_of_stopped_keys_are_forgotten_after_forget_after(autojump_clock) -> None:
    async with open_actor_nursery(name="t") as system:
        services, sup, core = await setup(system)
        manager = services.conversations
        manager.forget_after = 1000
        async with trio.open_nursery() as sweeper:
            await start_sweeper(sweeper, services)
            await manager.actor_for(("c2c", "OLD", "OLD"))
            await trio.sleep(600)
            await manager.actor_for(("c2c", "NEW", "NEW"))
            keep = await manager.actor_for(("c2c", "KEEP", "KEEP"))
            await trio.sleep(500)
            # OLD: stopped and quiet for 1100 s -> forgotten; NEW: stopped 500 s ago -> kept
            assert set(manager.known) == {("c2c", "NEW", "NEW"), ("c2c", "KEEP", "KEEP")}
            await trio.sleep(1500)
            assert manager.known == {} and manager.stats()["forgotten"] == 3
            # a forgotten key simply starts again
            again = await manager.actor_for(("c2c", "KEEP", "KEEP"))
            assert again.alive and not keep.alive and ("c2c", "KEEP", "KEEP") in manager.known
            sweeper.cancel_scope.cancel()


async def test_a_key_with_a_live_actor_is_never_forgotten(autojump_clock) -> None:
    async with open_actor_nursery(name="t") as system:
        services, sup, core = await setup(system)
        manager = services.conversations
        manager.forget_after = 100
        origin = core.parse(c2c("U1", "start", "m0"))

        async def dialog():
            async with origin.conversation(timeout=10_000) as conv:
                await conv.wait_for()

        async with trio.open_nursery() as n:
            await start_sweeper(n, services)
            n.start_soon(dialog)
            await trio.sleep(1000)  # waiting: its actor stays, so does its record
            assert ("c2c", "U1", "U1") in manager.known and manager.forgotten == 0
            assert await manager.offer(core.parse(c2c("U1", "late answer", "m1"))) is True
            n.cancel_scope.cancel()


async def test_wait_timeouts_of_different_lengths_fire_on_time_from_one_timer(autojump_clock) -> None:
    """A short wait registered after a long one still times out first (the timer's deadline
    moves earlier); an answered wait does not time out later; every wait ends exactly on time."""
    async with open_actor_nursery(name="t") as system:
        services, sup, core = await setup(system)
        manager = services.conversations
        ended: dict[str, float] = {}
        t0 = trio.current_time()

        async def dialog(user: str, timeout: float) -> None:
            origin = core.parse(c2c(user, "start", f"s-{user}"))
            async with origin.conversation(timeout=timeout) as conv:
                try:
                    got = await conv.wait_for()
                    ended[user] = -(trio.current_time() - t0)  # negative: answered at
                    assert got.text == f"answer {user}"
                    await conv.wait_for(timeout=7)  # a second turn times out after 7 s more
                except ConversationTimeout:
                    ended[user + "-timeout"] = trio.current_time() - t0

        async with trio.open_nursery() as n:
            await start_sweeper(n, services)
            n.start_soon(dialog, "long", 100.0)
            await trio.sleep(1)
            n.start_soon(dialog, "short", 5.0)
            n.start_soon(dialog, "answered", 50.0)
            await trio.sleep(2)
            assert await manager.offer(core.parse(c2c("answered", "answer answered", "a1"))) is True
            await trio.sleep(200)
            n.cancel_scope.cancel()
        assert ended == {"short-timeout": pytest.approx(6.0), "answered": pytest.approx(-3.0),
                         "answered-timeout": pytest.approx(10.0), "long-timeout": pytest.approx(100.0)}
        assert manager._timeouts == {}  # nothing left behind
