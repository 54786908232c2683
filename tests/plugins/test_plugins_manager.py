"""PluginManager on a real actor system: load order, dependency failures, enable/disable
persistence, reload with rollback, crash-loop isolation, the reload gate, tools and cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from qgactor.plugins import PluginManager

from plugins_helpers import command_handler, running_manager, wait_until, write_plugin

RECORDING = '''
from qgactor.plugins import Manifest, Plugin, command
__plugin__ = Manifest(version="{version}", dependencies={deps!r}, requirements={reqs!r})

class P(Plugin):
    async def on_load(self):
        self.bot.log.append(("load", "{name}"))
    async def on_unload(self):
        self.bot.log.append(("unload", "{name}"))
    @command("{name}")
    async def cmd(self, msg):
        return "{name}:{tag}:" + msg
'''


def rec(plugins_dir: Path, name: str, *, deps: dict | None = None, reqs: list | None = None,
        version: str = "1.0", tag: str = "v1") -> Path:
    return write_plugin(plugins_dir, name, RECORDING.format(
        name=name, deps=deps or {}, reqs=reqs or [], version=version, tag=tag))


def states(m: PluginManager) -> dict[str, str]:
    return {i.name: i.state for i in m.list()}


async def test_load_order_and_dependency_failures(plugins_dir: Path) -> None:
    rec(plugins_dir, "c", deps={"b": ""})
    rec(plugins_dir, "b", deps={"a": ">=1.0"})
    rec(plugins_dir, "a", version="1.2")
    rec(plugins_dir, "x", deps={"y": ""})
    rec(plugins_dir, "y", deps={"x": ""})
    rec(plugins_dir, "needs", reqs=["definitely-not-installed-pkg>=1"], deps={"a": ">=2"})
    write_plugin(plugins_dir, "broken", "raise RuntimeError('broken at import')\n")
    rec(plugins_dir, "onbroken", deps={"broken": ""})
    async with running_manager(plugins_dir) as m:
        loads = [n for kind, n in m.bot.log if kind == "load"]
        assert loads == ["a", "b", "c"]
        st = states(m)
        assert st == {"a": "loaded", "b": "loaded", "c": "loaded", "x": "skipped",
                      "y": "skipped", "needs": "skipped", "broken": "failed",
                      "onbroken": "skipped"}
        info = {i.name: i for i in m.list()}
        assert "x -> y -> x" in info["x"].reason
        assert "pip install 'definitely-not-installed-pkg>=1'" in info["needs"].reason
        assert "needs plugin 'a' >=2 but 1.2 is present" in info["needs"].reason
        assert "broken at import" in info["broken"].reason
        assert "'broken'" in info["onbroken"].reason
        assert await command_handler(m, "c")("hi") == "c:v1:hi"
        assert {c.owner for c in m.registry.commands} == {"a", "b", "c"}
    # shutdown unloads dependents first
    unloads = [n for kind, n in m.bot.log if kind == "unload"]
    assert unloads == ["c", "b", "a"]


async def test_enable_disable_persist_across_restarts(plugins_dir: Path) -> None:
    rec(plugins_dir, "a")
    rec(plugins_dir, "b", deps={"a": ""})
    rec(plugins_dir, "solo")
    async with running_manager(plugins_dir) as m:
        info = await m.disable("a")
        assert info.state == "disabled"
        assert states(m) == {"a": "disabled", "b": "skipped", "solo": "loaded"}
        assert {c.owner for c in m.registry.commands} == {"solo"}
        assert [n for k, n in m.bot.log if k == "unload"] == ["b", "a"]
    # a new manager (a bot restart) sees the persisted state
    async with running_manager(plugins_dir) as m2:
        assert states(m2) == {"a": "disabled", "b": "skipped", "solo": "loaded"}
        await m2.enable("a")
        assert states(m2) == {"a": "loaded", "b": "loaded", "solo": "loaded"}
        assert await command_handler(m2, "b")("x") == "b:v1:x"
    async with running_manager(plugins_dir) as m3:
        assert states(m3) == {"a": "loaded", "b": "loaded", "solo": "loaded"}


async def test_reload_new_code_dependents_and_rollback(plugins_dir: Path) -> None:
    rec(plugins_dir, "a")
    rec(plugins_dir, "b", deps={"a": ""})
    async with running_manager(plugins_dir) as m:
        rec(plugins_dir, "a", tag="v2")
        result = await m.reload("a")
        assert result.ok and result.reloaded == ("a", "b"), result
        assert await command_handler(m, "a")("q") == "a:v2:q"
        m.bot.log.clear()
        # broken import: old version keeps serving, nothing was unloaded
        write_plugin(plugins_dir, "a", "from qgactor.plugins import Plugin\n1/0\n")
        result = await m.reload("a")
        assert not result.ok and "ZeroDivisionError" in result.error
        assert m.bot.log == []
        assert await command_handler(m, "a")("q") == "a:v2:q"
        assert states(m)["a"] == "loaded"
        # on_load failure: the old version is restored (a fresh instance) and answers
        write_plugin(plugins_dir, "a", '''
            from qgactor.plugins import Plugin, command
            class P(Plugin):
                async def on_load(self):
                    raise ValueError("bad config value")
                @command("a")
                async def cmd(self, msg):
                    return "a:v3:" + msg
            ''')
        result = await m.reload("a")
        assert not result.ok and "bad config value" in result.error
        assert await command_handler(m, "a")("q") == "a:v2:q"
        assert states(m) == {"a": "loaded", "b": "loaded"}
        assert m.info("a").reloads == 1


CRASHY = '''
from qgactor.plugins import Plugin, command
class Crashy(Plugin):
    @command("boom")
    async def boom(self, msg):
        raise RuntimeError("kaboom " + msg)
'''


async def test_crash_loop_disables_only_that_plugin(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "crashy", CRASHY)
    rec(plugins_dir, "steady")
    async with running_manager(plugins_dir, max_restarts=2, within=60) as m:
        boom = command_handler(m, "boom")
        steady = command_handler(m, "steady")
        for i in range(10):
            if states(m)["crashy"] == "crashed":
                break
            assert await boom(str(i)) is None
            assert await steady(str(i)) == f"steady:v1:{i}"
        await wait_until(lambda: states(m)["crashy"] == "crashed")
        assert i >= 3  # it took more than max_restarts crashes
        assert "kaboom" in m.info("crashy").reason
        assert [c.owner for c in m.registry.commands] == ["steady"]
        assert await boom("late") is None  # a stale gate reference drops, does not hang
        assert await steady("after") == "steady:v1:after"
        # fixed code: reload brings it back
        write_plugin(plugins_dir, "crashy", CRASHY.replace('raise RuntimeError("kaboom " + msg)',
                                                           'return "fixed " + msg'))
        result = await m.reload("crashy")
        assert result.ok, result
        assert await command_handler(m, "boom")("x") == "fixed x"


SLOW_UNLOAD = '''
import pytest
import trio
from qgactor.plugins import Plugin, command
class Slow(Plugin):
    async def on_unload(self):
        self.bot.log.append("unloading")
        await trio.sleep(0.2)
    @command("slow")
    async def slow(self, msg):
        return "{tag}:" + msg
'''


async def test_calls_during_reload_wait_and_reach_new_version(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "slow", SLOW_UNLOAD.format(tag="old"))
    async with running_manager(plugins_dir) as m:
        gate = command_handler(m, "slow")
        results: list[str] = []
        write_plugin(plugins_dir, "slow", SLOW_UNLOAD.format(tag="new"))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(m.reload, "slow")
            await wait_until(lambda: "unloading" in m.bot.log)

            async def call(i: int) -> None:
                results.append(await gate(str(i)))

            for i in range(5):
                nursery.start_soon(call, i)
        assert sorted(results) == [f"new:{i}" for i in range(5)]
        assert m.slots["slow"].stats_waited >= 5


TOOLS = '''
from qgactor.plugins import Plugin, tool
class Weather(Plugin):
    calls = 0
    @tool("lookup", bucket=1800)
    async def lookup(self, city):
        type(self).calls += 1
        self.bot.log.append(city)
        return f"{city}: sunny #{len(self.bot.log)}"
'''


async def test_tool_cache_bucket_and_cleared_on_reload(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "weather", TOOLS)
    async with running_manager(plugins_dir) as m:
        first = await m.call_tool("weather.lookup", city="Shenzhen")
        assert await m.call_tool("weather.lookup", city="Shenzhen") == first
        await m.call_tool("weather.lookup", city="Beijing")
        assert m.bot.log == ["Shenzhen", "Beijing"]
        assert (await m.reload("weather")).ok
        assert await m.call_tool("weather.lookup", city="Shenzhen") != first
        assert m.bot.log == ["Shenzhen", "Beijing", "Shenzhen"]


async def test_every_component_kind_registered_and_removed_together(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "kinds", '''
        from qgactor.plugins import Plugin, command, on_event, schedule, tool
        class Kinds(Plugin):
            @command("k", regex=r"^kk+$", description="the k command")
            async def k(self, msg):
                return "cmd"
            @on_event("GUILD_MEMBER_ADD")
            async def joined(self, ev):
                return "joined"
            @on_event(family="group_message")
            def group(self, msg):          # plain def: runs in a worker thread
                return "group"
            @schedule(interval=30)
            async def tick(self, job):
                return "tick"
            @schedule(cron="0 9 * * *")
            async def morning(self, job):
                return "morning"
            @tool()
            async def add(self, a, b):
                return a + b
            @tool()
            async def fails(self):
                raise ValueError("tool bug")
        ''')
    async with running_manager(plugins_dir) as m:
        reg = m.registry
        assert [c.name for c in reg.commands] == ["k"]
        assert reg.commands[0].match("kkk") is not None
        assert {h.name for h in reg.handlers} == {"kinds.joined", "kinds.group"}
        assert {j.name: j.kind for j in reg.jobs} == {"kinds.tick": "interval",
                                                        "kinds.morning": "cron"}
        handler = next(h for h in reg.handlers if h.name == "kinds.group")
        assert await handler.fn(None) == "group"
        job = next(j for j in reg.jobs if j.name == "kinds.tick")
        assert await job.fn(None) == "tick"
        assert await m.call_tool("kinds.add", a=2, b=3) == 5
        from qgactor.plugins import HandlerFailed
        with pytest.raises(HandlerFailed, match="tool bug"):
            await m.call_tool("kinds.fails")
        with pytest.raises(LookupError, match="kinds.add"):
            await m.call_tool("kinds.nope")
        info = m.info("kinds")
        assert [(c.name, c.words, c.patterns, c.description) for c in info.commands] == [
            ("k", ("k",), ("^kk+$",), "the k command")]
        await m.disable("kinds")
        assert reg.owned_by("kinds") == [] and m.tools == {}


async def test_bad_plugin_definitions_fail_with_clear_reasons(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "two", '''
        from qgactor.plugins import Plugin
        class A(Plugin): pass
        class B(Plugin): pass
        ''')
    write_plugin(plugins_dir, "none", "X = 1\n")
    write_plugin(plugins_dir, "badcfg", '''
        from qgactor.plugins import Plugin
        class P(Plugin):
            class Config:       # not an attrs class
                x = 1
        ''')
    write_plugin(plugins_dir, "badregex", '''
        from qgactor.plugins import Plugin, command
        class P(Plugin):
            @command(regex="(unclosed")
            async def c(self, msg): ...
        ''')
    async with running_manager(plugins_dir) as m:
        info = {i.name: i for i in m.list()}
        assert all(i.state == "failed" for i in info.values()), info
        assert "exactly one Plugin subclass" in info["two"].reason and "A, B" in info["two"].reason
        assert "found none" in info["none"].reason
        assert "attrs class" in info["badcfg"].reason
        assert "invalid command regex" in info["badregex"].reason
        assert m.registry.commands == ()


async def test_host_restart_in_the_same_process_reactivates(plugins_dir: Path) -> None:
    rec(plugins_dir, "a")
    rec(plugins_dir, "b", deps={"a": ""})
    async with running_manager(plugins_dir) as m:
        system = m.life.host.ctx.system  # type: ignore[union-attr]
        await system.stop(system.lookup("plugins"))
        assert [n for k, n in m.bot.log if k == "unload"] == ["b", "a"]
        assert states(m) == {"a": "unloaded", "b": "unloaded"}
        assert await command_handler(m, "a")("x") is None  # registered, dropped while stopped
        await system.spawn(m.service_spec())
        assert states(m) == {"a": "loaded", "b": "loaded"}
        assert await command_handler(m, "b")("x") == "b:v1:x"
    m_commands = m.registry.commands
    assert m_commands == ()  # close() removed the registrations
