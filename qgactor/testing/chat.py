"""``BotChat``: talk to a bot under test as a QQ user, through the emulator, and check replies."""

from __future__ import annotations

from typing import Any

import trio

from qgactor.console.emulator_link import EmulatorLink
from qgactor.console.link import Place, Reply, WorldUser

__all__ = ["BotChat", "ReplyTimeout", "ReplyRejected", "UnexpectedReply"]


class ReplyTimeout(AssertionError):
    """The bot did not answer within the timeout (the message lists what it did send)."""


class ReplyRejected(AssertionError):
    """The bot answered, but the platform (emulator) rejected the send; the message says why."""


class UnexpectedReply(AssertionError):
    """The bot sent something when the test expected silence."""


class BotChat:
    """Send messages as users of the emulator world and wait for the bot's replies.

    Scenes: ``"guild"`` (a text channel, @-mentioning the bot by default), ``"dm"``,
    ``"group"`` (@-mentioning by default) and ``"c2c"``. Users are the world's users by name
    (``"alice"``, ``"bob"``, ``"carol"`` in the default world). Every wait has a timeout and
    fails the test with an :class:`AssertionError` subclass that shows what the bot sent.

    Attributes:
        emulator: the running :class:`qgactor.emulator.Emulator`.
        bot: the bot under test (a :class:`qgactor.Bot`), if known.
        link: the :class:`~qgactor.console.emulator_link.EmulatorLink` used underneath.
    """

    def __init__(self, emulator: Any, link: EmulatorLink, bot: Any = None) -> None:
        self.emulator = emulator
        self.link = link
        self.bot = bot
        self._pending: list[Reply] = []

    @classmethod
    async def create(cls, emulator: Any, bot: Any = None) -> BotChat:
        """A chat over ``emulator`` (only replies sent from now on are seen)."""
        return cls(emulator, await EmulatorLink.for_emulator(emulator), bot)

    def _user(self, user: str | None) -> WorldUser:
        users = self.link.users()
        if user is None:
            return users[0]
        for candidate in users:
            if user in (candidate.name, candidate.id):
                return candidate
        raise ValueError(f"no user {user!r} in the emulator world; known: {', '.join(u.name for u in users)}")

    def _place(self, scene: str, where: str | None) -> Place:
        if scene not in ("guild", "dm", "group", "c2c"):
            raise ValueError(f"scene must be guild, dm, group or c2c, not {scene!r}")
        if where is None:
            return self.link.default_place(scene)
        for place in self.link.places(scene):
            if where in (place.target, place.label, place.label.lstrip("#")):
                return place
        raise ValueError(f"no {scene} place {where!r}; known: {', '.join(p.label for p in self.link.places(scene))}")

    async def send(self, text: str, *, scene: str = "guild", user: str | None = None,
                   where: str | None = None, at_bot: bool = True) -> str:
        """Send ``text`` as ``user`` in ``scene`` (``where``: a channel/group id or name) without
        waiting; return the message id. Raises ``ValueError`` for an unknown user/scene/place."""
        return await self.link.send(self._place(scene, where), self._user(user), text, at_bot=at_bot)

    async def say(self, text: str, *, scene: str = "guild", user: str | None = None,
                  where: str | None = None, at_bot: bool = True, timeout: float = 5.0) -> Reply:
        """Send ``text`` and return the bot's first reply to it (``reply.text``, ``.lines``, ``.body``).

        Other sends that arrive meanwhile stay queued for :meth:`expect_reply`.
        Raises :class:`ReplyTimeout` if none comes within ``timeout`` seconds and
        :class:`ReplyRejected` if the platform refused the bot's reply.
        """
        message_id = await self.send(text, scene=scene, user=user, where=where, at_bot=at_bot)
        with trio.move_on_after(timeout):
            while True:
                for reply in self._pending:
                    if message_id in (reply.reply_to, reply.body.get("msg_id")):
                        self._pending.remove(reply)
                        return self._checked(reply)
                self._pending.extend(await self.link.wait_replies(timeout))
        raise ReplyTimeout(await self._timeout_message(f"no reply to {text!r} ({scene}) within {timeout:g} s"))

    async def replies(self, text: str | None = None, *, scene: str = "guild", user: str | None = None,
                      where: str | None = None, at_bot: bool = True, timeout: float = 5.0,
                      settle: float = 0.3) -> list[Reply]:
        """Send ``text`` (if given), then collect every reply until ``settle`` seconds pass
        without a new one; waits up to ``timeout`` for the first. Returns them in order
        (possibly empty); rejected sends are included (``reply.accepted`` is False)."""
        if text is not None:
            await self.send(text, scene=scene, user=user, where=where, at_bot=at_bot)
        out, self._pending = self._pending, []
        wait = settle if out else timeout
        while True:
            batch = await self.link.wait_replies(wait)
            if not batch:
                return out
            out.extend(batch)
            wait = settle

    async def expect_reply(self, timeout: float = 5.0) -> Reply:
        """Return the next reply the bot sends anywhere (queued ones first).

        Raises :class:`ReplyTimeout` / :class:`ReplyRejected`.
        """
        if not self._pending:
            self._pending.extend(await self.link.wait_replies(timeout))
        if not self._pending:
            raise ReplyTimeout(await self._timeout_message(f"no reply within {timeout:g} s"))
        return self._checked(self._pending.pop(0))

    async def expect_no_reply(self, within: float = 0.5) -> None:
        """Fail with :class:`UnexpectedReply` if the bot sends anything within ``within`` seconds
        (or has sent something not yet consumed)."""
        batch = self._pending + await self.link.wait_replies(within)
        self._pending = []
        if batch:
            raise UnexpectedReply("the bot sent: " + " | ".join(r.text for r in batch))

    async def outbox(self) -> list[dict[str, Any]]:
        """Everything the bot sent so far (raw emulator outbox entries, rejected ones included)."""
        return await self.emulator.control.outbox(accepted=None)

    @staticmethod
    def _checked(reply: Reply) -> Reply:
        if not reply.accepted:
            raise ReplyRejected(reply.lines[0])
        return reply

    async def _timeout_message(self, head: str) -> str:
        with trio.move_on_after(2):
            entries = await self.emulator.control.outbox(accepted=None)
            if not entries:
                return head + "; the bot sent nothing at all (is the command registered? check the log)"
            recent = [self.link.to_reply(e).text.replace("\n", " / ") for e in entries[-5:]]
            return head + "; the bot's last sends: " + " | ".join(recent)
        return head
