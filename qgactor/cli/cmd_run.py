"""``qgactor run``: run the bot of this project."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from qgactor.cli.cmd_chat import add_console_options

__all__ = ["add_parser", "run"]

HELP = """\
Run the bot described by qgactor.toml (created, with a comment on every key, if missing) with
the plugins of its plugins directory and the actors listed under [[actors]].

  no credentials   (bot.appid / bot.secret empty and QGACTOR_APPID / QGACTOR_SECRET unset):
                   start the emulator in this process and open the chat console, so a fresh
                   project gives you a bot to talk to. With stdin piped, each line is a message
                   and the bot stops at end of input once its replies have settled.
  credentials      connect to the platform (bot.environment: production or sandbox) and run
                   until Ctrl-C.

Ctrl-C (or SIGTERM) stops everything gracefully, in reverse start order.
`qgactor status` in another terminal shows the live actor tree.
"""


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor run`` and its options."""
    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=None, metavar="FILE", help="config file (default: PROJECT/qgactor.toml)")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use the embedded emulator even if credentials are configured",
    )
    parser.add_argument(
        "--no-console",
        action="store_true",
        help="with the embedded emulator: do not open the chat console; serve until Ctrl-C "
        "(the emulator's URL and credentials go to .qgactor/emulator.json for `qgactor chat`)",
    )
    parser.add_argument("--emulator-port", type=int, default=0, metavar="PORT", help="port of the embedded emulator (default: any free port)")
    add_console_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the application (see :mod:`qgactor.cli.runner`); returns the exit code."""
    from qgactor.cli.runner import run_app

    return run_app(args)
