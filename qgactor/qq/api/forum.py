"""Forum threads and API permissions (spec 6.8)."""

from __future__ import annotations

import json as jsonlib
from typing import Any

from qgactor.qq.api._base import ApiBase
from qgactor.qq.http import Route
from qgactor.qq.models.resources import ApiPermission, ApiPermissionDemand, Thread, ThreadCreated, ThreadList

__all__ = ["ForumMixin"]


class ForumMixin(ApiBase):
    """Forum (帖子) channels and the guild's API permission list and demands."""

    async def get_threads(self, channel_id: str) -> ThreadList:
        """``GET /channels/{channel_id}/threads``: threads of a forum channel."""
        return await self._one(ThreadList, Route("GET", "/channels/{channel_id}/threads", channel_id=channel_id))

    async def get_thread(self, channel_id: str, thread_id: str) -> Thread:
        """``GET /channels/{channel_id}/threads/{thread_id}`` (the ``thread`` wrapper is removed)."""
        return await self._one(Thread, Route("GET", "/channels/{channel_id}/threads/{thread_id}",
                                             channel_id=channel_id, thread_id=thread_id), unwrap="thread")

    async def put_thread(self, channel_id: str, title: str, content: str | dict[str, Any], *,
                         format: int = 1) -> ThreadCreated:
        """``PUT /channels/{channel_id}/threads``: publish a thread. ``format`` 1 text, 2 html,
        3 markdown, 4 json (a dict ``content`` is sent as JSON with format 4)."""
        if isinstance(content, dict):
            content, format = jsonlib.dumps(content, ensure_ascii=False), 4
        return await self._one(ThreadCreated, Route("PUT", "/channels/{channel_id}/threads", channel_id=channel_id),
                               json={"title": title, "content": content, "format": int(format)})

    async def delete_thread(self, channel_id: str, thread_id: str) -> None:
        """``DELETE /channels/{channel_id}/threads/{thread_id}``."""
        await self._none(Route("DELETE", "/channels/{channel_id}/threads/{thread_id}", channel_id=channel_id,
                               thread_id=thread_id))

    async def get_api_permissions(self, guild_id: str) -> list[ApiPermission]:
        """``GET /guilds/{guild_id}/api_permission``: every API and whether it is authorised."""
        return await self._many(ApiPermission, Route("GET", "/guilds/{guild_id}/api_permission", guild_id=guild_id),
                                key="apis")

    async def create_api_permission_demand(self, guild_id: str, channel_id: str, path: str, method: str,
                                           desc: str = "") -> ApiPermissionDemand:
        """``POST /guilds/{guild_id}/api_permission/demand``: ask the guild admins (3 per day)."""
        body = {"channel_id": channel_id, "api_identify": {"path": path, "method": method.upper()}, "desc": desc}
        return await self._one(ApiPermissionDemand, Route("POST", "/guilds/{guild_id}/api_permission/demand",
                                                          guild_id=guild_id), json=body)
