"""What the chat console needs from the platform side: a :class:`ChatLink`.

The console types as a user and shows what the bot sends. A link does both against some
platform; :class:`qgactor.console.emulator_link.EmulatorLink` does it through the emulator's
control API. The types here are plain data shared by the console and its links.
"""

from __future__ import annotations

from typing import Protocol

import attrs

__all__ = ["ChatLink", "Place", "Reply", "WorldUser", "SCENES"]

SCENES = ("guild", "dm", "group", "c2c")
"""The four places a user can type: a guild channel, a guild DM, a group, a C2C chat."""


@attrs.frozen
class WorldUser:
    """A user of the platform world the console can speak as."""

    name: str
    """Short name used with ``/user`` (e.g. ``alice``)."""
    id: str
    """The user's id (guild scenes) or openid key the link understands."""


@attrs.frozen
class Place:
    """Where a message is typed: the scene and its target (channel id, group openid or None)."""

    scene: str
    """One of :data:`SCENES`."""
    target: str | None = None
    """Guild channel id (guild), group openid (group); ``None`` for DM/C2C (the user is the target)."""
    label: str = ""
    """Human-readable name shown in the prompt, e.g. ``#general``."""


@attrs.frozen
class Reply:
    """One message the bot sent, rendered for the terminal."""

    scene: str
    """The scene it was sent to."""
    where: str
    """Human-readable destination (channel, group or user)."""
    lines: tuple[str, ...]
    """The rendered message (see :func:`qgactor.console.render.render_message`)."""
    reply_to: str | None = None
    """The id of the message or event it answers, if passive."""
    body: dict = attrs.field(factory=dict, eq=False, repr=False)
    """The raw request body the bot sent."""
    accepted: bool = True
    """False when the platform rejected the send (the first line says why)."""
    n: int = 0
    """Position in the platform's outbox (increasing)."""

    @property
    def text(self) -> str:
        """The rendered lines joined with newlines."""
        return "\n".join(self.lines)


class ChatLink(Protocol):
    """The platform side of a chat console session."""

    def users(self) -> list[WorldUser]:
        """The users the console may speak as (first is the default)."""
        ...

    def default_place(self, scene: str) -> Place:
        """The default place of ``scene`` (first channel, first group, or the user's DM)."""
        ...

    def places(self, scene: str) -> list[Place]:
        """All places of ``scene`` (channels of every guild, every group; DM/C2C: one place)."""
        ...

    async def send(self, place: Place, user: WorldUser, content: str, *, at_bot: bool) -> str:
        """Inject ``content`` typed by ``user`` at ``place``; return the new message id."""
        ...

    async def wait_replies(self, timeout: float) -> list[Reply]:
        """Return the bot's messages sent since the last call, waiting up to ``timeout`` for one.

        Returns an empty list on timeout.
        """
        ...
