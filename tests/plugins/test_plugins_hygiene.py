"""Reload hygiene: old plugin code is purged from ``sys.modules`` and can be garbage-collected,
and the watcher does not react to the program's own writes (the enable/disable state file, a
plugin config file generated on first load)."""

from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path

from plugins_helpers import command_handler, running_manager, wait_until, write_plugin

PKG_INIT = '''
from qgactor.plugins import Plugin, command
from .{sub} import WORD


class Pkg(Plugin):
    @command("pkg")
    async def pkg(self, msg):
        return WORD
'''


def namespace_modules(m) -> set[str]:
    ns = m.importer.namespace
    return {k for k in sys.modules if k == ns or k.startswith(ns + ".")}


async def test_reload_purges_old_modules_and_frees_the_old_version(plugins_dir: Path) -> None:
    pkg = plugins_dir / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(PKG_INIT.format(sub="old_words"))
    (pkg / "old_words.py").write_text("WORD = 'old'\n")
    async with running_manager(plugins_dir) as m:
        ns = m.importer.namespace
        assert await command_handler(m, "pkg")("") == "old"
        assert {f"{ns}.pkg", f"{ns}.pkg.old_words"} <= namespace_modules(m)
        old_cls = weakref.ref(m.slots["pkg"].version.cls)  # type: ignore[union-attr]
        old_instance = weakref.ref(m.slots["pkg"].version.instance)  # type: ignore[union-attr]
        old_module = weakref.ref(sys.modules[f"{ns}.pkg.old_words"])

        # the package's submodule is renamed: the old one must not linger in sys.modules
        (pkg / "old_words.py").unlink()
        (pkg / "new_words.py").write_text("WORD = 'new'\n")
        (pkg / "__init__.py").write_text(PKG_INIT.format(sub="new_words"))
        result = await m.reload("pkg")
        assert result.ok, result
        assert await command_handler(m, "pkg")("") == "new"
        assert f"{ns}.pkg.old_words" not in sys.modules
        assert f"{ns}.pkg.new_words" in sys.modules
        for _ in range(3):
            gc.collect()
        assert old_instance() is None, gc.get_referrers(old_instance())
        assert old_cls() is None, [type(r) for r in gc.get_referrers(old_cls())]
        assert old_module() is None

        # removed from disk: its modules go too
        for f in pkg.iterdir():
            f.unlink()
        pkg.rmdir()
        await m.rescan()
        assert namespace_modules(m) == {ns}
    assert namespace_modules(m) == set(), "close() uninstalls the namespace"


CONFIGURED = '''
import attrs
from qgactor.plugins import Plugin, command


class {cls}(Plugin):
    @attrs.define
    class Config:
        word: str = "{word}"
        """The word."""

    @command("{name}")
    async def run(self, msg):
        return self.config.word
'''


async def test_watcher_ignores_the_programs_own_writes(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "alpha", CONFIGURED.format(cls="Alpha", word="a", name="alpha"))
    write_plugin(plugins_dir, "beta", CONFIGURED.format(cls="Beta", word="b", name="beta"))
    async with running_manager(plugins_dir) as m:
        system = m.life.host.ctx.system  # type: ignore[union-attr]
        await system.spawn(m.watcher_spec())
        await wait_until(lambda: m.watcher_ready.is_set())
        assert (plugins_dir / "alpha.toml").exists()  # generated on first load

        async def barrier(n: int) -> None:
            """A real edit of beta; once it is reloaded, every earlier change was handled."""
            beta = plugins_dir / "beta.py"
            beta.write_text(beta.read_text().replace(f'"b{n - 1}"' if n > 1 else '"b"', f'"b{n}"'))
            await wait_until(lambda: m.info("beta").reloads == n, timeout=5)

        # a new plugin with a config: the manager writes gamma.toml while loading it
        write_plugin(plugins_dir, "gamma", CONFIGURED.format(cls="Gamma", word="g", name="gamma"))
        await wait_until(lambda: "gamma" in m.slots and m.info("gamma").state == "loaded")
        assert (plugins_dir / "gamma.toml").exists()
        await barrier(1)
        assert m.info("gamma").reloads == 0, "its own generated config must not reload it"

        # disable/enable write the state file
        await m.disable("alpha")
        await m.enable("alpha")
        assert (plugins_dir / ".plugins-state.toml").exists()
        await barrier(2)
        assert m.info("alpha").reloads == 0 and m.info("alpha").state == "loaded"

        # a reload rewrites nothing the user did not change: a touch is not an edit
        (plugins_dir / "alpha.toml").touch()
        (plugins_dir / "alpha.py").touch()
        await barrier(3)
        assert m.info("alpha").reloads == 0
        assert await command_handler(m, "alpha")("") == "a"
