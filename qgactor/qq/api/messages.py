"""Guild channel messages, DMs, interactions and setting guides (spec 6.4, 6.5)."""

from __future__ import annotations

import json as jsonlib
import mimetypes
from pathlib import Path
from typing import Any

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.http import Route
from qgactor.qq.models.messages import Message
from qgactor.qq.models.resources import DirectSession

__all__ = ["MessagesMixin", "as_object", "FileLike"]

#: A local image: raw bytes, a path, or ``(filename, bytes)``.
FileLike = bytes | str | Path | tuple[str, bytes]


def as_object(value: Any) -> Any:
    """A builder (anything with ``to_dict()``) as its dict; other values unchanged."""
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


def _file_part(file: FileLike) -> tuple[str, bytes, str]:
    if isinstance(file, tuple):
        name, raw = file
    elif isinstance(file, bytes):
        name, raw = "image.png", file
    else:
        path = Path(file)
        name, raw = path.name, path.read_bytes()
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, raw, mime


def _form_fields(body: dict[str, Any]) -> dict[str, str]:
    # object/array fields are JSON strings wrapped in their own key (the docs' form-data example)
    out = {}
    for key, val in body.items():
        if isinstance(val, (dict, list)):
            out[key] = jsonlib.dumps({key: val}, ensure_ascii=False)
        elif isinstance(val, bool):
            out[key] = "true" if val else "false"
        else:
            out[key] = str(val)
    return out


class MessagesMixin(ApiBase):
    """Guild channel and DM messages."""

    async def _post_guild_message(self, route: Route, body: dict[str, Any], file_image: FileLike | None) -> Message:
        if file_image is None:
            if not body:
                raise ValueError("the message is empty: give content, embed, ark, markdown or an image")
            return await self._one(Message, route, json=body)
        name, raw, mime = _file_part(file_image)
        return await self._one(Message, route, data=_form_fields(body), files={"file_image": (name, raw, mime)})

    @staticmethod
    def _guild_body(content: str | None, embed: Any, ark: Any, markdown: Any, keyboard: Any, image: str | None,
                    message_reference: Any, msg_id: str | None, event_id: str | None,
                    extra: dict[str, Any]) -> dict[str, Any]:
        body = drop_none(content=content, embed=as_object(embed), ark=as_object(ark),
                         markdown=as_object(markdown), keyboard=as_object(keyboard), image=image,
                         message_reference=as_object(message_reference), msg_id=msg_id, event_id=event_id)
        body.update({k: as_object(v) for k, v in extra.items() if v is not None})
        return body

    async def post_message(self, channel_id: str, *, content: str | None = None, embed: Any = None,
                           ark: Any = None, markdown: Any = None, keyboard: Any = None,
                           image: str | None = None, file_image: FileLike | None = None,
                           message_reference: Any = None, msg_id: str | None = None,
                           event_id: str | None = None, **extra: Any) -> Message:
        """``POST /channels/{channel_id}/messages``: send a guild channel message.

        Object fields take dicts or builders (``Embed``, ``Ark``, ``Markdown``, ``Keyboard``...).
        ``image`` is a URL; ``file_image`` a local image (bytes, path or ``(name, bytes)``),
        sent as multipart/form-data. ``msg_id``/``event_id`` make it a passive reply.
        Raises ``MessageAudit`` when the message waits for an audit.
        """
        body = self._guild_body(content, embed, ark, markdown, keyboard, image, message_reference,
                                msg_id, event_id, extra)
        return await self._post_guild_message(
            Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id), body, file_image)

    async def get_message(self, channel_id: str, message_id: str) -> Message:
        """``GET /channels/{channel_id}/messages/{message_id}`` (wrapped or bare answers)."""
        return await self._one(Message, Route("GET", "/channels/{channel_id}/messages/{message_id}",
                                              channel_id=channel_id, message_id=message_id), unwrap="message")

    async def get_messages(self, channel_id: str, *, around: str | None = None, before: str | None = None,
                           after: str | None = None, limit: int = 20) -> list[Message]:
        """``GET /channels/{channel_id}/messages``: up to ``limit`` (≤ 20) messages around/before/after an id."""
        params = drop_none(around=around, before=before, after=after, limit=limit)
        return await self._many(Message, Route("GET", "/channels/{channel_id}/messages", channel_id=channel_id),
                                params=params)

    async def patch_message(self, channel_id: str, message_id: str, *, markdown: Any = None,
                            keyboard: Any = None, msg_id: str | None = None,
                            event_id: str | None = None) -> Message:
        """``PATCH /channels/{channel_id}/messages/{message_id}``: edit a markdown/keyboard message."""
        body = drop_none(markdown=as_object(markdown), keyboard=as_object(keyboard), msg_id=msg_id,
                         event_id=event_id)
        return await self._one(Message, Route("PATCH", "/channels/{channel_id}/messages/{message_id}",
                                              channel_id=channel_id, message_id=message_id), json=body)

    async def delete_message(self, channel_id: str, message_id: str, *, hidetip: bool = False) -> None:
        """``DELETE /channels/{channel_id}/messages/{message_id}`` (``hidetip``: no recall notice)."""
        await self._none(Route("DELETE", "/channels/{channel_id}/messages/{message_id}",
                               channel_id=channel_id, message_id=message_id), params={"hidetip": hidetip})

    async def create_dms(self, recipient_id: str, source_guild_id: str) -> DirectSession:
        """``POST /users/@me/dms``: open a DM session with a guild member; send with its ``guild_id``."""
        return await self._one(DirectSession, Route("POST", "/users/@me/dms"),
                               json={"recipient_id": recipient_id, "source_guild_id": source_guild_id})

    async def post_dms(self, guild_id: str, *, content: str | None = None, embed: Any = None,
                       ark: Any = None, markdown: Any = None, keyboard: Any = None,
                       image: str | None = None, file_image: FileLike | None = None,
                       message_reference: Any = None, msg_id: str | None = None,
                       event_id: str | None = None, **extra: Any) -> Message:
        """``POST /dms/{guild_id}/messages``: send a DM (``guild_id`` of the DM session); see
        ``post_message`` for the fields."""
        body = self._guild_body(content, embed, ark, markdown, keyboard, image, message_reference,
                                msg_id, event_id, extra)
        return await self._post_guild_message(Route("POST", "/dms/{guild_id}/messages", guild_id=guild_id),
                                              body, file_image)

    async def delete_dms(self, guild_id: str, message_id: str, *, hidetip: bool = False) -> None:
        """``DELETE /dms/{guild_id}/messages/{message_id}`` (the bot's own DMs only)."""
        await self._none(Route("DELETE", "/dms/{guild_id}/messages/{message_id}", guild_id=guild_id,
                               message_id=message_id), params={"hidetip": hidetip})

    async def interaction_callback(self, interaction_id: str, code: int = 0) -> None:
        """``PUT /interactions/{interaction_id}``: ACK a button click (0 ok, 1 failed, 2 too
        frequent, 3 duplicate, 4 no permission, 5 admin only)."""
        await self._none(Route("PUT", "/interactions/{interaction_id}", interaction_id=interaction_id),
                         json={"code": code})

    async def post_setting_guide(self, channel_id: str, guild_id: str, *, content: str | None = None) -> Message:
        """``POST /channels/{channel_id}/settingguide``: send a setting guide for ``guild_id``."""
        body = drop_none(content=content, setting_guide={"guild_id": guild_id})
        return await self._one(Message, Route("POST", "/channels/{channel_id}/settingguide",
                                              channel_id=channel_id), json=body)

    async def post_dms_setting_guide(self, dms_guild_id: str, guild_id: str, *,
                                     content: str | None = None) -> Message:
        """``POST /dms/{guild_id}/settingguide``: a setting guide in a DM session."""
        body = drop_none(content=content, setting_guide={"guild_id": guild_id})
        return await self._one(Message, Route("POST", "/dms/{guild_id}/settingguide", guild_id=dms_guild_id),
                               json=body)
