"""A scheduled reminder: an application actor that `qgactor run` starts from qgactor.toml.

    [[actors]]
    module = "reminder"      # this file (actors/reminder.py)
    class = "Reminder"
    name = "reminder"
    [actors.options]
    max_delay = 300          # seconds; passive replies must stay inside the platform's window

In a chat: `/remind 10 drink water` answers "OK, in 10 s" and, 10 seconds later, "⏰ drink water".

How it works: on start the actor registers the `remind` command with the bot (tagged with its
own name, so everything it registered is removed when it stops). The command handler only
validates the request and tells the actor; the actor owns the pending reminders, and each one is
a task of the actor (``ctx.start_soon``), so stopping or restarting the actor cancels them.
Pending reminders are kept in memory only: a crash of the actor loses them (it is restarted by
the bot's supervisor, and says so in the log).
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import trio

from qgactor.runtime import Actor, ExitReason

log = logging.getLogger(__name__)

USAGE = "usage: /remind SECONDS TEXT   (e.g. /remind 10 drink water)"


@attrs.frozen
class Remind:
    """Ask the reminder actor to answer ``msg`` with ``text`` after ``delay`` seconds."""

    msg: Any
    delay: float
    text: str


class Reminder(Actor):
    """Keeps reminders and fires them on time, as passive replies to the asking message."""

    def __init__(self, bot: Any, *, max_delay: float = 300.0, max_pending: int = 100) -> None:
        self.bot = bot
        self.max_delay = float(max_delay)
        self.max_pending = int(max_pending)
        self.pending = 0
        self.owner = ""

    async def on_start(self) -> None:
        """Register the `/remind` command with the bot, owned by this actor."""
        self.owner = f"actor:{self.ctx.name}"
        self.bot.remove_components(self.owner)  # a restarted incarnation registers afresh
        self.bot.add_command(self.remind, "remind", owner=self.owner, name="remind")

    async def remind(self, msg: Any) -> None:
        """The `/remind SECONDS TEXT` command (runs in the dispatcher; tells the actor)."""
        delay_text, _, text = msg.rest.partition(" ")
        try:
            delay = float(delay_text)
        except ValueError:
            await msg.reply(USAGE)
            return
        if not 0 < delay <= self.max_delay or not text.strip():
            await msg.reply(f"{USAGE}; SECONDS must be between 0 and {self.max_delay:g}")
            return
        accepted = await self.ref.ask(Remind(msg, delay, text.strip()))
        await msg.reply(f"OK, in {delay:g} s" if accepted else "too many pending reminders, try later")

    async def receive(self, message: Any) -> Any:
        """Accept a :class:`Remind` (returns False when too many are pending)."""
        if isinstance(message, Remind):
            if self.pending >= self.max_pending:
                return False
            self.pending += 1
            self.ctx.start_soon(self._fire, message)
            return True
        log.warning("reminder: ignoring unexpected message %r", message)
        return None

    async def _fire(self, remind: Remind) -> None:
        try:
            await trio.sleep(remind.delay)
            await remind.msg.reply(f"⏰ {remind.text}")
        except Exception:
            log.exception("reminder: could not deliver %r", remind.text)
        finally:
            self.pending -= 1

    async def on_stop(self, reason: ExitReason) -> None:
        """Unregister the command; pending reminders are cancelled with the actor's tasks."""
        if self.pending:
            log.info("reminder stopping with %d pending reminder(s) (%s)", self.pending, reason)
        self.bot.remove_components(self.owner)
