"""The ``qgactor`` command: argument parsing, logging setup and the exit-code policy.

Each subcommand lives in its own module (``qgactor.cli.cmd_*``) with two functions:
``add_parser(subparsers)`` declares its arguments and ``run(args) -> int`` does the work.
Subcommand modules import the layers they drive (bot, plugins, config, emulator) inside ``run``,
so ``qgactor --help`` stays fast and a broken part of the package only breaks its own commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from qgactor._version import __version__
from qgactor.cli.errors import EXIT_CODES_HELP, CliError, ExitCode
from qgactor.cli.logs import parse_level, setup_logging

__all__ = ["main", "build_parser", "QgactorArgumentParser"]

log = logging.getLogger(__name__)

# (command, module, one-line help), in the order `qgactor --help` lists them
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("run", "qgactor.cli.cmd_run", "run the bot of this project (embedded emulator + chat if no credentials)"),
    ("emulator", "qgactor.cli.cmd_emulator", "serve the local QQ Open Platform emulator until Ctrl-C"),
    ("chat", "qgactor.cli.cmd_chat", "chat with a bot as a user, through a running emulator"),
    ("init", "qgactor.cli.cmd_init", "create a new bot project (config, plugins/, actors/, a test)"),
    ("plugin", "qgactor.cli.cmd_plugin", "create or list plugins"),
    ("config", "qgactor.cli.cmd_config", "check the config file"),
    ("status", "qgactor.cli.cmd_status", "show the live actor tree of the running bot"),
)

DESCRIPTION = """\
qgactor: a trio-native actor runtime for official QQ bots, with a local platform emulator.

On a fresh machine, `qgactor init mybot && cd mybot && qgactor run` gives a bot to talk to:
with no credentials in qgactor.toml, `run` starts the emulator in the same process and opens
a chat console.  Every command has its own --help.
"""


class QgactorArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors say which ``--help`` to read and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        """Print usage, the error and a hint, then exit with :attr:`ExitCode.USAGE`."""
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n  hint: run '{self.prog} --help' for the options\n")
        sys.exit(ExitCode.USAGE)


def _common_options(defaults: bool) -> argparse.ArgumentParser:
    """Options accepted both before and after the subcommand (``qgactor -v run`` = ``qgactor run -v``)."""
    d = (lambda value: value) if defaults else (lambda value: argparse.SUPPRESS)
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument(
        "-C",
        "--project",
        metavar="DIR",
        type=Path,
        default=d(Path(".")),
        help="the project directory (holds qgactor.toml, plugins/, actors/); default: current directory",
    )
    group.add_argument("-v", "--verbose", action="count", default=d(0), help="debug logs (-vv: also from libraries such as httpx and hypercorn)")
    group.add_argument("-q", "--quiet", action="count", default=d(0), help="less log output (warnings only)")
    group.add_argument("--log-level", metavar="LEVEL", default=d(None), help="log level: debug, info, warning, error")
    group.add_argument("--log-json", metavar="FILE", type=Path, default=d(None), help="also write logs as JSON lines to FILE")
    group.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=d("auto"),
        help="coloured terminal logs (default: auto, i.e. when stderr is a terminal and NO_COLOR is unset)",
    )
    return common


def build_parser() -> QgactorArgumentParser:
    """Build the full argument parser (every subcommand's own module adds its arguments)."""
    parser = QgactorArgumentParser(
        prog="qgactor",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"qgactor {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=QgactorArgumentParser)
    common = _common_options(defaults=False)
    for name, module_name, help_text in COMMANDS:
        module = importlib.import_module(module_name)
        module.add_parser(subparsers, name=name, help=help_text, parents=[common])
    return parser


def _log_level(args: argparse.Namespace) -> int:
    if args.log_level:
        try:
            return parse_level(args.log_level)
        except ValueError as exc:
            raise CliError(str(exc), hint="use --log-level debug|info|warning|error", code=ExitCode.USAGE) from None
    if args.quiet:
        return logging.WARNING
    if args.verbose >= 1:
        return logging.DEBUG
    return logging.INFO


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``qgactor`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    When called as the console script the return value becomes the process exit status.
    Never raises except ``SystemExit`` from ``--help``/``--version``/bad arguments.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        sys.stderr.write("\nqgactor: error: a command is required (see the list above)\n")
        return ExitCode.USAGE
    try:
        colour = {"auto": None, "always": True, "never": False}[args.color]
        try:
            args.redact = setup_logging(
                _log_level(args), json_file=args.log_json, colour=colour, library_debug=args.verbose >= 2
            )
        except OSError as exc:
            raise CliError(
                f"cannot open the JSON log file {args.log_json}: {exc.strerror or exc}",
                hint="choose a writable path for --log-json",
                code=ExitCode.USAGE,
            ) from None
        return int(args.handler(args))
    except CliError as exc:
        sys.stderr.write(f"qgactor {args.command}: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"  hint: {exc.hint}\n")
        return int(exc.code)
    except KeyboardInterrupt:
        sys.stderr.write(f"qgactor {args.command}: interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception:
        log.exception("qgactor %s failed with an unexpected error (this is a bug; please report it)", args.command)
        return ExitCode.ERROR
