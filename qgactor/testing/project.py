"""Run a whole project (``qgactor.toml``, ``plugins/``, ``actors/``) on an emulator, for tests."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import attrs

from qgactor.testing.chat import BotChat

__all__ = ["open_project_chat"]


@asynccontextmanager
async def open_project_chat(root: str | Path, *, connect_timeout: float = 10.0) -> AsyncIterator[BotChat]:
    """Start the project at ``root`` exactly as ``qgactor run`` does, but always on an embedded
    emulator, with in-memory sessions, no file watching and no management endpoint; yield a
    :class:`BotChat` once connected. A missing ``qgactor.toml`` means the defaults (nothing is
    written). Raises :class:`qgactor.cli.CliError` for config problems (its message names the
    file and key).
    """
    from qgactor.cli.app import open_application
    from qgactor.cli.appconfig import load_app_config
    from qgactor.cli.project import Project

    project = Project(root)
    loaded = load_app_config(project, create=False, missing_ok=True)
    loaded = attrs.evolve(loaded, settings=attrs.evolve(loaded.settings, session_store=":memory:"))
    async with open_application(
        project, loaded, emulator=True, management=False, watch=False, connect_timeout=connect_timeout
    ) as app:
        yield await BotChat.create(app.emulator, app.bot)
