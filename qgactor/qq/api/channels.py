"""Channel endpoints: CRUD, online numbers, voice members, channel permissions (spec 6.3)."""

from __future__ import annotations

from typing import Any

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.http import Route
from qgactor.qq.models.resources import Channel, ChannelPermissions, Member

__all__ = ["ChannelsMixin", "permission_bits"]


def permission_bits(value: int | str | None) -> str | None:
    """A permission bitmap as the decimal string the API wants (``0x6`` → ``"6"``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return str(int(value, 0)) if value.lower().startswith("0x") else str(int(value))
    return str(int(value))


class ChannelsMixin(ApiBase):
    """Channels (子频道) of a guild and their permissions."""

    async def get_channels(self, guild_id: str) -> list[Channel]:
        """``GET /guilds/{guild_id}/channels``."""
        return await self._many(Channel, Route("GET", "/guilds/{guild_id}/channels", guild_id=guild_id))

    async def get_channel(self, channel_id: str) -> Channel:
        """``GET /channels/{channel_id}``."""
        return await self._one(Channel, Route("GET", "/channels/{channel_id}", channel_id=channel_id))

    async def create_channel(self, guild_id: str, name: str, type: int = 0, *, position: int | None = None,
                             sub_type: int = 0, parent_id: str | None = None, private_type: int | None = None,
                             private_user_ids: list[str] | None = None, speak_permission: int | None = None,
                             application_id: str | None = None) -> Channel:
        """``POST /guilds/{guild_id}/channels`` (private-domain bots). Fires CHANNEL_CREATE."""
        body = drop_none(name=name, type=type, sub_type=sub_type, position=position, parent_id=parent_id,
                         private_type=private_type, private_user_ids=private_user_ids,
                         speak_permission=speak_permission, application_id=application_id)
        return await self._one(Channel, Route("POST", "/guilds/{guild_id}/channels", guild_id=guild_id),
                               json=body)

    async def patch_channel(self, channel_id: str, *, name: str | None = None, position: int | None = None,
                            parent_id: str | None = None, private_type: int | None = None,
                            speak_permission: int | None = None) -> Channel:
        """``PATCH /channels/{channel_id}``: change only the given fields. Fires CHANNEL_UPDATE."""
        body = drop_none(name=name, position=position, parent_id=parent_id, private_type=private_type,
                         speak_permission=speak_permission)
        if not body:
            raise ValueError("patch_channel needs at least one field to change")
        return await self._one(Channel, Route("PATCH", "/channels/{channel_id}", channel_id=channel_id),
                               json=body)

    async def delete_channel(self, channel_id: str) -> None:
        """``DELETE /channels/{channel_id}``. Fires CHANNEL_DELETE."""
        await self._none(Route("DELETE", "/channels/{channel_id}", channel_id=channel_id))

    async def get_online_nums(self, channel_id: str) -> int:
        """``GET /channels/{channel_id}/online_nums``: members online in an audio/live channel."""
        data: Any = await self._call(Route("GET", "/channels/{channel_id}/online_nums", channel_id=channel_id))
        return int(data.get("online_nums", 0)) if isinstance(data, dict) else 0

    async def get_voice_members(self, channel_id: str) -> list[Member]:
        """``GET /channels/{channel_id}/voice/members`` (internal API, unverified in the docs)."""
        return await self._many(Member, Route("GET", "/channels/{channel_id}/voice/members",
                                              channel_id=channel_id))

    async def get_channel_member_permissions(self, channel_id: str, user_id: str) -> ChannelPermissions:
        """``GET /channels/{channel_id}/members/{user_id}/permissions``."""
        return await self._one(ChannelPermissions, Route(
            "GET", "/channels/{channel_id}/members/{user_id}/permissions", channel_id=channel_id, user_id=user_id))

    async def put_channel_member_permissions(self, channel_id: str, user_id: str, *,
                                             add: int | str | None = None,
                                             remove: int | str | None = None) -> None:
        """``PUT /channels/{channel_id}/members/{user_id}/permissions``: add/remove bits (remove wins)."""
        body = drop_none(add=permission_bits(add), remove=permission_bits(remove))
        await self._none(Route("PUT", "/channels/{channel_id}/members/{user_id}/permissions",
                               channel_id=channel_id, user_id=user_id), json=body)

    async def get_channel_role_permissions(self, channel_id: str, role_id: str) -> ChannelPermissions:
        """``GET /channels/{channel_id}/roles/{role_id}/permissions``."""
        return await self._one(ChannelPermissions, Route(
            "GET", "/channels/{channel_id}/roles/{role_id}/permissions", channel_id=channel_id, role_id=role_id))

    async def put_channel_role_permissions(self, channel_id: str, role_id: str, *,
                                           add: int | str | None = None,
                                           remove: int | str | None = None) -> None:
        """``PUT /channels/{channel_id}/roles/{role_id}/permissions``."""
        body = drop_none(add=permission_bits(add), remove=permission_bits(remove))
        await self._none(Route("PUT", "/channels/{channel_id}/roles/{role_id}/permissions",
                               channel_id=channel_id, role_id=role_id), json=body)
