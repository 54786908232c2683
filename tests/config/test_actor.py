"""The config watcher as an actor under the real kernel."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import trio

from qgactor.config import ConfigChange, ConfigFile, ConfigManager, config_class
from qgactor.config.actor import ConfigWatcher, GetConfig, ReloadNow, SaveConfig
from qgactor.runtime import open_actor_nursery


@config_class
class Cfg:
    word: str = "a"
    """A word."""


async def test_watcher_actor_reloads_and_answers(tmp_path: Path) -> None:
    # real clock: save() writes in a worker thread, which a MockClock would jump over
    path = tmp_path / "cfg.toml"
    manager = ConfigManager(ConfigFile(Cfg, path), watch="poll", poll_interval=0.02, debounce=0.02)
    got = trio.Event()
    changes: list[ConfigChange[Cfg]] = []

    def on_change(change: ConfigChange[Cfg]) -> None:
        changes.append(change)
        got.set()

    manager.subscribe(on_change)
    async with open_actor_nursery(name="root") as system:
        ref = await system.spawn(ConfigWatcher.spec(manager, name="config"))
        assert await ref.ask(GetConfig()) == Cfg()  # on_start created and loaded the file
        path.write_text(path.read_text().replace('word = "a"', 'word = "b"'))
        with trio.fail_after(5):
            await got.wait()  # the actor's own watch loop (polling) reloaded
        assert manager.current.word == "b" and changes[-1].changed == {"word"}
        assert (await ref.ask(ReloadNow())).kind == "unchanged"
        saved = await ref.ask(SaveConfig(attrs.evolve(manager.current, word="c")))
        assert saved.word == "c" and 'word = "c"' in path.read_text()
        assert "# A word." in path.read_text()
        await system.stop(ref)


async def test_invalid_file_fails_the_start(tmp_path: Path) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text("word = 1\n")
    manager = ConfigManager(ConfigFile(Cfg, path), watch="poll")
    watcher = ConfigWatcher(manager)
    with pytest.raises(Exception, match="cfg.toml:1: word: expected a string"):
        await watcher.on_start()
