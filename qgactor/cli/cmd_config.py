"""``qgactor config check``: validate ``qgactor.toml`` and say exactly what is wrong."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qgactor.cli.errors import ExitCode
from qgactor.cli.project import Project

__all__ = ["add_parser", "run_check"]

HELP = """\
  qgactor config check [--config FILE]

Read the config (default: qgactor.toml in the project directory) the way `qgactor run` does
and report every problem with the file, the key, the line and what to do. Exit code 0 when the
config is valid, 3 when it is missing or invalid.
"""


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor config`` and its ``check`` action."""
    from qgactor.cli.main import QgactorArgumentParser

    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    actions = parser.add_subparsers(dest="config_command", metavar="ACTION", parser_class=QgactorArgumentParser)
    check = actions.add_parser("check", help="validate the config file", parents=parents)
    check.add_argument("--config", type=Path, default=None, metavar="FILE", help="config file (default: PROJECT/qgactor.toml)")
    check.set_defaults(handler=run_check)

    def missing(args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        sys.stderr.write("qgactor config: error: an action is required: check\n")
        return ExitCode.USAGE

    parser.set_defaults(handler=missing)


def run_check(args: argparse.Namespace) -> int:
    """Load and validate the config; print a summary; raises CliError (exit 3) when invalid."""
    from qgactor.cli.appconfig import load_app_config

    project = Project(args.project)
    path = args.config if args.config is not None else project.config_path
    loaded = load_app_config(project, path=path, create=False)
    sys.stdout.write(f"{path}: OK\n")
    for line in loaded.summary():
        sys.stdout.write(f"  {line}\n")
    return ExitCode.OK
