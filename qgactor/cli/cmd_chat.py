"""``qgactor chat``: the chat console against a running emulator."""

from __future__ import annotations

import argparse
import json
from typing import Any

import trio

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project

__all__ = ["add_parser", "run", "add_console_options"]

HELP = """\
Talk to a bot as a QQ user, through a running emulator (`qgactor emulator`, or the one
`qgactor run` embeds). Type a message and press Enter; the bot's replies appear as they arrive
(text, markdown, keyboards; images and media as placeholders). Console commands:

  /scene guild|dm|group|c2c   where you type (default: guild channel, @-mentioning the bot)
  /user NAME                  who you are (a user of the emulator world: alice, bob, carol)
  /at on|off                  @-mention the bot in guild channels and groups
  /where                      show scene, place and user;   /quit  leave (or Ctrl-D)
  //text                      send "/text" to the bot (for a bot command named like the above)

With stdin piped, every line is one message; each waits for the bot's replies, and the console
exits at end of input once replies have settled.
"""


def add_console_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``chat`` and ``run`` (scene, user, reply timing)."""
    group = parser.add_argument_group("chat console")
    group.add_argument("--scene", choices=("guild", "dm", "group", "c2c"), default="guild", help="initial scene (default guild)")
    group.add_argument("--user", default=None, metavar="NAME", help="who you are (default: the first user of the world)")
    group.add_argument("--no-at", action="store_true", help="do not @-mention the bot in guild channels and groups")
    group.add_argument(
        "--reply-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="piped input: how long to wait for a first reply to each line (default 5)",
    )
    group.add_argument(
        "--settle",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="piped input: a reply burst is over after this long without a new reply (default 0.3)",
    )


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor chat`` and its options."""
    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", default=None, metavar="URL", help="base URL of the emulator (default: read .qgactor/emulator.json)"
    )
    add_console_options(parser)
    parser.set_defaults(handler=run)


def _emulator_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    project = Project(args.project)
    try:
        return str(json.loads(project.emulator_file.read_text(encoding="utf-8"))["base_url"])
    except FileNotFoundError:
        raise CliError(
            f"no running emulator found ({project.emulator_file} does not exist)",
            hint="start one with `qgactor emulator` (or `qgactor run`) in this directory, or pass --url",
            code=ExitCode.UNREACHABLE,
        ) from None
    except (ValueError, KeyError, TypeError, OSError):
        raise CliError(
            f"{project.emulator_file} is damaged", hint="restart `qgactor emulator`, or pass --url", code=ExitCode.UNREACHABLE
        ) from None


def console_options(args: argparse.Namespace) -> Any:
    """Build :class:`qgactor.console.ConsoleOptions` from parsed arguments."""
    from qgactor.console import ConsoleOptions

    return ConsoleOptions(
        scene=args.scene,
        user=args.user,
        at_bot=not args.no_at,
        reply_timeout=args.reply_timeout,
        settle=args.settle,
    )


def run(args: argparse.Namespace) -> int:
    """Run the console until /quit or end of input; exit 4 if the emulator is unreachable."""
    from qgactor.console import ConsoleError, run_console
    from qgactor.console.emulator_link import EmulatorLink, EmulatorUnreachable

    url = _emulator_url(args)
    options = console_options(args)

    async def main() -> None:
        async with EmulatorLink.connect(url) as link:
            await run_console(link, options)

    try:
        trio.run(main)
    except EmulatorUnreachable as exc:
        raise CliError(str(exc), hint="is `qgactor emulator` still running? check --url", code=ExitCode.UNREACHABLE) from None
    except ConsoleError as exc:
        raise CliError(str(exc), code=ExitCode.USAGE) from None
    return ExitCode.OK
