"""Content markup of spec 6.9: escaping, mentions, mention stripping.

Inbound guild content has ``&``, ``<``, ``>`` escaped as ``&amp; &lt; &gt;``; real markup
(``<@!id>``, ``<qqbot-at-user id="..." />``, ``<#channel>``, ``<emoji:id>``) is not escaped.
So markup is recognised on the raw content and the text is unescaped afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "escape",
    "unescape",
    "strip_mentions",
    "mentioned_ids",
    "at_user",
    "at_everyone",
    "channel_link",
    "emoji",
]

_MENTION = re.compile(r'<@!?([^<>\s]+)>|<qqbot-at-user\s+id="([^"]*)"\s*/?>')
_AT_USER = re.compile(r'<qqbot-at-user\s+id="([^"]*)"\s*/?>')
_WHITESPACE = " \t\r\n\xa0\u3000"


def unescape(content: str) -> str:
    """Undo the platform's escaping: ``&lt;`` → ``<``, ``&gt;`` → ``>``, ``&amp;`` → ``&``."""
    if "&" not in content:
        return content
    return content.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(content: str) -> str:
    """Escape ``&``, ``<``, ``>`` in plain text so the platform does not read it as markup."""
    return content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mentioned_ids(content: str) -> list[str]:
    """The user ids mentioned in raw ``content`` (``<@id>``, ``<@!id>``, ``<qqbot-at-user id>``), in order."""
    return [m.group(1) or m.group(2) for m in _MENTION.finditer(content)]


def strip_mentions(content: str, bot_ids: str | Iterable[str] | None = None, *, unescape_text: bool = True) -> str:
    """Remove the mentions of ``bot_ids`` from raw ``content`` and trim surrounding whitespace.

    Every ``<@id>``, ``<@!id>`` and ``<qqbot-at-user id="id" />`` whose id is one of
    ``bot_ids`` is removed (other users' mentions stay). The result is unescaped unless
    ``unescape_text`` is false. ``bot_ids=None`` removes nothing but still trims (group
    messages arrive with the bot mention already removed and a leading space).
    """
    if isinstance(bot_ids, str):
        ids = {bot_ids}
    else:
        ids = {i for i in bot_ids or () if i}
    if ids:
        if "<@" in content:
            for i in ids:
                content = content.replace(f"<@!{i}>", "").replace(f"<@{i}>", "")
        if "<qqbot-at-user" in content:
            def _drop(m: re.Match[str]) -> str:
                return "" if m.group(1) in ids else m.group(0)

            content = _AT_USER.sub(_drop, content)
    content = content.strip(_WHITESPACE)
    return unescape(content) if unescape_text else content


def at_user(user_id: str, *, legacy: bool = False) -> str:
    """Markup mentioning ``user_id``: ``<qqbot-at-user id="..." />`` (or ``<@id>`` if ``legacy``)."""
    return f"<@{user_id}>" if legacy else f'<qqbot-at-user id="{user_id}" />'


def at_everyone(*, legacy: bool = False) -> str:
    """Markup mentioning everyone in a guild channel (needs permission)."""
    return "@everyone" if legacy else "<qqbot-at-everyone />"


def channel_link(channel_id: str) -> str:
    """Markup linking channel ``channel_id`` of the same guild."""
    return f"<#{channel_id}>"


def emoji(emoji_id: str | int) -> str:
    """Markup of system emoji ``emoji_id`` (type 1 emojis only)."""
    return f"<emoji:{emoji_id}>"
