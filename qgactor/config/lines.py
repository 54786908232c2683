"""Find the line of every key in a TOML text, for error messages.

tomlkit keeps formatting but not positions, so :func:`key_lines` scans the (already parsed, so
valid) text once: table headers, arrays of tables (with their element index), dotted keys, and
values spanning lines (multi-line strings, arrays with comments). Keys inside inline tables and
array elements map to the line of the key holding them.
"""

from __future__ import annotations

import bisect
import tomllib
from collections.abc import Mapping

__all__ = ["key_lines", "line_of"]

KeyPath = tuple[str | int, ...]
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.starts = [0] + [n + 1 for n, c in enumerate(text) if c == "\n"]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def skip_blank(self, newlines: bool) -> None:
        t = self.text
        while self.i < len(t):
            c = t[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                while self.i < len(t) and t[self.i] != "\n":
                    self.i += 1
            else:
                return

    def string(self) -> str:
        """Consume a string literal at ``i`` and return its source text."""
        t, start = self.text, self.i
        for quote in ('"""', "'''"):
            if t.startswith(quote, self.i):
                end = self.i + 3
                while True:
                    end = t.index(quote, end)
                    if quote == '"""' and _escaped(t, end):
                        end += 1
                        continue
                    break
                while t.startswith(quote[0], end + 3):  # up to two extra quotes belong to the content
                    end += 1
                self.i = end + 3
                return t[start : self.i]
        quote = t[self.i]
        end = self.i + 1
        while t[end] != quote or (quote == '"' and _escaped(t, end)):
            end += 1
        self.i = end + 1
        return t[start : self.i]

    def key(self) -> list[str]:
        """Consume a (dotted) key and return its parts."""
        source = []
        t = self.text
        while True:
            self.skip_blank(newlines=False)
            if t[self.i] in "\"'":
                source.append(self.string())
            else:
                start = self.i
                while self.i < len(t) and t[self.i] in _BARE:
                    self.i += 1
                source.append(t[start : self.i])
            self.skip_blank(newlines=False)
            if self.peek() == ".":
                self.i += 1
                continue
            break
        parsed = tomllib.loads(".".join(source) + " = 0")
        parts: list[str] = []
        node: object = parsed
        while isinstance(node, dict):
            (name, node), = node.items()
            parts.append(name)
        return parts

    def skip_value(self) -> None:
        t, depth = self.text, 0
        while self.i < len(t):
            c = t[self.i]
            if c in "\"'":
                self.string()
                continue
            if c == "#":
                self.skip_blank(newlines=False)
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
            elif c == "\n" and depth <= 0:
                return
            self.i += 1


def _escaped(text: str, pos: int) -> bool:
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path in ``text`` (valid TOML) to its 1-based line.

    Arrays of tables get integer indexes: ``[[actors]]`` twice gives ``("actors", 0)`` and
    ``("actors", 1)``. Never raises on valid TOML; on text it cannot follow it returns what it found.
    """
    s = _Scanner(text)
    found: dict[KeyPath, int] = {}
    aot_index: dict[KeyPath, int] = {}
    prefix: KeyPath = ()
    try:
        while True:
            s.skip_blank(newlines=True)
            if s.i >= len(text):
                break
            line = s.line(s.i)
            if s.peek() == "[":
                array = s.peek(2) == "[["
                s.i += 2 if array else 1
                parts = s.key()
                s.i += 2 if array else 1
                resolved: KeyPath = ()
                for n, part in enumerate(parts):
                    resolved = (*resolved, part)
                    last = n == len(parts) - 1
                    if array and last:
                        found.setdefault(resolved, line)
                        aot_index[resolved] = aot_index.get(resolved, -1) + 1
                        resolved = (*resolved, aot_index[resolved])
                    elif resolved in aot_index:
                        resolved = (*resolved, aot_index[resolved])
                    found.setdefault(resolved, line)
                prefix = resolved
                s.skip_value()  # rest of the header line (comment)
                continue
            parts = s.key()
            for n in range(1, len(parts) + 1):
                found.setdefault((*prefix, *parts[:n]), line)
            s.i += 1  # "="
            s.skip_value()
    except (IndexError, ValueError, tomllib.TOMLDecodeError):
        pass
    return found


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """Return the line of ``path`` or of its nearest enclosing key/table; ``None`` at top level."""
    for n in range(len(path), 0, -1):
        line = lines.get(path[:n])
        if line is not None:
            return line
    return None
