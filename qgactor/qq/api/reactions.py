"""Emoji reactions with paging, audio control and the microphone (spec 6.8)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.http import Route
from qgactor.qq.models.resources import ReactionUsers, User

__all__ = ["ReactionsAudioMixin"]

_REACTION = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_type}/{emoji_id}"


class ReactionsAudioMixin(ApiBase):
    """Reactions on guild messages; audio playback and the bot's microphone in voice channels."""

    def _reaction(self, method: str, channel_id: str, message_id: str, emoji_type: int, emoji_id: str) -> Route:
        return Route(method, _REACTION, channel_id=channel_id, message_id=message_id,
                     emoji_type=int(emoji_type), emoji_id=emoji_id)

    async def put_reaction(self, channel_id: str, message_id: str, emoji_type: int, emoji_id: str) -> None:
        """``PUT .../reactions/{type}/{id}``: react (type 1 system emoji id, 2 emoji character)."""
        await self._none(self._reaction("PUT", channel_id, message_id, emoji_type, emoji_id))

    async def delete_reaction(self, channel_id: str, message_id: str, emoji_type: int, emoji_id: str) -> None:
        """``DELETE .../reactions/{type}/{id}``: remove the bot's own reaction."""
        await self._none(self._reaction("DELETE", channel_id, message_id, emoji_type, emoji_id))

    async def get_reaction_users(self, channel_id: str, message_id: str, emoji_type: int, emoji_id: str, *,
                                 cookie: str | None = None, limit: int = 20) -> ReactionUsers:
        """``GET .../reactions/{type}/{id}``: one page (``limit`` ≤ 50); pass ``cookie`` for the next."""
        params = drop_none(cookie=cookie, limit=None if cookie else limit)
        return await self._one(ReactionUsers, self._reaction("GET", channel_id, message_id, emoji_type, emoji_id),
                               params=params)

    async def iter_reaction_users(self, channel_id: str, message_id: str, emoji_type: int, emoji_id: str, *,
                                  page_size: int = 50) -> AsyncIterator[User]:
        """Every user who reacted, following ``cookie`` until ``is_end``."""
        cookie: str | None = None
        while True:
            page = await self.get_reaction_users(channel_id, message_id, emoji_type, emoji_id, cookie=cookie,
                                                 limit=page_size)
            for user in page.users:
                yield user
            if page.is_end or not page.cookie or page.cookie == cookie or not page.users:
                return
            cookie = page.cookie

    async def audio_control(self, channel_id: str, status: int, *, audio_url: str | None = None,
                            text: str | None = None) -> None:
        """``POST /channels/{channel_id}/audio``: ``status`` 0 start, 1 pause, 2 resume, 3 stop."""
        await self._none(Route("POST", "/channels/{channel_id}/audio", channel_id=channel_id),
                         json=drop_none(status=int(status), audio_url=audio_url, text=text))

    async def mic_on(self, channel_id: str) -> None:
        """``PUT /channels/{channel_id}/mic``: the bot takes the microphone."""
        await self._none(Route("PUT", "/channels/{channel_id}/mic", channel_id=channel_id))

    async def mic_off(self, channel_id: str) -> None:
        """``DELETE /channels/{channel_id}/mic``: the bot leaves the microphone."""
        await self._none(Route("DELETE", "/channels/{channel_id}/mic", channel_id=channel_id))
