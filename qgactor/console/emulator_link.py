"""A :class:`~qgactor.console.link.ChatLink` through the emulator's control API.

Messages are injected with ``POST /_emulator/messages`` (the emulator builds the real dispatch
event and sends it to the bot over its gateway or webhook); what the bot sends is read from the
outbox (``/_emulator/outbox``), including sends the platform rejected, which are shown with the
platform's error so a broken reply is visible in the console.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx
import trio

from qgactor.console.link import Place, Reply, WorldUser
from qgactor.console.render import render_message
from qgactor.emulator import ControlClient, ControlError

__all__ = ["EmulatorLink", "EmulatorUnreachable"]


class EmulatorUnreachable(Exception):
    """No emulator answers at the given URL."""


def _short(value: str | None) -> str:
    return (value or "")[:8]


class EmulatorLink:
    """Speaks as users of the emulator world and reads the bot's sends from the outbox.

    Build it with :meth:`connect` (a URL) or :meth:`for_emulator` (an in-process emulator).
    """

    def __init__(self, control: ControlClient, info: dict[str, Any], world: Any | None = None) -> None:
        self.control = control
        self.info = info
        self._world = world
        self._cursor = 0
        self._users = [WorldUser(u["username"], u["id"]) for u in info.get("users", [])]
        self._places: dict[str, list[Place]] = {"guild": [], "group": []}
        for guild in info.get("guilds", []):
            for channel_id in guild.get("channels", []):
                label, text = self._channel_label(guild, channel_id)
                if text:
                    self._places["guild"].append(Place("guild", channel_id, label))
        for group in info.get("groups", []):
            self._places["group"].append(Place("group", group["group_openid"], group.get("name") or group["group_openid"]))
        self._names = {p.target: p.label for ps in self._places.values() for p in ps}

    def _channel_label(self, guild: dict[str, Any], channel_id: str) -> tuple[str, bool]:
        if self._world is not None:
            g = self._world.guilds.get(guild["id"])
            channel = g.channels.get(channel_id) if g is not None else None
            if channel is not None:
                return f"#{channel.get('name', channel_id)}", channel.get("type", 0) == 0
        return f"#{channel_id}", True

    @classmethod
    @asynccontextmanager
    async def connect(cls, base_url: str) -> AsyncIterator[EmulatorLink]:
        """Connect to the emulator at ``base_url``; raises :class:`EmulatorUnreachable`."""
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as http:
            control = ControlClient(base_url, client=http)
            try:
                info = await control.info()
            except (httpx.HTTPError, ControlError, ValueError) as exc:
                raise EmulatorUnreachable(f"no emulator answers at {base_url}: {type(exc).__name__}: {exc}") from None
            link = cls(control, info)
            await link.skip_existing()
            yield link

    @classmethod
    async def for_emulator(cls, emulator: Any) -> EmulatorLink:
        """A link to an in-process :class:`qgactor.emulator.Emulator` (channel names known)."""
        info = await emulator.control.info()
        link = cls(emulator.control, info, world=emulator.world)
        await link.skip_existing()
        return link

    async def skip_existing(self) -> None:
        """Ignore everything already in the outbox (only new replies are shown)."""
        entries = await self.control.outbox(accepted=None)
        if entries:
            self._cursor = max(e["n"] for e in entries)

    # -- ChatLink -------------------------------------------------------------------------
    def users(self) -> list[WorldUser]:
        """The world's users, in world order."""
        return list(self._users)

    def places(self, scene: str) -> list[Place]:
        """Text channels (guild), groups (group), or the one private chat (dm, c2c)."""
        if scene in ("dm", "c2c"):
            return [Place(scene, None, "(private)")]
        return list(self._places.get(scene, []))

    def default_place(self, scene: str) -> Place:
        """The first place of ``scene``."""
        places = self.places(scene)
        return places[0] if places else Place(scene, None, "")

    async def send(self, place: Place, user: WorldUser, content: str, *, at_bot: bool) -> str:
        """Inject the message; returns its message id. Raises ``ControlError`` if refused."""
        kwargs: dict[str, Any] = {"at_bot": at_bot if place.scene in ("guild", "group") else True, "user": user.id}
        if place.scene == "guild" and place.target:
            kwargs["channel"] = place.target
        elif place.scene == "group" and place.target:
            kwargs["group"] = place.target
        result = await self.control.send_message(place.scene, content, **kwargs)
        return str(result.get("message_id") or result.get("id"))

    async def wait_replies(self, timeout: float) -> list[Reply]:
        """New outbox entries (accepted or rejected), waiting up to ``timeout`` for the first."""
        try:
            await self.control.wait_for_reply(timeout=timeout, after=self._cursor, accepted=None)
        except ControlError as exc:
            if exc.status == 408:
                return []
            raise
        entries = await self.control.outbox(after=self._cursor, accepted=None)
        if entries:
            self._cursor = max(e["n"] for e in entries)
        return [self.to_reply(e) for e in entries]

    def to_reply(self, entry: dict[str, Any]) -> Reply:
        """Turn an outbox entry into a :class:`Reply` (rejected sends say why)."""
        target = entry.get("target") or {}
        scene = entry.get("scene", "?")
        if scene == "guild":
            where = self._names.get(target.get("channel_id"), f"#{target.get('channel_id')}")
        elif scene == "group":
            where = self._names.get(target.get("group_openid"), _short(target.get("group_openid")))
        else:
            where = "(private)"
        body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
        lines = render_message(body)
        if not entry.get("accepted", True):
            response = entry.get("response") or {}
            lines = [f"! rejected by the platform (HTTP {entry.get('status')}, code {response.get('code')}: "
                     f"{response.get('message')})", *lines]
        reply_to = (entry.get("reply_to") or {}).get("id") or entry.get("msg_id") or entry.get("event_id")
        return Reply(scene=scene, where=where, lines=tuple(lines), reply_to=reply_to, body=body,
                     accepted=bool(entry.get("accepted", True)), n=int(entry.get("n", 0)))

    async def wait_connected(self, count: int = 1, *, timeout: float = 10.0) -> None:
        """Wait until ``count`` gateway sessions are connected; raises ``ControlError`` on timeout."""
        await self.control.wait_for_sessions(count, timeout=timeout)

    async def aclose(self) -> None:
        """Nothing to release (the control client belongs to whoever made it)."""
        await trio.lowlevel.checkpoint()
