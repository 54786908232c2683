"""scores: a leaderboard of the guess game, fed by the ``guess.won`` bus event (``/scores``).

Shows plugin dependencies (it needs ``guess``) and an event-bus observer, which can never
slow down the game that emits the event.
"""

from qgactor.plugins import Manifest, Plugin, command, on_event

__plugin__ = Manifest(
    version="1.0.0",
    description="Leaderboard of the guess game",
    author="qgactor",
    dependencies={"guess": ">=1.0"},
)


class Scores(Plugin):
    """Counts wins per player."""

    async def on_load(self):
        self.wins: dict[str, int] = {}
        self.best: dict[str, int] = {}

    @on_event("guess.won", observer=True)
    async def record(self, event):
        self.wins[event.user] = self.wins.get(event.user, 0) + 1
        self.best[event.user] = min(self.best.get(event.user, event.tries), event.tries)

    @command("scores")
    async def scores(self, msg):
        """`/scores`: wins and best game per player."""
        if not self.wins:
            await msg.reply("No winners yet: try /guess")
            return
        rows = sorted(self.wins, key=lambda u: (-self.wins[u], self.best[u]))
        await msg.reply("\n".join(
            f"{u}: {self.wins[u]} win(s), best {self.best[u]} tries" for u in rows))
