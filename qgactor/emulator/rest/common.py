"""Helpers shared by the REST route groups: lookups that raise the platform's errors,
argument coercion that tolerates the known client quirks (spec 8.9)."""

from __future__ import annotations

from typing import Any

from ..http import PlatformError, bad_body
from ..platform import Platform
from ..world import Guild

__all__ = ["guild_or_404", "channel_or_404", "member_or_404", "int_arg", "str_arg", "limit_arg"]


def guild_or_404(p: Platform, guild_id: str) -> Guild:
    """The guild ``guild_id`` or 404/10004."""
    guild = p.world.guilds.get(guild_id)
    if guild is None:
        raise PlatformError(404, 10004, f"unknown guild {guild_id}")
    return guild


def channel_or_404(p: Platform, channel_id: str) -> tuple[Guild, dict[str, Any]]:
    """The guild and channel of ``channel_id`` or 404/10003."""
    found = p.world.channel(channel_id)
    if found is None:
        raise PlatformError(404, 10003, f"unknown channel {channel_id}")
    return found


def member_or_404(guild: Guild, user_id: str) -> dict[str, Any]:
    """The member record of ``user_id`` in ``guild`` or 404/10001."""
    member = guild.members.get(user_id)
    if member is None:
        raise PlatformError(404, 10001, f"unknown member {user_id} in guild {guild.id}")
    return member


def int_arg(value: Any, name: str, *, default: int | None = None, lo: int | None = None,
            hi: int | None = None) -> int:
    """Coerce an int field (accepts numeric strings; ``"None"`` counts as missing)."""
    if value is None or value == "" or value == "None":
        if default is None:
            raise bad_body(f"{name} is required")
        return default
    if isinstance(value, bool):
        raise bad_body(f"{name} must be an integer")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise bad_body(f"{name} must be an integer, got {value!r}") from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise bad_body(f"{name} must be between {lo} and {hi}, got {n}")
    return n


def limit_arg(value: Any, *, default: int, hi: int) -> int:
    """A ``limit`` query parameter between 1 and ``hi``."""
    return int_arg(value, "limit", default=default, lo=1, hi=hi)


def str_arg(body: dict[str, Any], name: str, *, required: bool = False, alias: str | None = None) -> str | None:
    """A string field (ints are stringified; ``alias`` is an accepted misspelling)."""
    value = body.get(name)
    if value is None and alias is not None:
        value = body.get(alias)
    if value is None or value == "None":
        if required:
            raise bad_body(f"{name} is required")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise bad_body(f"{name} must be a string")
    return value
