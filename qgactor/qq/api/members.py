"""Members and roles of a guild (spec 6.3), with paging helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.http import Route
from qgactor.qq.models.resources import GuildRoles, Member, RoleCreated, RoleMembersPage

__all__ = ["MembersMixin", "argb_color"]

_HISTORY_DAYS = (0, 3, 7, 15, 30, -1)


def argb_color(color: int | str | Sequence[int] | None) -> int | None:
    """A role colour as the ARGB integer the API wants.

    Accepts an int (used as is), ``"#RRGGBB"``/``"RRGGBB"`` or an ``(r, g, b)`` tuple (alpha
    set to 0xFF). Raises ``ValueError`` for anything else.
    """
    if color is None or isinstance(color, int):
        return color
    if isinstance(color, str):
        hexpart = color.lstrip("#")
        if len(hexpart) != 6:
            raise ValueError(f"colour {color!r} is not #RRGGBB")
        return 0xFF000000 | int(hexpart, 16)
    r, g, b = (int(c) for c in color)
    if not all(0 <= c <= 255 for c in (r, g, b)):
        raise ValueError(f"colour {tuple(color)!r} has components outside 0..255")
    return 0xFF000000 | (r << 16) | (g << 8) | b


class MembersMixin(ApiBase):
    """Guild members, roles and role membership."""

    async def get_members(self, guild_id: str, *, after: str = "0", limit: int = 400) -> list[Member]:
        """``GET /guilds/{guild_id}/members``: one page (``limit`` 1-400) after user id ``after``."""
        return await self._many(Member, Route("GET", "/guilds/{guild_id}/members", guild_id=guild_id),
                                params={"after": after, "limit": limit})

    async def iter_members(self, guild_id: str, *, page_size: int = 400) -> AsyncIterator[Member]:
        """Every member of a guild, paging until an empty page. Pages may overlap; each user is
        yielded once."""
        after = "0"
        seen: set[str] = set()
        while True:
            page = await self.get_members(guild_id, after=after, limit=page_size)
            if not page:
                return
            fresh = 0
            for member in page:
                uid = member.user.id if member.user is not None else None
                if uid is None or uid in seen:
                    continue
                seen.add(uid)
                fresh += 1
                yield member
            last = page[-1].user.id if page[-1].user is not None else None
            if not fresh or last is None or last == after:
                return
            after = last

    async def get_member(self, guild_id: str, user_id: str) -> Member:
        """``GET /guilds/{guild_id}/members/{user_id}``."""
        return await self._one(Member, Route("GET", "/guilds/{guild_id}/members/{user_id}",
                                             guild_id=guild_id, user_id=user_id))

    async def delete_member(self, guild_id: str, user_id: str, *, add_blacklist: bool = False,
                            delete_history_msg_days: int = 0) -> None:
        """``DELETE /guilds/{guild_id}/members/{user_id}``: kick (and optionally blacklist).

        ``delete_history_msg_days`` is one of 0, 3, 7, 15, 30 or -1 (all); else ``ValueError``.
        """
        if delete_history_msg_days not in _HISTORY_DAYS:
            raise ValueError(f"delete_history_msg_days must be one of {_HISTORY_DAYS}")
        await self._none(Route("DELETE", "/guilds/{guild_id}/members/{user_id}", guild_id=guild_id,
                               user_id=user_id),
                         json={"add_blacklist": add_blacklist, "delete_history_msg_days": delete_history_msg_days})

    async def get_roles(self, guild_id: str) -> GuildRoles:
        """``GET /guilds/{guild_id}/roles``."""
        return await self._one(GuildRoles, Route("GET", "/guilds/{guild_id}/roles", guild_id=guild_id))

    async def create_role(self, guild_id: str, *, name: str | None = None,
                          color: int | str | Sequence[int] | None = None,
                          hoist: bool | None = None) -> RoleCreated:
        """``POST /guilds/{guild_id}/roles`` (at least one field). ``color``: see ``argb_color``."""
        body = self._role_body(name, color, hoist)
        return await self._one(RoleCreated, Route("POST", "/guilds/{guild_id}/roles", guild_id=guild_id),
                               json=body)

    async def patch_role(self, guild_id: str, role_id: str, *, name: str | None = None,
                         color: int | str | Sequence[int] | None = None,
                         hoist: bool | None = None) -> RoleCreated:
        """``PATCH /guilds/{guild_id}/roles/{role_id}``."""
        body = self._role_body(name, color, hoist)
        return await self._one(RoleCreated, Route("PATCH", "/guilds/{guild_id}/roles/{role_id}",
                                                  guild_id=guild_id, role_id=role_id), json=body)

    @staticmethod
    def _role_body(name: str | None, color: Any, hoist: bool | None) -> dict[str, Any]:
        body = drop_none(name=name, color=argb_color(color), hoist=None if hoist is None else int(hoist))
        if not body:
            raise ValueError("give at least one of name=, color=, hoist=")
        return body

    async def delete_role(self, guild_id: str, role_id: str) -> None:
        """``DELETE /guilds/{guild_id}/roles/{role_id}``."""
        await self._none(Route("DELETE", "/guilds/{guild_id}/roles/{role_id}", guild_id=guild_id, role_id=role_id))

    async def get_role_members(self, guild_id: str, role_id: str, *, start_index: str = "0",
                               limit: int = 400) -> RoleMembersPage:
        """``GET /guilds/{guild_id}/roles/{role_id}/members``: one page; ``next`` starts the next."""
        return await self._one(RoleMembersPage, Route("GET", "/guilds/{guild_id}/roles/{role_id}/members",
                                                      guild_id=guild_id, role_id=role_id),
                               params={"start_index": start_index, "limit": limit})

    async def iter_role_members(self, guild_id: str, role_id: str, *, page_size: int = 400) -> AsyncIterator[Member]:
        """Every member of a role, following ``next`` until it is empty or a page is empty."""
        start = "0"
        seen_starts = {start}
        while True:
            page = await self.get_role_members(guild_id, role_id, start_index=start, limit=page_size)
            for member in page.data:
                yield member
            if not page.data or not page.next or page.next in seen_starts:
                return
            start = str(page.next)
            seen_starts.add(start)

    async def add_member_role(self, guild_id: str, user_id: str, role_id: str, *,
                              channel_id: str | None = None) -> None:
        """``PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}``; ``channel_id`` for role 5."""
        body = {"channel": {"id": channel_id}} if channel_id else None
        await self._none(Route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                               guild_id=guild_id, user_id=user_id, role_id=role_id), json=body)

    async def remove_member_role(self, guild_id: str, user_id: str, role_id: str, *,
                                 channel_id: str | None = None) -> None:
        """``DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}``."""
        body = {"channel": {"id": channel_id}} if channel_id else None
        await self._none(Route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                               guild_id=guild_id, user_id=user_id, role_id=role_id), json=body)
