"""Helpers for the plugin tests: plugin files, bounded waits, a manager on a real actor system.

(A module with a unique name: ``from conftest import ...`` would pick whichever conftest.py
pytest imported first when several test folders run together.)
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from qgactor.bot.registry import ComponentRegistry
from qgactor.plugins import PluginManager
from qgactor.runtime import Backoff, open_actor_nursery


class Recorder:
    """Stands in for the ``bot`` argument in manager-level tests: plugins append to ``log``."""

    def __init__(self) -> None:
        self.log: list[Any] = []


def write_plugin(plugins_dir: Path, name: str, body: str) -> Path:
    """Write ``plugins_dir/name.py`` (dedented)."""
    path = plugins_dir / f"{name}.py"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


async def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (polling the condition at each scheduler tick, bounded) until ``cond()``."""
    with trio.fail_after(timeout):
        while not cond():
            await trio.sleep(0.005)


@asynccontextmanager
async def running_manager(plugins_dir: Path, **kw: Any) -> AsyncIterator[PluginManager]:
    """A PluginManager with its host actor on a real actor system (no bot: a bare registry)."""
    registry = ComponentRegistry()
    kw.setdefault("backoff", Backoff(initial=0))
    manager = PluginManager(Recorder(), plugins_dir, registry=registry,
                            namespace=f"qgp_{uuid.uuid4().hex[:10]}", **kw)
    manager.prepare()
    try:
        async with open_actor_nursery(name="test") as an:
            host = await an.spawn(manager.service_spec())
            yield manager
            await an.stop(host)
    finally:
        manager.close()


def command_handler(manager: PluginManager, name: str) -> Callable[..., Any]:
    """The registered (gate) handler of the command called ``name``."""
    for cmd in manager.registry.commands:
        if cmd.name == name:
            return cmd.handler
    raise LookupError(f"no command {name!r}; have {[c.name for c in manager.registry.commands]}")
