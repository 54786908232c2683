"""Hot reload: debounce on a MockClock, polling, OS events, invalid edits, own writes, subscribers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from qgactor.config import (
    ConfigChange, ConfigFile, ConfigManager, ConfigValidationError, Debouncer, ReloadResult, config_class,
)
from qgactor.config import manager as manager_module


@config_class
class Limits:
    burst: int = 5
    """Messages allowed in a burst."""


@config_class
class AppCfg:
    greeting: str = "hello"
    """What the bot says."""
    rate: float = 1.0
    limits: Limits = attrs.Factory(Limits)


async def wait_kind(manager: ConfigManager[AppCfg], kind: str, start: int) -> ReloadResult:
    """Wait for the first reload result of ``kind`` at index >= start (others are skipped)."""
    index = start
    while True:
        result = await manager.wait_outcome(index)
        if result.kind == kind:
            return result
        index += 1


def rewrite(path: Path, old: str, new: str) -> None:
    """Save like an editor does: write a new file and rename it over the old one."""
    text = path.read_text().replace(old, new)
    assert text != path.read_text()
    tmp = path.with_name(path.name + ".swp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def test_debouncer_coalesces_bursts_on_the_mock_clock(autojump_clock: trio.testing.MockClock) -> None:
    d = Debouncer(0.5, max_delay=2.0)
    fired: list[float] = []

    async def consumer() -> None:
        while True:
            await d.wait()
            fired.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        t0 = trio.current_time()
        for _ in range(3):  # a burst: pokes 0.2 s apart
            d.poke()
            await trio.sleep(0.2)
        await trio.sleep(1.0)
        assert fired == [pytest.approx(t0 + 0.4 + 0.5)]
        t1 = trio.current_time()
        for _ in range(20):  # a steady stream never settles: max_delay bounds the wait
            d.poke()
            await trio.sleep(0.3)
        assert fired[1] == pytest.approx(t1 + 2.0)
        nursery.cancel_scope.cancel()


async def test_polling_reload_debounced_on_mock_clock(tmp_path: Path, autojump_clock: trio.testing.MockClock,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path), watch="poll", poll_interval=1.0, debounce=0.5)
    assert manager.load() == AppCfg()  # first run: file created with comments
    changes: list[ConfigChange[AppCfg]] = []
    manager.subscribe(changes.append)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        assert manager.mode == "poll"
        start = trio.current_time()
        rewrite(path, 'greeting = "hello"', 'greeting = "hi"')
        result = await wait_kind(manager, "reloaded", 0)
        # seen by the first poll (1 s), then 0.5 s of quiet
        assert result.time - start == pytest.approx(1.5)
        assert manager.current.greeting == "hi" and manager.generation == 2
        assert [c.changed for c in changes] == [frozenset({"greeting"})]
        assert changes[0].old.greeting == "hello" and changes[0].new is manager.current

        # an invalid edit: the old config stays; the log says file, key and line
        index = manager.outcome_count
        rewrite(path, "burst = 5", 'burst = "lots"')
        with caplog.at_level(logging.ERROR):
            bad = await wait_kind(manager, "invalid", index)
        assert manager.current.limits.burst == 5 and manager.current.greeting == "hi"
        line = path.read_text().splitlines().index('burst = "lots"') + 1
        assert [(p.key, p.line) for p in bad.problems] == [(("limits", "burst"), line)]
        assert f"{path}:{line}: limits.burst: expected an integer" in caplog.text
        assert len(changes) == 1
        # the same bad bytes again (editors often write twice): rejected, logged only once
        caplog.clear()
        assert (await manager.reload()).kind == "invalid"
        assert "limits.burst" not in caplog.text

        # fixing it reloads
        index = manager.outcome_count
        rewrite(path, 'burst = "lots"', "burst = 9")
        await wait_kind(manager, "reloaded", index)
        assert manager.current.limits.burst == 9 and changes[-1].changed == {"limits.burst"}
        nursery.cancel_scope.cancel()


async def test_own_writes_do_not_reload(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path), watch="poll", poll_interval=1.0, debounce=0.5)
    manager.load()
    path.write_text(path.read_text().replace("# What the bot says.", "# What the bot says.\n# USER NOTE"))
    await manager.reload()
    changes: list[ConfigChange[AppCfg]] = []
    manager.subscribe(changes.append)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        index = manager.outcome_count
        saved = await manager.save(attrs.evolve(manager.current, rate=2.5))
        assert saved is manager.current and saved.rate == 2.5
        assert [c.changed for c in changes] == [frozenset({"rate"})]  # save notifies once
        await wait_kind(manager, "own-write", index)  # the poll sees the new file and recognises it
        assert [r.kind for r in manager.history if r.index >= index] in (
            ["saved", "own-write"], ["own-write", "saved"])
        assert "# USER NOTE" in path.read_text() and "rate = 2.5" in path.read_text()
        assert len(changes) == 1 and manager.generation == 3
        nursery.cancel_scope.cancel()


async def test_subscribers_are_isolated_and_bounded(tmp_path: Path, autojump_clock: trio.testing.MockClock,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path), callback_timeout=3.0)
    manager.load()
    seen: list[str] = []

    def broken(change: ConfigChange[AppCfg]) -> None:
        raise RuntimeError("subscriber bug")

    async def stuck(change: ConfigChange[AppCfg]) -> None:
        await trio.sleep_forever()

    async def good_async(change: ConfigChange[AppCfg]) -> None:
        await trio.sleep(1.0)
        seen.append("async:" + change.new.greeting)

    subs = [manager.subscribe(broken), manager.subscribe(stuck, name="stuck"), manager.subscribe(good_async)]
    manager.subscribe(lambda change: seen.append("sync:" + change.new.greeting))
    rewrite(path, 'greeting = "hello"', 'greeting = "yo"')
    start = trio.current_time()
    with caplog.at_level(logging.WARNING):
        result = await manager.reload()
    assert result.kind == "reloaded"
    assert trio.current_time() - start == pytest.approx(3.0)  # the stuck one was cut off
    assert sorted(seen) == ["async:yo", "sync:yo"]
    assert [s.failures for s in subs] == [1, 1, 0]
    assert "RuntimeError: subscriber bug" in caplog.text and "Traceback" in caplog.text
    assert "stuck took longer than 3.0s" in caplog.text
    subs[0].cancel()
    rewrite(path, 'greeting = "yo"', 'greeting = "hey"')
    await manager.reload()
    assert subs[0].failures == 1 and seen.count("sync:hey") == 1


async def test_missing_file_keeps_config_until_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path))
    manager.load()
    text = path.read_text()
    path.unlink()
    assert (await manager.reload()).kind == "missing"
    assert manager.current == AppCfg()
    path.write_text(text.replace("rate = 1.0", "rate = 3.0"))
    assert (await manager.reload()).kind == "reloaded" and manager.current.rate == 3.0


async def test_os_events_reload_and_ignore_own_writes(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path), watch="events", debounce=0.05)
    manager.load()
    changes: list[ConfigChange[AppCfg]] = []
    manager.subscribe(changes.append)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(manager.run)
            assert manager.mode == "events"
            index = manager.outcome_count
            rewrite(path, 'greeting = "hello"', 'greeting = "renamed-over"')  # editor style
            await wait_kind(manager, "reloaded", index)
            assert manager.current.greeting == "renamed-over"

            index = manager.outcome_count
            await manager.save(attrs.evolve(manager.current, rate=7.0))
            await wait_kind(manager, "own-write", index)
            assert [r.kind for r in manager.history if r.index >= index and r.kind == "reloaded"] == []

            index = manager.outcome_count
            with open(path, "a") as f:  # in-place append
                f.write("\n# appended by hand\n")
            path.write_text(path.read_text().replace("rate = 7.0", "rate = 8.0"))
            await wait_kind(manager, "reloaded", index)
            assert manager.current.rate == 8.0
            assert [c.changed for c in changes] == [{"greeting"}, {"rate"}, {"rate"}]
            nursery.cancel_scope.cancel()


async def test_auto_falls_back_to_polling_when_events_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def no_events(*args: object, **kwargs: object) -> None:
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(manager_module, "watch_events", no_events)
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path), watch="auto", poll_interval=2.0, debounce=0.1)
    with caplog.at_level(logging.WARNING):
        async with trio.open_nursery() as nursery:
            await nursery.start(manager.run)  # loads (creates) the file first
            assert manager.mode == "poll"
            rewrite(path, "rate = 1.0", "rate = 4.0")
            await wait_kind(manager, "reloaded", 0)
            assert manager.current.rate == 4.0
            nursery.cancel_scope.cancel()
    assert "file events unavailable" in caplog.text


async def test_run_refuses_to_start_on_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text("rate = false\n")
    manager = ConfigManager(ConfigFile(AppCfg, path), watch="poll")
    with pytest.raises(ConfigValidationError, match=r"app.toml:1: rate: expected a number"):
        await manager.run()
    with pytest.raises(RuntimeError, match="not loaded"):
        manager.current


async def test_save_does_not_clobber_an_unreloaded_user_edit(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    manager = ConfigManager(ConfigFile(AppCfg, path), watch="poll")
    manager.load()
    path.write_text(path.read_text().replace('greeting = "hello"', 'greeting = "user edit"'))
    # the program changes another key before the edit was reloaded
    saved = await manager.save(attrs.evolve(manager.current, rate=5.0))
    assert saved.greeting == "user edit" and saved.rate == 5.0
    assert 'greeting = "user edit"' in path.read_text()
