"""The ``qgactor`` command line (entry point ``qgactor = "qgactor.cli:main"``).

Run ``qgactor --help`` for the commands and the documented exit codes
(:class:`~qgactor.cli.errors.ExitCode`).
"""

from __future__ import annotations

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.main import build_parser, main

__all__ = ["main", "build_parser", "CliError", "ExitCode"]
