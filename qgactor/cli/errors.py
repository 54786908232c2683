"""Exit codes of the ``qgactor`` command and the error type that carries one.

Every failure the command can predict is raised as a :class:`CliError`: a one-line description
of what is wrong, a hint saying what to do about it, and the exit code to leave with. ``main``
prints it (no traceback) and exits with that code. Anything else is a bug: it is logged with its
traceback and the command exits with :attr:`ExitCode.ERROR`.
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode", "CliError", "EXIT_CODE_MEANINGS", "EXIT_CODES_HELP"]


class ExitCode(enum.IntEnum):
    """The documented exit codes of ``qgactor`` (also listed by ``qgactor --help``)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    UNREACHABLE = 4
    AUTH = 5
    CONFLICT = 6
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.ERROR: "unexpected error or crash (the traceback is logged)",
    ExitCode.USAGE: "bad command-line arguments (unknown command or option, bad value)",
    ExitCode.CONFIG: "config file missing, unreadable or invalid (message names file, key, line)",
    ExitCode.UNREACHABLE: "platform, emulator or the bot's management endpoint unreachable",
    ExitCode.AUTH: "credentials or management token rejected",
    ExitCode.CONFLICT: "would overwrite existing files (init, plugin new): use --force",
    ExitCode.INTERRUPTED: "stopped by Ctrl-C before finishing (run exits 0 after a clean Ctrl-C)",
}
"""One line per exit code, as printed by ``qgactor --help``."""

EXIT_CODES_HELP = "exit codes:\n" + "\n".join(
    f"  {code.value:<4} {code.name.lower():<12} {text}" for code, text in EXIT_CODE_MEANINGS.items()
)
"""The ``exit codes:`` block of ``qgactor --help``."""


class CliError(Exception):
    """A predictable failure of a ``qgactor`` command.

    ``message`` says what is wrong, ``hint`` what to do next, ``code`` is the exit code.
    Never put a secret into either text.
    """

    def __init__(self, message: str, *, hint: str = "", code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message
