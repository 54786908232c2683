"""Handler context pieces without the network: async detection, scope ids, reply addresses."""

from __future__ import annotations

import functools

import pytest
import trio

from qgactor.bot import Bot, MessageContext, NoReplyTarget, Scope, SessionError
from qgactor.bot.dispatch import DispatchCore, is_async_callable
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.replying import target_from_address
from qgactor.bot.services import BotServices
from qgactor.bot.session_helpers import scope_id_for


async def coro(x):
    return x


def plain(x):
    return x


class AsyncCallable:
    async def __call__(self, x):
        return x


def test_is_async_callable() -> None:
    assert is_async_callable(coro)
    assert is_async_callable(functools.partial(coro))
    assert is_async_callable(AsyncCallable())
    assert not is_async_callable(plain)
    assert not is_async_callable(functools.partial(plain))
    assert not is_async_callable(lambda x: x)


def services() -> BotServices:
    bot = Bot(appid="1", secret="s", session_store=":memory:")
    return BotServices(bot=bot, settings=bot.settings, registry=bot.registry, sessions=bot.sessions)


GUILD = InboundEvent("AT_MESSAGE_CREATE", {
    "id": "m1", "channel_id": "c1", "guild_id": "g1", "content": "<@!99> hi",
    "author": {"id": "u1"}, "member": {"roles": ["1"]}, "brand_new_field": 7})
GROUP = InboundEvent("GROUP_AT_MESSAGE_CREATE", {
    "id": "m2", "group_openid": "G1", "content": " hi",
    "author": {"member_openid": "M1", "member_role": "admin"}})
MEMBER = InboundEvent("GUILD_MEMBER_ADD", {"guild_id": "g1", "user": {"id": "u7"}, "op_user_id": "u7"},
                      event_id="GUILD_MEMBER_ADD:1")


def test_scope_ids_and_fields_per_scene() -> None:
    core = DispatchCore(services())
    core.services.bot_id = "99"
    g = core.parse(GUILD)
    assert isinstance(g, MessageContext) and g.text == "hi" and g.at_bot and not g.is_admin
    assert g.raw["brand_new_field"] == 7 and g.event.raw["brand_new_field"] == 7
    assert [scope_id_for(g, s) for s in (Scope.USER, Scope.GUILD, Scope.CHANNEL, Scope.GLOBAL)] == \
        ["u1", "g1", "c1", ""]
    with pytest.raises(SessionError, match="GROUP scope"):
        scope_id_for(g, Scope.GROUP)
    grp = core.parse(GROUP)
    assert grp.is_admin and grp.user_id == "M1"
    assert scope_id_for(grp, Scope.GROUP) == "G1" and scope_id_for(grp, Scope.CHANNEL) == "G1"
    with pytest.raises(SessionError):
        scope_id_for(grp, Scope.GUILD)
    m = core.parse(MEMBER)
    assert not isinstance(m, MessageContext) and m.user_id == "u7" and m.guild_id == "g1"


def test_bad_event_is_counted_not_raised() -> None:
    core = DispatchCore(services())
    assert core.parse(InboundEvent("AT_MESSAGE_CREATE", ["not", "an", "object"])) is None
    assert core.stats.bad_events == 1


async def test_reply_without_target_and_address_round_trip() -> None:
    core = DispatchCore(services())
    m = core.parse(MEMBER)
    with pytest.raises(NoReplyTarget):
        await m.reply("hello")
    g = core.parse(GROUP)
    g.reply_target.next_seq()
    g.reply_target.next_seq()
    addr = g.reply_address()
    assert addr == {"scene": "group", "target_id": "G1", "msg_id": "m2", "event_id": None, "seq": 2}
    rebuilt = target_from_address(addr)
    assert rebuilt.next_seq() == 3  # resumes after the recorded msg_seq
    live = core.services.live_targets[("group", "G1", "m2", None)]
    assert target_from_address(addr, live) is g.reply_target
    with pytest.raises(ValueError, match="malformed"):
        target_from_address({"scene": "moon"})


async def test_blocking_helpers_from_a_worker_thread() -> None:
    svc = services()
    svc.token = trio.lowlevel.current_trio_token()
    core = DispatchCore(svc)
    g = core.parse(GUILD)

    def in_thread():
        handle = g.session("k")
        handle.update(n=1)
        return g.sessions.get("k").data, g.session("k").get("n")

    data, n = await trio.to_thread.run_sync(in_thread)
    assert data == {"n": 1} and n == 1


def test_explicit_intents_and_redacted_bot() -> None:
    from qgactor.qq import Intents

    bot = Bot(appid="1", secret="topsecret", session_store=":memory:", intents=513)
    bot.on_group_message()(lambda m: None)
    assert bot.intents == Intents.GUILDS | Intents.GUILD_MESSAGES  # explicit wins
    auto = Bot(appid="1", secret="topsecret", session_store=":memory:")
    assert auto.intents == Intents.PUBLIC_GUILD_MESSAGES  # nothing registered yet
    auto.on_group_message()(lambda m: None)
    assert auto.intents == Intents.GROUP_AND_C2C_EVENT
    assert "topsecret" not in repr(bot) + repr(bot.settings)


async def test_job_context_sessions_from_a_worker_thread() -> None:
    from qgactor.bot import JobContext
    from qgactor.bot.registry import Job

    svc = services()
    svc.token = trio.lowlevel.current_trio_token()
    ctx = JobContext(Job(fn=plain, kind="start", name="j"), svc)

    def in_thread():
        ctx.sessions.new(Scope.GLOBAL, "", "cfg", {"a": 1})
        return ctx.sessions.get(Scope.GLOBAL, "", "cfg").data

    assert await trio.to_thread.run_sync(in_thread) == {"a": 1}
    assert ctx.sessions.get(Scope.GLOBAL, "", "cfg").data == {"a": 1}  # and from the trio thread


def test_store_follows_settings_changed_before_start(tmp_path) -> None:
    import attrs

    from qgactor.bot import MemorySessionStore, SqliteSessionStore

    bot = Bot(appid="1", secret="s", session_store=":memory:")
    assert isinstance(bot.sessions.store, MemorySessionStore)
    bot.settings = attrs.evolve(bot.settings, session_store=str(tmp_path / "x.sqlite3"))
    bot._sync_store()
    assert isinstance(bot.sessions.store, SqliteSessionStore)
    assert bot.sessions.store.path == str(tmp_path / "x.sqlite3")
    mine = MemorySessionStore()
    given = Bot(appid="1", secret="s", store=mine)
    given.settings = attrs.evolve(given.settings, session_store=str(tmp_path / "y.sqlite3"))
    given._sync_store()
    assert given.sessions.store is mine  # a store passed explicitly is never replaced


async def test_one_message_delivered_as_two_events_is_handled_once(caplog) -> None:
    svc = services()
    svc.token = trio.lowlevel.current_trio_token()
    core = DispatchCore(svc)
    seen = []

    async def handler(msg):
        seen.append(msg.name)

    async def broken_pre(msg):
        raise ValueError("preprocessor bug")

    svc.registry.add_handler(handler, "guild_message", events=["AT_MESSAGE_CREATE", "MESSAGE_CREATE"])
    svc.registry.add_preprocessor(broken_pre)
    data = dict(GUILD.data)
    await core.process(InboundEvent("AT_MESSAGE_CREATE", data))
    await core.process(InboundEvent("MESSAGE_CREATE", data))
    assert seen == ["AT_MESSAGE_CREATE"] and core.stats.duplicates == 1
    # a failing preprocessor is logged with its traceback and does not stop the message
    assert "preprocessor bug" in caplog.text and core.stats.handler_errors == 1
