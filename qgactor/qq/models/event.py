"""The base of every dispatch-event model: the context fields the envelope carries."""

from __future__ import annotations

from qgactor.qq.models.base import Model, context, model
from qgactor.qq.scene import ReplyTarget

__all__ = ["Event"]


@model
class Event(Model):
    """Any dispatch event. Unknown event names parse to this class itself.

    Context fields (not in ``d``; set by ``parse_event``): ``event_type`` (the ``t`` name),
    ``event_id`` (the envelope ``id``, usable as ``event_id`` for passive replies) and
    ``bot_id`` (the bot's own user id, used to strip its mentions from message text).
    """

    event_type: str | None = context()
    event_id: str | None = context()
    bot_id: str | None = context(repr=False)
    _reply: ReplyTarget | None = context(repr=False)

    def _make_reply_target(self) -> ReplyTarget | None:
        return None

    @property
    def reply_target(self) -> ReplyTarget | None:
        """Where and how to answer this event (``None`` if it cannot be answered).

        Created once per event object and cached, so its ``msg_seq`` counter is shared by
        every reply made through this object.
        """
        target = self._reply
        if target is None:
            target = self._reply = self._make_reply_target()
        return target
