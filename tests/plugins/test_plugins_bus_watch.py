"""Event bus across plugins (declared events, ordering by priority/before/after, observers,
STOP) and the watcher (reload on edit, new and removed plugins, allow_hot_reload = false,
an invalid config edit keeps the old version)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qgactor.plugins import EventFieldError

from plugins_helpers import command_handler, running_manager, wait_until, write_plugin


async def test_bus_ordering_across_plugins(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "shop", '''
        from qgactor.plugins import EventSpec, Plugin, command
        class Shop(Plugin):
            events = [EventSpec("shop.sold", {"item": str})]
            @command("sell")
            async def sell(self, item):
                result = await self.emit("shop.sold", item=item)
                return result.handled, result.stopped_by
        ''')
    write_plugin(plugins_dir, "audit", '''
        from qgactor.plugins import Manifest, Plugin, on_event
        __plugin__ = Manifest(dependencies={"shop": ""})
        class Audit(Plugin):
            # must run before every handler of plugin "tax", even though its priority is low
            @on_event("shop.sold", priority=-10, before=["tax"])
            async def check(self, event):
                self.bot.log.append("audit:" + event.item)
        ''')
    write_plugin(plugins_dir, "tax", '''
        from qgactor.plugins import STOP, Manifest, Plugin, on_event
        __plugin__ = Manifest(dependencies={"shop": ""})
        class Tax(Plugin):
            @on_event("shop.sold", priority=5)
            async def vat(self, event):
                self.bot.log.append("tax:" + event.item)
                if event.item == "contraband":
                    return STOP
        ''')
    write_plugin(plugins_dir, "stats", '''
        from qgactor.plugins import Manifest, Plugin, on_event
        __plugin__ = Manifest(dependencies={"shop": ""})
        class Stats(Plugin):
            @on_event("shop.sold", priority=100)
            async def first(self, event):
                self.bot.log.append("stats:" + event.item)
            @on_event("shop.sold", observer=True)
            async def watch(self, event):
                self.bot.log.append("observed:" + event.item)
            @on_event("shop.sold", after=["tax.vat"], name="last")
            async def after_tax(self, event):
                self.bot.log.append("after-tax:" + event.item)
        ''')
    async with running_manager(plugins_dir) as m:
        sell = command_handler(m, "sell")
        handled, stopped = await sell("apple")
        assert handled == ["stats.first", "audit.check", "tax.vat", "stats.last"]
        assert stopped is None
        await wait_until(lambda: "observed:apple" in m.bot.log)
        assert [x for x in m.bot.log if not x.startswith("observed")] == [
            "stats:apple", "audit:apple", "tax:apple", "after-tax:apple"]
        m.bot.log.clear()
        handled, stopped = await sell("contraband")
        assert stopped == "tax.vat" and "after-tax:contraband" not in m.bot.log
        with pytest.raises(EventFieldError):
            await m.emit("shop.sold", item=3)
        # unloading a plugin removes its handlers and (for the declarer) its events
        await m.disable("stats")
        assert [s.id for s in m.bus.handlers("shop.sold")] == ["audit.check", "tax.vat"]


async def test_watcher_reloads_edits_and_follows_new_and_removed_plugins(
        plugins_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_plugin(plugins_dir, "live", '''
        import attrs
        from qgactor.plugins import Plugin, command
        class Live(Plugin):
            @attrs.define
            class Config:
                word: str = "one"
                """The word."""
            @command("live")
            async def live(self, msg):
                return "v1:" + self.config.word
        ''')
    write_plugin(plugins_dir, "frozen", '''
        from qgactor.plugins import Manifest, Plugin, command
        __plugin__ = Manifest(allow_hot_reload=False)
        class Frozen(Plugin):
            @command("frozen")
            async def frozen(self, msg):
                return "old"
        ''')
    async with running_manager(plugins_dir) as m:
        host_system = m.life.host.ctx.system  # type: ignore[union-attr]
        await host_system.spawn(m.watcher_spec())
        await wait_until(lambda: m.watcher_ready.is_set())
        caplog.set_level(logging.INFO)

        # code edit
        live = plugins_dir / "live.py"
        live.write_text(live.read_text().replace('"v1:"', '"v2:"'))
        await wait_until(lambda: m.info("live").reloads == 1, timeout=3)
        assert await command_handler(m, "live")("") == "v2:one"

        # config edit
        cfg = plugins_dir / "live.toml"
        cfg.write_text(cfg.read_text().replace('"one"', '"two"'))
        await wait_until(lambda: m.info("live").reloads == 2, timeout=3)
        assert await command_handler(m, "live")("") == "v2:two"

        # an invalid config edit keeps the running version and says what is wrong
        cfg.write_text(cfg.read_text().replace('word = "two"', "word = 3"))
        await wait_until(lambda: "reload of plugin live failed" in caplog.text, timeout=3)
        assert "word" in caplog.text
        assert await command_handler(m, "live")("") == "v2:two"
        assert m.info("live").state == "loaded"

        # allow_hot_reload = false: not reloaded, a restart is needed
        frozen = plugins_dir / "frozen.py"
        frozen.write_text(frozen.read_text().replace('"old"', '"new"'))
        await wait_until(lambda: "restart the bot" in caplog.text, timeout=3)
        assert await command_handler(m, "frozen")("") == "old"

        # a new plugin file is loaded, a removed one unloaded
        write_plugin(plugins_dir, "fresh", '''
            from qgactor.plugins import Plugin, command
            class Fresh(Plugin):
                @command("fresh")
                async def fresh(self, msg):
                    return "fresh"
            ''')
        await wait_until(lambda: "fresh" in m.slots and m.info("fresh").state == "loaded",
                         timeout=3)
        assert await command_handler(m, "fresh")("") == "fresh"
        (plugins_dir / "fresh.py").unlink()
        await wait_until(lambda: "fresh" not in m.slots, timeout=3)
        assert "fresh" not in {c.owner for c in m.registry.commands}


async def test_watcher_polling_fallback_reloads_package_plugin(plugins_dir: Path) -> None:
    pkg = plugins_dir / "pkg"
    pkg.mkdir()
    (pkg / "manifest.toml").write_text('version = "1.0"\n')
    (pkg / "__init__.py").write_text(
        "from qgactor.plugins import Plugin, command\n"
        "from .words import WORD\n"
        "class Pkg(Plugin):\n"
        "    @command('pkg')\n"
        "    async def pkg(self, msg):\n"
        "        return WORD\n")
    (pkg / "words.py").write_text("WORD = 'first'\n")
    async with running_manager(plugins_dir) as m:
        system = m.life.host.ctx.system  # type: ignore[union-attr]
        await system.spawn(m.watcher_spec(force_polling=True))
        await wait_until(lambda: m.watcher_ready.is_set())
        assert await command_handler(m, "pkg")("") == "first"
        (pkg / "words.py").write_text("WORD = 'second'\n")  # a submodule of a package plugin
        await wait_until(lambda: m.info("pkg").reloads == 1, timeout=3)
        assert await command_handler(m, "pkg")("") == "second"
