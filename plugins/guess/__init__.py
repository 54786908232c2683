"""guess: a guess-the-number game played in a conversation (``/guess``).

Each player gets their own conversation: while it waits, that player's next message in that
place goes to the game first. The plugin emits ``guess.won`` on the event bus when a player
wins (the ``scores`` plugin keeps a leaderboard from it).
"""

import random

import attrs

from qgactor.bot.conversations import ConversationTimeout
from qgactor.plugins import EventSpec, Plugin, command

from .game import Round


class Guess(Plugin):
    """Guess-the-number."""

    events = [EventSpec("guess.won", {"user": str, "tries": int}, "a player guessed right")]

    @attrs.define
    class Config:
        low: int = 1
        """Smallest number the bot may pick."""
        high: int = 100
        """Largest number the bot may pick."""
        max_tries: int = 7
        """Guesses allowed per game."""
        answer_timeout: float = 60.0
        """Seconds to wait for each answer before the game ends."""

    @command("guess")
    async def guess(self, msg):
        """`/guess`: start a game; answer with numbers."""
        cfg = self.config
        game = Round(random.randint(cfg.low, cfg.high), cfg.low, cfg.high, cfg.max_tries)
        async with msg.conversation(timeout=cfg.answer_timeout) as conv:
            prompt = f"I picked a number from {cfg.low} to {cfg.high}. Your guess?"
            while True:
                try:
                    answer = await conv.ask(prompt)
                except ConversationTimeout:
                    await conv.say(f"Time is up: it was {game.secret}.")
                    return
                prompt, over = game.judge(answer.text)
                if over:
                    await conv.say(prompt)
                    if str(game.secret) == answer.text.strip():
                        await self.emit("guess.won", user=str(msg.author_id or ""),
                                        tries=game.tries)
                    return
