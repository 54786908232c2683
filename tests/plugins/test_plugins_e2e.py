"""Acceptance against the emulator with a real Bot: the example plugins, hot reload of code while
messages stream in (nothing lost, nothing doubled, same gateway session), and a crash-looping
plugin disabled while another keeps answering."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trio

from qgactor.bot import Bot
from qgactor.emulator import open_emulator
from qgactor.plugins import BusEvent, PluginManager

from plugins_helpers import wait_until, write_plugin

REPO_PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@contextlib.asynccontextmanager
async def bot_with_plugins(plugins_dir: Path, *, emu_options: dict[str, Any] | None = None,
                           **kw: Any) -> AsyncIterator[tuple[Any, Bot, PluginManager]]:
    async with open_emulator(heartbeat_interval_ms=1000, **(emu_options or {})) as emu:
        bot = Bot(appid=emu.appid, secret=emu.secret, environment="custom", api_url=emu.api_url,
                  token_url=emu.token_url, session_store=":memory:")
        manager = PluginManager(bot, plugins_dir, namespace=f"qgp_{uuid.uuid4().hex[:10]}", **kw)
        manager.attach()
        try:
            async with bot.running():
                await emu.control.wait_for_sessions(1, timeout=10)
                with trio.fail_after(5):
                    await manager.watcher_ready.wait()
                yield emu, bot, manager
        finally:
            manager.close()


async def ask(emu: Any, text: str, **kw: Any) -> str:
    sent = await emu.control.send_message("guild", text, **kw)
    reply = await emu.control.wait_for_reply(sent["message_id"], timeout=5)
    return reply["content"]


async def test_example_plugins(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    shutil.copytree(REPO_PLUGINS, plugins_dir,
                    ignore=shutil.ignore_patterns("*.toml", "__pycache__", ".*"))
    shutil.copy(REPO_PLUGINS / "guess" / "manifest.toml", plugins_dir / "guess")
    async with bot_with_plugins(plugins_dir) as (emu, bot, m):
        assert {i.name: i.state for i in m.list()} == {
            "guess": "loaded", "hello": "loaded", "help": "loaded", "scores": "loaded",
            "weather": "loaded"}
        # the config file was generated with the docstrings as comments
        cfg = (plugins_dir / "weather.toml").read_text()
        assert "# Default city when none is given." in cfg and 'city = "Shenzhen"' in cfg

        text = await ask(emu, "/help")
        for word in ("/help", "/guess", "/scores", "/weather", "/hello", "/echo", "[weather 1.0.0]"):
            assert word in text, text
        assert (await ask(emu, "/echo a b")) == "a b"        # a plain def handler in a plugin
        assert "Type /help" in await ask(emu, "what is this")  # the fallback after commands

        lookups: list[BusEvent] = []

        async def seen(ev: BusEvent) -> None:
            lookups.append(ev)

        m.bus.subscribe("weather.looked_up", seen, name="test", observer=True)
        first = await ask(emu, "/weather Beijing")
        assert first.startswith("Beijing: ")
        assert await ask(emu, "/weather Beijing") == first  # cached: same bucket
        assert await ask(emu, "/weather") != ""              # default city from config
        await wait_until(lambda: len(lookups) == 2)
        assert [e.city for e in lookups] == ["Beijing", "Shenzhen"]

        # editing the plugin's config reloads that plugin only
        reloads = {i.name: i.reloads for i in m.list()}
        (plugins_dir / "weather.toml").write_text(cfg.replace('"Shenzhen"', '"Hangzhou"'))
        await wait_until(lambda: m.info("weather").reloads == reloads["weather"] + 1)
        assert (await ask(emu, "/weather")).startswith("Hangzhou: ")
        assert {i.name: i.reloads for i in m.list() if i.name != "weather"} == {
            k: v for k, v in reloads.items() if k != "weather"}

        # the guessing game in a conversation: binary search always wins within 7 tries
        low, high = 1, 100
        sent = await emu.control.send_message("guild", "/guess")
        prompt = (await emu.control.wait_for_reply(sent["message_id"]))["content"]
        assert "Your guess?" in prompt
        for _ in range(7):
            mid = (low + high) // 2
            sent = await emu.control.send_message("guild", str(mid))
            answer = (await emu.control.wait_for_reply(sent["message_id"]))["content"]
            if answer.startswith("Correct"):
                break
            if answer.startswith("Higher"):
                low = mid + 1
            else:
                assert answer.startswith("Lower"), answer
                high = mid - 1
        assert answer.startswith("Correct"), answer
        board = await ask(emu, "/scores")
        assert "1 win(s)" in board, board


COUNTER = '''
import trio
from qgactor.plugins import Plugin, command
class Counter(Plugin):
    async def on_unload(self):
        await trio.sleep(0.15)  # a slow unload: messages arrive while the plugin reloads

    @command("n")
    async def n(self, msg):
        await msg.reply("{tag}:" + msg.rest)
'''


async def test_hot_reload_while_streaming(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    write_plugin(plugins_dir, "counter", COUNTER.format(tag="v1"))
    async with bot_with_plugins(plugins_dir) as (emu, bot, m):
        session_before = [s["session_id"] for s in await emu.control.wait_for_sessions(1)]
        total = 60
        sent_ids: list[str] = []

        async def stream() -> None:
            for i in range(total):
                # group scene: guild channels have a 5 msg/s write limit (client and platform)
                sent = await emu.control.send_message("group", f"/n {i}")
                sent_ids.append(sent["message_id"])
                await trio.sleep(0.01)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(stream)
            await wait_until(lambda: len(sent_ids) >= 15)
            write_plugin(plugins_dir, "counter", COUNTER.format(tag="v2"))
            await wait_until(lambda: m.info("counter").reloads == 1)
            await wait_until(lambda: len(sent_ids) >= 35)
            write_plugin(plugins_dir, "counter", COUNTER.format(tag="v3"))
            await wait_until(lambda: m.info("counter").reloads == 2)
        for mid in sent_ids[-3:]:
            await emu.control.wait_for_reply(mid, timeout=5)
        with trio.fail_after(5):
            while True:
                replies = await emu.control.outbox(contains=":")
                if len(replies) >= total:
                    break
                await trio.sleep(0.05)
        by_msg: dict[str, list[str]] = {}
        for r in replies:
            by_msg.setdefault(r["msg_id"], []).append(r["content"])
        assert set(by_msg) == set(sent_ids)                       # nothing lost
        assert all(len(v) == 1 for v in by_msg.values())          # nothing doubled
        contents = [by_msg[mid][0] for mid in sent_ids]
        assert [c.split(":")[1] for c in contents] == [str(i) for i in range(total)]
        tags = [c.split(":")[0] for c in contents]
        assert tags[0] == "v1" and tags[-1] == "v3" and "v2" in tags
        assert tags == sorted(tags)                               # versions never go back
        assert m.slots["counter"].stats_waited >= 1             # some did wait for a reload
        assert m.slots["counter"].stats_dropped == 0
        session_after = [s["session_id"] for s in (await emu.control.sessions())["sessions"]]
        assert session_after == session_before                    # gateway untouched


async def test_crash_loop_disabled_other_plugin_keeps_answering(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    write_plugin(plugins_dir, "crashy", '''
        from qgactor.plugins import Plugin, command
        class Crashy(Plugin):
            @command("boom")
            async def boom(self, msg):
                raise RuntimeError("boom on purpose")
        ''')
    write_plugin(plugins_dir, "ping", '''
        from qgactor.plugins import Plugin, command
        class Ping(Plugin):
            @command("ping")
            async def ping(self, msg):
                await msg.reply("pong " + msg.rest)
            @command("syncping")
            def syncping(self, msg):
                """A plain def handler: runs in a worker thread, msg.reply blocks."""
                msg.reply("sync pong " + msg.rest)
        ''')
    # plugins that cannot load do not stop the bot
    write_plugin(plugins_dir, "needy", '''
        from qgactor.plugins import Manifest, Plugin
        __plugin__ = Manifest(requirements=["no-such-package-qgactor>=1"],
                              dependencies={"ghost": ">=1"})
        class Needy(Plugin):
            pass
        ''')
    write_plugin(plugins_dir, "broken", "import no_such_module_qgactor\n")
    async with bot_with_plugins(plugins_dir, max_restarts=2, within=60) as (emu, bot, m):
        needy = m.info("needy")
        assert needy.state == "skipped"
        assert "pip install 'no-such-package-qgactor>=1'" in needy.reason
        assert "'ghost'" in needy.reason
        assert m.info("broken").state == "failed"
        assert "no_such_module_qgactor" in m.info("broken").reason
        # two handler failures inside one incarnation count as one crash, so keep poking
        # until the restart intensity is exceeded (bounded), checking /ping all along
        for i in range(10):
            if m.info("crashy").state == "crashed":
                break
            await emu.control.send_message("guild", f"/boom {i}")
            assert await ask(emu, f"/ping {i}") == f"pong {i}"
        await wait_until(lambda: m.info("crashy").state == "crashed")
        assert m.slots["crashy"].supervisor is None
        assert "boom on purpose" in m.info("crashy").reason
        assert await ask(emu, "/ping after") == "pong after"
        assert await ask(emu, "/syncping x") == "sync pong x"
        assert bot.snapshot() is not None
        names = _names(bot.snapshot())
        assert "plugin:ping" in names and "plugin:crashy" not in names
        assert "dispatcher" in names and "gateway" in names


def _names(snap: Any) -> set[str]:
    out = {snap.name}
    for child in snap.children:
        out |= _names(child)
    return out
