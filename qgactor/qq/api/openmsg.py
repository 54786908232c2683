"""Group and C2C messages, rich-media upload and recall (spec 6.6, 6.7)."""

from __future__ import annotations

import base64
from typing import Any

from qgactor.qq.api._base import ApiBase, drop_none
from qgactor.qq.api.messages import as_object
from qgactor.qq.http import Route
from qgactor.qq.models.resources import GroupMembersPage, MediaFile, SentMessage, UrlLink

__all__ = ["OpenMessagesMixin"]


def _open_body(msg_type: int, content: str | None, markdown: Any, keyboard: Any, ark: Any, embed: Any,
               media: Any, message_reference: Any, msg_id: str | None, event_id: str | None,
               msg_seq: int | None, extra: dict[str, Any]) -> dict[str, Any]:
    if isinstance(media, MediaFile):
        media = {"file_info": media.file_info}
    elif isinstance(media, str):
        media = {"file_info": media}
    if msg_type == 7 and not content:
        content = " "  # the platform requires a value with media messages (spec 6.6)
    body = drop_none(content=content, msg_type=int(msg_type), markdown=as_object(markdown),
                     keyboard=as_object(keyboard), ark=as_object(ark), embed=as_object(embed), media=media,
                     message_reference=as_object(message_reference), msg_id=msg_id, event_id=event_id,
                     msg_seq=msg_seq)
    body.update({k: as_object(v) for k, v in extra.items() if v is not None})
    return body


class OpenMessagesMixin(ApiBase):
    """The ``/v2`` API of QQ groups and single chats."""

    async def _post_open(self, route: Route, body: dict[str, Any]) -> SentMessage:
        # a (msg_id|event_id, msg_seq) pair is deduplicated by the platform: retries are safe
        dedup = "msg_seq" in body and ("msg_id" in body or "event_id" in body)
        return await self._one(SentMessage, route, json=body, dedup=dedup)

    async def post_group_message(self, group_openid: str, *, msg_type: int = 0, content: str | None = None,
                                 markdown: Any = None, keyboard: Any = None, ark: Any = None, embed: Any = None,
                                 media: Any = None, message_reference: Any = None, msg_id: str | None = None,
                                 event_id: str | None = None, msg_seq: int | None = None,
                                 **extra: Any) -> SentMessage:
        """``POST /v2/groups/{group_openid}/messages``.

        ``msg_type``: 0 text, 2 markdown, 3 ark, 4 embed, 7 media (``media`` = a ``MediaFile``,
        its ``file_info`` string or ``{"file_info": ...}``). A passive reply passes ``msg_id`` or
        ``event_id`` and a ``msg_seq`` unique per ``msg_id`` (see ``ReplyTarget.next_seq``).
        Raises ``ReplyExpired``, ``DuplicateMessage``/``SendUnconfirmed``, ``RateLimited``...
        """
        body = _open_body(msg_type, content, markdown, keyboard, ark, embed, media, message_reference,
                          msg_id, event_id, msg_seq, extra)
        return await self._post_open(Route("POST", "/v2/groups/{group_openid}/messages",
                                           group_openid=group_openid), body)

    async def post_c2c_message(self, openid: str, *, msg_type: int = 0, content: str | None = None,
                               markdown: Any = None, keyboard: Any = None, ark: Any = None, embed: Any = None,
                               media: Any = None, message_reference: Any = None, msg_id: str | None = None,
                               event_id: str | None = None, msg_seq: int | None = None,
                               **extra: Any) -> SentMessage:
        """``POST /v2/users/{openid}/messages``; fields as in ``post_group_message``."""
        body = _open_body(msg_type, content, markdown, keyboard, ark, embed, media, message_reference,
                          msg_id, event_id, msg_seq, extra)
        return await self._post_open(Route("POST", "/v2/users/{openid}/messages", openid=openid), body)

    @staticmethod
    def _upload_body(file_type: int, url: str | None, data: bytes | None, srv_send_msg: bool) -> dict[str, Any]:
        if (url is None) == (data is None):
            raise ValueError("upload needs exactly one of url= or data=")
        body: dict[str, Any] = {"file_type": int(file_type), "srv_send_msg": srv_send_msg}
        if url is not None:
            body["url"] = url
        else:
            assert data is not None
            body["file_data"] = base64.b64encode(data).decode("ascii")
        return body

    async def upload_group_media(self, group_openid: str, file_type: int = 1, *, url: str | None = None,
                                 data: bytes | None = None, srv_send_msg: bool = False) -> MediaFile:
        """``POST /v2/groups/{group_openid}/files``: upload media by ``url`` or raw ``data``
        (sent base64 in ``file_data``). ``file_type``: 1 image, 2 video, 3 voice, 4 file."""
        return await self._one(MediaFile, Route("POST", "/v2/groups/{group_openid}/files",
                                                group_openid=group_openid),
                               json=self._upload_body(file_type, url, data, srv_send_msg))

    async def upload_c2c_media(self, openid: str, file_type: int = 1, *, url: str | None = None,
                               data: bytes | None = None, srv_send_msg: bool = False) -> MediaFile:
        """``POST /v2/users/{openid}/files``; see ``upload_group_media``."""
        return await self._one(MediaFile, Route("POST", "/v2/users/{openid}/files", openid=openid),
                               json=self._upload_body(file_type, url, data, srv_send_msg))

    async def recall_group_message(self, group_openid: str, message_id: str) -> None:
        """``DELETE /v2/groups/{group_openid}/messages/{message_id}`` (own messages, within 2 min)."""
        await self._none(Route("DELETE", "/v2/groups/{group_openid}/messages/{message_id}",
                               group_openid=group_openid, message_id=message_id))

    async def recall_c2c_message(self, openid: str, message_id: str) -> None:
        """``DELETE /v2/users/{openid}/messages/{message_id}`` (own messages, within 2 min)."""
        await self._none(Route("DELETE", "/v2/users/{openid}/messages/{message_id}", openid=openid,
                               message_id=message_id))

    async def generate_url_link(self, callback_data: str | None = None) -> UrlLink:
        """``POST /v2/generate_url_link``: a share link (unverified endpoint)."""
        return await self._one(UrlLink, Route("POST", "/v2/generate_url_link"),
                               json=drop_none(callback_data=callback_data))

    async def get_group_members(self, group_openid: str, *, limit: int | None = None,
                                start_index: int | None = None) -> GroupMembersPage:
        """``POST /v2/groups/{group_openid}/members``: one page of members (unverified endpoint)."""
        return await self._one(GroupMembersPage, Route("POST", "/v2/groups/{group_openid}/members",
                                                       group_openid=group_openid),
                               json=drop_none(limit=limit, start_index=start_index))
