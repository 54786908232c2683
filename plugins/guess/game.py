"""The rules of the game, without any I/O (so they can be tested alone)."""

from __future__ import annotations

import attrs


@attrs.define
class Round:
    """One game: the secret number, the range and the tries used so far."""

    secret: int
    low: int
    high: int
    max_tries: int
    tries: int = 0

    def judge(self, text: str) -> tuple[str, bool]:
        """Judge one answer; return (what to say, whether the game is over)."""
        try:
            n = int(text.strip())
        except ValueError:
            return f"Please send a whole number from {self.low} to {self.high}.", False
        self.tries += 1
        if n == self.secret:
            return f"Correct! {n} in {self.tries} tries.", True
        if self.tries >= self.max_tries:
            return f"Out of tries: it was {self.secret}.", True
        hint = "Higher" if n < self.secret else "Lower"
        return f"{hint}! ({self.max_tries - self.tries} tries left)", False
