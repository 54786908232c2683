"""Logging for the ``qgactor`` command: readable coloured terminal lines, optional JSON lines.

Terminal lines look like ``15:21:07 INFO  qgactor.bot  connected shard 0/1`` with the level
coloured when the stream is a terminal (and ``NO_COLOR`` is not set). A JSON-lines file gets one
object per record: ``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``message`` and, when there is
one, ``exc`` (the formatted traceback). Known secret values can be registered with
:class:`RedactSecrets` so that they are masked in both outputs even if some code logs one by
mistake.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
from pathlib import Path
from typing import IO, Iterable

__all__ = ["ColourFormatter", "JsonLinesFormatter", "RedactSecrets", "setup_logging", "parse_level"]

_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_LEVEL_COLOURS = {
    logging.DEBUG: "\x1b[36m",  # cyan
    logging.INFO: "\x1b[32m",  # green
    logging.WARNING: "\x1b[33m",  # yellow
    logging.ERROR: "\x1b[31m",  # red
    logging.CRITICAL: "\x1b[1;41m",  # bold on red
}


class ColourFormatter(logging.Formatter):
    """Formats records as ``HH:MM:SS LEVEL logger  message`` with optional ANSI colours."""

    def __init__(self, *, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        """Return the formatted line (plus the traceback, if any)."""
        when = _dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = f"{record.levelname:<5}"
        name = record.name
        message = record.getMessage()
        if self.colour:
            colour = _LEVEL_COLOURS.get(record.levelno, "")
            line = f"{_DIM}{when}{_RESET} {colour}{level}{_RESET} {_DIM}{name}{_RESET}  {message}"
        else:
            line = f"{when} {level} {name}  {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonLinesFormatter(logging.Formatter):
    """Formats records as one JSON object per line (``ts``, ``level``, ``logger``, ``message``)."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a compact JSON object without a trailing newline."""
        data: dict[str, object] = {
            "ts": _dt.datetime.fromtimestamp(record.created, _dt.timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """A filter that replaces every registered secret value in a record with ``***``.

    Secrets should never be logged in the first place; this is the second line of defence.
    Values shorter than 4 characters are ignored (they would mask ordinary words).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Register one more value to mask."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in the message (args are merged first); never drops a record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def parse_level(text: str) -> int:
    """Turn ``debug``/``INFO``/``20`` into a logging level; raises ``ValueError`` if unknown."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    level = logging.getLevelName(text.upper())
    if not isinstance(level, int):
        raise ValueError(f"unknown log level {text!r} (use debug, info, warning, error)")
    return level


def _wants_colour(stream: IO[str], colour: bool | None) -> bool:
    if colour is not None:
        return colour
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def setup_logging(
    level: int = logging.INFO,
    *,
    json_file: Path | None = None,
    colour: bool | None = None,
    stream: IO[str] | None = None,
    redact: RedactSecrets | None = None,
    library_debug: bool = False,
) -> RedactSecrets:
    """Configure the root logger for a ``qgactor`` command and return its secret filter.

    Terminal output goes to ``stream`` (stderr by default), coloured if it is a terminal unless
    ``colour`` says otherwise. ``json_file`` (appended to, parent directories created) gets
    every record at ``level`` as JSON lines. Chatty libraries (httpx, hypercorn, ...) log at
    WARNING unless ``library_debug``. Calling it again replaces the handlers it installed.
    Raises ``OSError`` if the JSON file cannot be opened.
    """
    stream = stream if stream is not None else sys.stderr
    redact = redact if redact is not None else RedactSecrets()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_qgactor", False):
            root.removeHandler(handler)
            handler.close()
    terminal = logging.StreamHandler(stream)
    terminal.setFormatter(ColourFormatter(colour=_wants_colour(stream, colour)))
    terminal.addFilter(redact)
    terminal._qgactor = True  # type: ignore[attr-defined]
    root.addHandler(terminal)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(json_file, encoding="utf-8")
        handler.setFormatter(JsonLinesFormatter())
        handler.addFilter(redact)
        handler._qgactor = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "hypercorn.access", "hypercorn.error", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if library_debug else logging.WARNING)
    return redact
