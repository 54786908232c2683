"""The component registry: owners, removal, enabling, intents, listeners, thread safety."""

from __future__ import annotations

import threading

import pytest

from qgactor.bot.commands import Command
from qgactor.bot.registry import ComponentNotFound, ComponentRegistry, Job
from qgactor.bot.scenes import Scene
from qgactor.qq.protocol import Intents


def f(ctx):
    return None


def test_remove_components_by_owner() -> None:
    r = ComponentRegistry()
    r.add_command(Command.create(f, "a", owner="p1"))
    r.add_command(Command.create(f, "b", owner="p2"))
    r.add_handler(f, "guild_member", owner="p1")
    r.add_preprocessor(f, owner="p1")
    r.add_job(Job(fn=f, kind="interval", interval=5, owner="p1"))
    assert len(r.owned_by("p1")) == 4
    assert r.remove_components("p1") == 4
    assert [c.name for c in r.commands] == ["b"]
    assert r.handlers == () and r.preprocessors == () and r.jobs == ()
    assert r.remove_components("p1") == 0


def test_handlers_for_event_and_families() -> None:
    r = ComponentRegistry()
    h1 = r.add_handler(f, "guild_message")
    h2 = r.add_handler(f, "guild_message", events=["AT_MESSAGE_CREATE", "MESSAGE_CREATE"])
    h3 = r.add_handler(f, "event", events=["READY"])
    assert r.handlers_for("AT_MESSAGE_CREATE") == (h1, h2)
    assert r.handlers_for("MESSAGE_CREATE") == (h2,)
    assert r.handlers_for("READY") == (h3,)
    assert h1.is_message_handler and not h3.is_message_handler
    with pytest.raises(ValueError, match="do not belong"):
        r.add_handler(f, "guild_message", events=["GUILD_CREATE"])
    with pytest.raises(ValueError, match="unknown event family"):
        r.add_handler(f, "nope")


def test_intents_follow_components() -> None:
    r = ComponentRegistry()
    assert r.intents() == Intents.NONE
    r.add_command(Command.create(f, "x", scenes=["group", "c2c"]))
    assert r.intents() == Intents.GROUP_AND_C2C_EVENT
    r.add_handler(f, "guild_member")
    r.add_handler(f, "guild_message", events=["MESSAGE_CREATE"])
    assert r.intents() == Intents.GROUP_AND_C2C_EVENT | Intents.GUILD_MEMBERS | Intents.GUILD_MESSAGES
    r.add_command(Command.create(f, "y", scenes=[Scene.GUILD]))
    assert Intents.PUBLIC_GUILD_MESSAGES in r.intents()


def test_enable_disable_and_remove() -> None:
    r = ComponentRegistry()
    c = r.add_command(Command.create(f, "x"))
    assert r.set_enabled("x", False) == 1 and not c.enabled
    r.set_enabled("x", True)
    assert c.enabled
    with pytest.raises(ComponentNotFound):
        r.set_enabled("missing", False)
    r.remove(c)
    with pytest.raises(ComponentNotFound):
        r.remove(c)
    r.add_command(Command.create(f, "z"))
    assert r.remove_command("z") == 1 and r.commands == ()


def test_listeners_and_version() -> None:
    r = ComponentRegistry()
    calls = []
    r.add_listener(lambda: calls.append(r.version))
    r.add_command(Command.create(f, "x"))
    r.remove_command("x")
    assert calls == [1, 2]


def test_concurrent_registration_from_threads() -> None:
    r = ComponentRegistry()

    def add(i: int) -> None:
        for j in range(200):
            r.add_command(Command.create(f, f"c{i}-{j}", owner=f"o{i}"))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(r.commands) == 800
    assert r.remove_components("o2") == 200
    assert len(r.commands) == 600
    d = r.describe()
    assert len(d["commands"]) == 600
