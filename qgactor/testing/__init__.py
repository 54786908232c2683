"""The qgactor testing kit: run a bot against the emulator and talk to it from pytest.

The pytest fixtures (``qq_emulator``, ``qq_bot``, ``qq_project``) are registered automatically
when qgactor is installed (see :mod:`qgactor.testing.plugin`). Outside pytest, use
:func:`open_bot_chat` directly::

    async with open_emulator() as emu, open_bot_chat(emu, bot) as chat:
        reply = await chat.say("/hello", scene="group")

The names below are imported lazily: pytest imports this package for its plugin in every run,
and that must stay cheap and must not fail when some other part of qgactor is broken.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BotChat",
    "Reply",
    "ReplyTimeout",
    "ReplyRejected",
    "UnexpectedReply",
    "BotStartError",
    "open_bot_chat",
    "point_at_emulator",
    "open_project_chat",
    "self_signed_certificate",
]

_WHERE = {
    "BotChat": "qgactor.testing.chat",
    "ReplyTimeout": "qgactor.testing.chat",
    "ReplyRejected": "qgactor.testing.chat",
    "UnexpectedReply": "qgactor.testing.chat",
    "Reply": "qgactor.console.link",
    "BotStartError": "qgactor.testing.harness",
    "open_bot_chat": "qgactor.testing.harness",
    "point_at_emulator": "qgactor.testing.harness",
    "open_project_chat": "qgactor.testing.project",
    "self_signed_certificate": "qgactor.testing.tls",
}


def __getattr__(name: str) -> Any:
    """Import a public name of the testing kit on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'qgactor.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
