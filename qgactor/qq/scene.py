"""Where a message lives and how to answer it: ``Scene`` and ``ReplyTarget``.

A ``ReplyTarget`` names the conversation (channel, DM session, group or user) and the
passive-reply ids (``msg_id`` or ``event_id``). It also owns the ``msg_seq`` counter of the
message it answers: each ``next_seq()`` returns 1, 2, 3... so replying several times to one
group/C2C message never reuses a ``(msg_id, msg_seq)`` pair (the platform rejects reuse).
Message models cache their target, so every reply through the same event object shares one
counter.
"""

from __future__ import annotations

import enum
import threading

import attrs

__all__ = ["Scene", "ReplyTarget"]

#: One lock for every target's counter: taken for a few instructions per reply, so sharing it
#: costs nothing, while a lock and a counter object per message cost ~100 bytes each.
_SEQ_LOCK = threading.Lock()


class Scene(enum.Enum):
    """The four places a bot talks: guild channel, guild DM, QQ group, QQ single chat."""

    GUILD = "guild"
    DM = "dm"
    GROUP = "group"
    C2C = "c2c"

    @property
    def is_open_platform(self) -> bool:
        """True for group and C2C (the ``/v2`` API with ``msg_type``/``msg_seq`` and media upload)."""
        return self in (Scene.GROUP, Scene.C2C)


@attrs.define(slots=True, eq=False)
class ReplyTarget:
    """A conversation plus the passive-reply ids of the message or event being answered.

    ``target_id`` is the channel id (guild), the DM session's guild id (dm), the group openid
    (group) or the user openid (c2c). ``msg_id`` / ``event_id``: passive reply ids (both
    ``None`` = a proactive message). ``next_seq()`` is thread-safe (plain-``def`` handlers run
    in worker threads).
    """

    scene: Scene
    target_id: str
    msg_id: str | None = None
    event_id: str | None = None
    _last: int = attrs.field(default=0, repr=False)

    def next_seq(self) -> int:
        """The next ``msg_seq`` for a reply to this message (1, 2, 3...)."""
        with _SEQ_LOCK:
            self._last += 1
            return self._last

    @property
    def last_seq(self) -> int:
        """The last ``msg_seq`` handed out (0 if none yet)."""
        return self._last

    @property
    def passive(self) -> bool:
        """True if this target answers a message or event (a passive reply)."""
        return self.msg_id is not None or self.event_id is not None
