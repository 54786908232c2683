"""The chat console: talk to a bot as a QQ user in a guild channel, DM, group or C2C chat.

``qgactor chat`` and ``qgactor run`` (with the embedded emulator) use it; it works in a terminal
and with piped input (one message a line). See :mod:`qgactor.console.console`.
"""

from __future__ import annotations

from qgactor.console.console import ChatConsole, ConsoleError, ConsoleOptions, run_console
from qgactor.console.link import SCENES, ChatLink, Place, Reply, WorldUser
from qgactor.console.render import render_message

__all__ = [
    "ChatConsole",
    "ConsoleError",
    "ConsoleOptions",
    "run_console",
    "ChatLink",
    "Place",
    "Reply",
    "WorldUser",
    "SCENES",
    "render_message",
]
