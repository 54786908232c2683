"""User, guild and gateway endpoints (spec 6.2)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.http import Route
from qgactor.qq.models.resources import GatewayBotInfo, GatewayInfo, Guild, MessageSetting, User

__all__ = ["UsersMixin"]


class UsersMixin(ApiBase):
    """``/users/@me``, the bot's guilds, one guild, its message settings and the gateway URLs."""

    async def get_me(self) -> User:
        """``GET /users/@me``: the bot's own user."""
        return await self._one(User, Route("GET", "/users/@me"))

    async def get_me_guilds(self, *, before: str | None = None, after: str | None = None,
                            limit: int = 100) -> list[Guild]:
        """``GET /users/@me/guilds``: one page (``limit`` ≤ 100) of the bot's guilds."""
        params = drop_none(before=before, after=after, limit=limit)
        return await self._many(Guild, Route("GET", "/users/@me/guilds"), params=params)

    async def iter_me_guilds(self, *, page_size: int = 100) -> AsyncIterator[Guild]:
        """Every guild of the bot, paging with ``after`` until a short page."""
        after: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.get_me_guilds(after=after, limit=page_size)
            fresh = [g for g in page if g.id not in seen]
            for guild in fresh:
                seen.add(guild.id or "")
                yield guild
            if len(page) < page_size or not fresh:
                return
            after = page[-1].id

    async def get_guild(self, guild_id: str) -> Guild:
        """``GET /guilds/{guild_id}``."""
        return await self._one(Guild, Route("GET", "/guilds/{guild_id}", guild_id=guild_id))

    async def get_message_setting(self, guild_id: str) -> MessageSetting:
        """``GET /guilds/{guild_id}/message/setting``: the guild's message settings."""
        return await self._one(MessageSetting,
                               Route("GET", "/guilds/{guild_id}/message/setting", guild_id=guild_id))

    async def get_gateway(self) -> GatewayInfo:
        """``GET /gateway``: the websocket URL."""
        return await self._one(GatewayInfo, Route("GET", "/gateway"))

    async def get_gateway_bot(self) -> GatewayBotInfo:
        """``GET /gateway/bot``: the URL, recommended shards and the session start budget."""
        return await self._one(GatewayBotInfo, Route("GET", "/gateway/bot"))
