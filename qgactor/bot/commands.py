"""Commands: what they match and with which options (pure logic, no I/O).

A command matches the mention-stripped text of a message. A *word* matches at the start of
the text, optionally after the command prefix (``/`` by default); a word that ends in an ASCII
letter or digit must be followed by a non-alphanumeric character or the end of the text
(``hello`` does not match ``helloworld``; ``签到`` matches ``签到今天``). A *regex* is searched
anywhere in the text (anchor it with ``^`` to require the start). When several commands match,
the longest match runs first.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Sequence

import attrs

from qgactor.bot.scenes import Scene, parse_scenes

__all__ = ["Command", "CommandMatch", "match_commands"]


@attrs.frozen(slots=True)
class CommandMatch:
    """How a command matched a text.

    Attributes:
        command: the word that matched, or the regex's matched text.
        rest: the text after the match, stripped of surrounding whitespace.
        groups: the regex groups (empty for words).
        match: the ``re.Match`` for regex commands, else ``None``.
        length: the number of characters matched (the prefix included); longer runs first.
    """

    command: str
    rest: str
    groups: tuple[Any, ...] = ()
    match: re.Match[str] | None = None
    length: int = 0

    @property
    def args(self) -> list[str]:
        """The rest of the text split on whitespace."""
        return self.rest.split()


def _word_boundary_ok(word: str, text: str, end: int) -> bool:
    if end >= len(text):
        return True
    last = word[-1]
    nxt = text[end]
    if last.isascii() and last.isalnum():
        return not (nxt.isascii() and (nxt.isalnum() or nxt == "_"))
    return True


@attrs.define(slots=True, eq=False)
class Command:
    """One registered command and its options.

    Attributes:
        handler: the function called with the message context (``def`` or ``async def``).
        words: command words matched at the start of the text.
        regexes: compiled patterns searched in the text.
        require_at: only when the bot was @-mentioned (DMs and C2C always count as mentioned).
        admin_only: only guild owners/admins, group owners/admins, and the bot-admin list.
        admin_refusal: text replied to a non-admin who tries an admin-only command (None: silent).
        short_circuit: when it ran, stop: no further commands, no message handlers.
        custom_short_circuit: stop only when the handler returns a truthy value
            (overrides ``short_circuit``).
        scenes: the scenes the command is valid in.
        enabled: disabled commands never match (toggle at run time).
        name: a name for listing/enabling (default: the first word or pattern).
        owner: the tag of who registered it (a plugin name); see ``remove_components``.
    """

    handler: Callable[..., Any]
    words: tuple[str, ...] = ()
    regexes: tuple[re.Pattern[str], ...] = ()
    require_at: bool = False
    admin_only: bool = False
    admin_refusal: str | None = None
    short_circuit: bool = True
    custom_short_circuit: bool = False
    scenes: frozenset[Scene] = frozenset(Scene)
    enabled: bool = True
    name: str = ""
    owner: str | None = None

    @classmethod
    def create(
        cls,
        handler: Callable[..., Any],
        command: str | Iterable[str] | None = None,
        *,
        regex: str | re.Pattern[str] | Iterable[str | re.Pattern[str]] | None = None,
        require_at: bool = False,
        admin_only: bool = False,
        admin_refusal: str | None = None,
        short_circuit: bool = True,
        custom_short_circuit: bool = False,
        scenes: Iterable[Scene | str] | Scene | str | None = None,
        name: str | None = None,
        owner: str | None = None,
    ) -> "Command":
        """Validate options and build a command.

        Raises:
            ValueError: neither words nor regexes given, an empty word, a bad regex, or an
                unknown scene.
            TypeError: the handler is not callable.
        """
        if not callable(handler):
            raise TypeError(f"a command handler must be callable, got {handler!r}")
        words: list[str] = []
        if command is not None:
            for w in [command] if isinstance(command, str) else list(command):
                if not isinstance(w, str) or not w.strip():
                    raise ValueError(f"command words must be non-empty strings, got {w!r}")
                words.append(w.strip())
        patterns: list[re.Pattern[str]] = []
        if regex is not None:
            items = [regex] if isinstance(regex, (str, re.Pattern)) else list(regex)
            for r in items:
                if isinstance(r, re.Pattern):
                    patterns.append(r)
                    continue
                try:
                    patterns.append(re.compile(r))
                except re.error as exc:
                    raise ValueError(f"invalid command regex {r!r}: {exc}") from None
        if not words and not patterns:
            raise ValueError("a command needs at least one word (command=...) or pattern (regex=...)")
        label = name or (words[0] if words else patterns[0].pattern)
        # longest words first so that "help me" is tried before "help"
        words.sort(key=len, reverse=True)
        return cls(
            handler=handler,
            words=tuple(words),
            regexes=tuple(patterns),
            require_at=require_at,
            admin_only=admin_only,
            admin_refusal=admin_refusal,
            short_circuit=short_circuit,
            custom_short_circuit=custom_short_circuit,
            scenes=parse_scenes(scenes),
            name=label,
            owner=owner,
        )

    def match(self, text: str, prefix: str = "/") -> CommandMatch | None:
        """Return how this command matches ``text`` (the longest way), or ``None``."""
        stripped = text.lstrip()
        candidates = [(stripped, 0)]
        if prefix and stripped.startswith(prefix):
            candidates.insert(0, (stripped[len(prefix):], len(prefix)))
        for body, plen in candidates:
            for w in self.words:  # already longest first
                if body.startswith(w) and _word_boundary_ok(w, body, len(w)):
                    return CommandMatch(
                        command=w, rest=body[len(w):].strip(), length=plen + len(w)
                    )
        best: CommandMatch | None = None
        for pat in self.regexes:
            m = pat.search(stripped)
            if m is None:
                continue
            length = m.end() - m.start()
            if best is None or length > best.length:
                best = CommandMatch(
                    command=m.group(0), rest=stripped[m.end():].strip(), groups=m.groups(),
                    match=m, length=length,
                )
        return best


def match_commands(
    commands: Sequence[Command], text: str, prefix: str = "/"
) -> list[tuple[Command, CommandMatch]]:
    """Return the enabled commands matching ``text``, longest match first (stable by order).

    Scene, @ and admin checks are the dispatcher's business; this is text matching only.
    """
    found: list[tuple[int, int, Command, CommandMatch]] = []
    for i, cmd in enumerate(commands):
        if not cmd.enabled:
            continue
        m = cmd.match(text, prefix)
        if m is not None:
            found.append((-m.length, i, cmd, m))
    found.sort(key=lambda t: (t[0], t[1]))
    return [(c, m) for _, _, c, m in found]
