"""Scene-independent sending: ``send(target, *parts)`` and ``reply(event, *parts)``.

The builders of ``qgactor.qq.builders`` compile the parts for the target's scene; this mixin
picks the endpoint (channel, DM session, group, user), uploads group/C2C media first, and
adds the passive-reply ids: ``msg_id`` or ``event_id``, and for group/C2C the next ``msg_seq``
of the target's counter (so five replies to one group message carry msg_seq 1..5).
"""

from __future__ import annotations

from typing import Any

from qgactor.qq.api._base import shape_error
from qgactor.qq.api.messages import MessagesMixin
from qgactor.qq.api.openmsg import OpenMessagesMixin
from qgactor.qq.builders import Part, compose
from qgactor.qq.http import Route
from qgactor.qq.models.event import Event
from qgactor.qq.models.messages import Message
from qgactor.qq.models.resources import SentMessage
from qgactor.qq.scene import ReplyTarget, Scene

__all__ = ["SendMixin"]

_GUILD, _DM, _GROUP = Scene.GUILD, Scene.DM, Scene.GROUP  # (an enum member lookup costs ~0.1 us)
_OPEN = (Scene.GROUP, Scene.C2C)


class SendMixin(MessagesMixin, OpenMessagesMixin):
    """High-level sending for any scene."""

    async def send(self, target: ReplyTarget, *parts: Part, msg_seq: int | None = None) -> Message | SentMessage:
        """Send ``parts`` (``str``, ``Text``, ``Markdown``, ``Keyboard``, ``Ark``, ``Embed``,
        ``Image``/``Media``, ``Reference``) to ``target``.

        Guild/DM answers are the sent ``Message``; group/C2C answers a ``SentMessage`` (id and
        timestamp). ``msg_seq`` overrides the target's automatic counter (group/C2C only).
        Raises ``ValueError`` for an empty or contradictory message and the ``ApiError`` family
        (``ReplyExpired``, ``RateLimited``, ``MessageAudit``, ``SendUnconfirmed``...).
        """
        scene = target.scene
        if len(parts) == 1 and parts[0].__class__ is str and parts[0]:
            # plain text, the common reply: the body compose() builds, without compiling parts
            body: dict[str, Any] = {"content": parts[0], "msg_type": 0} if scene in _OPEN else {"content": parts[0]}
            file = upload = None
        else:
            out = compose(scene, parts)
            body, file, upload = out.body, out.file, out.upload
        if target.msg_id is not None:
            body["msg_id"] = target.msg_id
        elif target.event_id is not None:
            body["event_id"] = target.event_id
        if scene is _GUILD or scene is _DM:
            if scene is _GUILD:
                route = Route("POST", "/channels/{channel_id}/messages", channel_id=target.target_id)
            else:
                route = Route("POST", "/dms/{guild_id}/messages", guild_id=target.target_id)
            if file is not None:
                return await self._post_guild_message(route, body, file)
            # _post_guild_message / _one inlined: the reply waits in two frames less
            data = (await self._http.exchange(route, json=body))[1]
            if not isinstance(data, dict):
                raise shape_error(route, "an object", data)
            return Message._parse(data)  # type: ignore[no-any-return]
        if upload is not None:
            media = upload
            do_upload = self.upload_group_media if scene is _GROUP else self.upload_c2c_media
            uploaded = await do_upload(target.target_id, int(media.file_type), url=media.url, data=media.read())
            body["media"] = {"file_info": uploaded.file_info}
        if target.passive:
            body["msg_seq"] = msg_seq if msg_seq is not None else target.next_seq()
        if scene is _GROUP:
            route = Route("POST", "/v2/groups/{group_openid}/messages", group_openid=target.target_id)
        else:
            route = Route("POST", "/v2/users/{openid}/messages", openid=target.target_id)
        # _post_open / _one inlined (a (msg_id|event_id, msg_seq) pair is deduplicated by the
        # platform: retries are safe)
        dedup = "msg_seq" in body and ("msg_id" in body or "event_id" in body)
        data = (await self._http.exchange(route, json=body, dedup=dedup))[1]
        if not isinstance(data, dict):
            raise shape_error(route, "an object", data)
        return SentMessage._parse(data)  # type: ignore[no-any-return]

    async def reply(self, event: Event, *parts: Part, msg_seq: int | None = None) -> Message | SentMessage:
        """Answer ``event`` passively in its own scene (``event.reply_target``); see ``send``.

        Raises ``ValueError`` if the event cannot be answered (e.g. a guild member event has
        no channel).
        """
        target = event.reply_target
        if target is None or not target.target_id:
            raise ValueError(f"{type(event).__name__} ({event.event_type}) has no place to reply to; "
                             "use api.send(ReplyTarget(scene, id), ...) instead")
        return await self.send(target, *parts, msg_seq=msg_seq)
