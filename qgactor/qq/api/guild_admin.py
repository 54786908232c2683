"""Guild administration: mute, announcements, pins and schedules (spec 6.8)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.http import Route
from qgactor.qq.models.resources import Announce, MuteResult, PinsMessage, Schedule

__all__ = ["GuildAdminMixin"]


def _mute_body(seconds: int | None, end_timestamp: int | None) -> dict[str, Any]:
    if seconds is None and end_timestamp is None:
        raise ValueError("give seconds= (0 unmutes) or end_timestamp= (unix seconds)")
    return drop_none(mute_seconds=None if seconds is None else str(int(seconds)),
                     mute_end_timestamp=None if end_timestamp is None else str(int(end_timestamp)))


def _ms(value: int | str | None) -> str | None:
    return None if value is None else str(int(value))


class GuildAdminMixin(ApiBase):
    """Mute, announcements, pinned messages and channel schedules."""

    async def mute_all(self, guild_id: str, *, seconds: int | None = None,
                       end_timestamp: int | None = None) -> None:
        """``PATCH /guilds/{guild_id}/mute``: mute everyone (``seconds=0`` unmutes)."""
        await self._none(Route("PATCH", "/guilds/{guild_id}/mute", guild_id=guild_id),
                         json=_mute_body(seconds, end_timestamp))

    async def mute_member(self, guild_id: str, user_id: str, *, seconds: int | None = None,
                          end_timestamp: int | None = None) -> None:
        """``PATCH /guilds/{guild_id}/members/{user_id}/mute``."""
        await self._none(Route("PATCH", "/guilds/{guild_id}/members/{user_id}/mute", guild_id=guild_id,
                               user_id=user_id), json=_mute_body(seconds, end_timestamp))

    async def mute_members(self, guild_id: str, user_ids: Sequence[str], *, seconds: int | None = None,
                           end_timestamp: int | None = None) -> MuteResult:
        """``PATCH /guilds/{guild_id}/mute`` with ``user_ids``: mute several members at once."""
        body = _mute_body(seconds, end_timestamp) | {"user_ids": list(user_ids)}
        data = await self._call(Route("PATCH", "/guilds/{guild_id}/mute", guild_id=guild_id), json=body)
        return MuteResult.from_dict(data if isinstance(data, dict) else {})

    async def create_announce(self, guild_id: str, *, message_id: str | None = None,
                              channel_id: str | None = None, announces_type: int | None = None,
                              recommend_channels: Sequence[dict[str, str]] | None = None) -> Announce:
        """``POST /guilds/{guild_id}/announces``: a message announcement (``message_id`` +
        ``channel_id``) or up to 3 recommended channels (``[{channel_id, introduce}]``)."""
        if message_id is not None and channel_id is None:
            raise ValueError("a message announcement needs channel_id too")
        body = drop_none(message_id=message_id, channel_id=channel_id, announces_type=announces_type,
                         recommend_channels=None if recommend_channels is None else list(recommend_channels))
        return await self._one(Announce, Route("POST", "/guilds/{guild_id}/announces", guild_id=guild_id),
                               json=body)

    async def delete_announce(self, guild_id: str, message_id: str = "all") -> None:
        """``DELETE /guilds/{guild_id}/announces/{message_id}`` (``"all"`` removes every one)."""
        await self._none(Route("DELETE", "/guilds/{guild_id}/announces/{message_id}", guild_id=guild_id,
                               message_id=message_id))

    async def create_channel_announce(self, channel_id: str, message_id: str) -> Announce:
        """``POST /channels/{channel_id}/announces`` (deprecated by the platform in 2022)."""
        return await self._one(Announce, Route("POST", "/channels/{channel_id}/announces", channel_id=channel_id),
                               json={"message_id": message_id})

    async def delete_channel_announce(self, channel_id: str, message_id: str = "all") -> None:
        """``DELETE /channels/{channel_id}/announces/{message_id}`` (deprecated)."""
        await self._none(Route("DELETE", "/channels/{channel_id}/announces/{message_id}",
                               channel_id=channel_id, message_id=message_id))

    async def put_pin(self, channel_id: str, message_id: str) -> PinsMessage:
        """``PUT /channels/{channel_id}/pins/{message_id}`` (at most 20 pins per channel)."""
        return await self._one(PinsMessage, Route("PUT", "/channels/{channel_id}/pins/{message_id}",
                                                  channel_id=channel_id, message_id=message_id), json={})

    async def delete_pin(self, channel_id: str, message_id: str = "all") -> None:
        """``DELETE /channels/{channel_id}/pins/{message_id}`` (``"all"`` unpins every one)."""
        await self._none(Route("DELETE", "/channels/{channel_id}/pins/{message_id}", channel_id=channel_id,
                               message_id=message_id))

    async def get_pins(self, channel_id: str) -> PinsMessage:
        """``GET /channels/{channel_id}/pins``."""
        return await self._one(PinsMessage, Route("GET", "/channels/{channel_id}/pins", channel_id=channel_id))

    async def get_schedules(self, channel_id: str, *, since: int | None = None) -> list[Schedule]:
        """``GET /channels/{channel_id}/schedules``: today's, or those ending after ``since`` (ms).
        ``since`` travels in a JSON body, as the docs show."""
        body = {"since": str(since)} if since is not None else None
        return await self._many(Schedule, Route("GET", "/channels/{channel_id}/schedules", channel_id=channel_id),
                                json=body)

    async def get_schedule(self, channel_id: str, schedule_id: str) -> Schedule:
        """``GET /channels/{channel_id}/schedules/{schedule_id}``."""
        return await self._one(Schedule, Route("GET", "/channels/{channel_id}/schedules/{schedule_id}",
                                               channel_id=channel_id, schedule_id=schedule_id))

    async def create_schedule(self, channel_id: str, *, name: str, start_timestamp: int | str,
                              end_timestamp: int | str, jump_channel_id: str | None = None,
                              remind_type: int | str = 0, description: str | None = None) -> Schedule:
        """``POST /channels/{channel_id}/schedules``; timestamps in milliseconds, ``remind_type`` 0-5."""
        schedule = drop_none(name=name, description=description, start_timestamp=_ms(start_timestamp),
                             end_timestamp=_ms(end_timestamp), jump_channel_id=jump_channel_id,
                             remind_type=str(remind_type))
        return await self._one(Schedule, Route("POST", "/channels/{channel_id}/schedules", channel_id=channel_id),
                               json={"schedule": schedule})

    async def patch_schedule(self, channel_id: str, schedule_id: str, *, name: str | None = None,
                             start_timestamp: int | str | None = None, end_timestamp: int | str | None = None,
                             jump_channel_id: str | None = None, remind_type: int | str | None = None,
                             description: str | None = None) -> Schedule:
        """``PATCH /channels/{channel_id}/schedules/{schedule_id}``: change the given fields."""
        schedule = drop_none(name=name, description=description, start_timestamp=_ms(start_timestamp),
                             end_timestamp=_ms(end_timestamp), jump_channel_id=jump_channel_id,
                             remind_type=None if remind_type is None else str(remind_type))
        return await self._one(Schedule, Route("PATCH", "/channels/{channel_id}/schedules/{schedule_id}",
                                               channel_id=channel_id, schedule_id=schedule_id),
                               json={"schedule": schedule})

    async def delete_schedule(self, channel_id: str, schedule_id: str) -> None:
        """``DELETE /channels/{channel_id}/schedules/{schedule_id}``."""
        await self._none(Route("DELETE", "/channels/{channel_id}/schedules/{schedule_id}",
                               channel_id=channel_id, schedule_id=schedule_id))
