"""Passive-reply bookkeeping (spec 6.10) and the outbox of everything the bot sent.

Each inbound message and event is recorded with its scene, target and platform time. Send
endpoints check the reply window of the scene, the 5-replies-per-id cap for group/C2C and
(msg_id, msg_seq) uniqueness, and proactive quotas.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import attrs
import trio

from .config import EmulatorConfig
from .http import PlatformError

__all__ = ["Inbound", "ReplyLedger", "OutboxEntry", "Outbox", "SCENES", "RECORDS_KEPT"]

SCENES = ("guild", "dm", "group", "c2c")

#: Inbound records kept for passive replies (the oldest are forgotten first).
RECORDS_KEPT = 200_000


@attrs.define(slots=True, eq=False)
class Inbound:
    """A message or event the bot may answer passively."""

    id: str
    kind: str  # "message" | "event"
    scene: str  # guild | dm | group | c2c
    time: float
    event: str
    guild_id: str | None = None
    channel_id: str | None = None
    group_openid: str | None = None
    user_openid: str | None = None
    content: str | None = None
    from_bot: bool = False
    replies: int = 0
    seqs: set[int] | None = None  # msg_seq values used by replies (created on the first reply)
    message_id: str | None = None  # the message this record is about (both kinds)
    event_id: str | None = None  # the envelope id of the dispatch that carried it

    def summary(self) -> dict[str, Any]:
        """What the outbox shows about the message a reply answered."""
        return {
            "id": self.id, "kind": self.kind, "scene": self.scene, "event": self.event,
            "message_id": self.message_id, "event_id": self.event_id,
            "content": self.content, "time": self.time, "guild_id": self.guild_id,
            "channel_id": self.channel_id, "group_openid": self.group_openid,
            "user_openid": self.user_openid,
        }

    def matches_target(self, scene: str, target: dict[str, str | None]) -> bool:
        """True if a send to ``target`` in ``scene`` may reference this record."""
        if scene in ("guild", "dm"):
            return self.scene == scene and self.guild_id == target.get("guild_id")
        if scene == "group":
            return self.scene == "group" and self.group_openid == target.get("group_openid")
        return self.scene == "c2c" and self.user_openid == target.get("openid")


class ReplyLedger:
    """Records inbound ids and enforces the passive-reply rules."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._records: dict[str, Inbound] = {}
        self._order: collections.deque[str] = collections.deque()
        self._proactive: dict[tuple[str, str, int], int] = {}
        self._channel_rate: dict[str, collections.deque[float]] = {}

    def record(self, rec: Inbound) -> None:
        """Remember ``rec`` (bounded: past :data:`RECORDS_KEPT` the oldest are forgotten)."""
        self._records[rec.id] = rec
        self._order.append(rec.id)
        while len(self._order) > RECORDS_KEPT:
            old = self._order.popleft()
            if old != rec.id:  # a re-recorded id stays (its newest record is the live one)
                self._records.pop(old, None)

    def get(self, rec_id: str) -> Inbound | None:
        """The record for a message or event id."""
        return self._records.get(rec_id)

    def check(self, scene: str, target: dict[str, str | None], body: dict[str, Any],
              now: float) -> tuple[Inbound | None, int | None]:
        """Validate a send; return the record it replies to (or ``None``) and its msg_seq.

        Raises :class:`PlatformError` with the platform's codes when a rule is broken.
        """
        cfg = self._config
        msg_id, event_id = body.get("msg_id"), body.get("event_id")
        if scene == "guild" and cfg.channel_rate_limit is not None:
            self._check_channel_rate(str(target.get("channel_id")), now)
        msg_seq: int | None = None
        if scene in ("group", "c2c"):
            raw_seq = body.get("msg_seq", 1)
            if isinstance(raw_seq, str) and raw_seq.strip().isdigit():
                raw_seq = int(raw_seq)
            if raw_seq is None:
                raw_seq = 1
            if isinstance(raw_seq, bool) or not isinstance(raw_seq, int) or raw_seq < 0:
                raise PlatformError(400, 12002, "request body invalid: msg_seq must be a non-negative integer")
            msg_seq = raw_seq
        ref = msg_id or event_id
        if not ref:
            self._check_proactive(scene, target, now)
            return None, msg_seq
        if not isinstance(ref, str):
            raise PlatformError(400, 12002, "request body invalid: msg_id/event_id must be strings")
        rec = self._records.get(ref)
        if rec is None or (msg_id and rec.kind != "message" and not event_id) \
                or not rec.matches_target(scene, target):
            raise PlatformError(400, 304026, f"bad reply msg id: {ref!r} is not a message/event of this {scene} target")
        if rec.from_bot:
            raise PlatformError(400, 50045, "cannot reply to the bot's own message")
        if now - rec.time > cfg.reply_window(scene):
            raise PlatformError(400, 304027, f"reply msg expired: the {scene} reply window is "
                                f"{cfg.reply_window(scene):g}s; send a new message instead")
        if scene in ("group", "c2c"):
            if rec.seqs is not None and msg_seq in rec.seqs:
                raise PlatformError(400, cfg.duplicate_seq_code,
                                    f"duplicate msg_seq {msg_seq} for {ref!r}; use a new msg_seq per reply")
            if rec.replies >= cfg.replies_per_msg:
                raise PlatformError(400, cfg.reply_limit_code,
                                    f"msg limit exceed: at most {cfg.replies_per_msg} replies per msg_id")
        return rec, msg_seq

    def commit(self, rec: Inbound | None, msg_seq: int | None) -> None:
        """Count an accepted reply against ``rec``."""
        if rec is None:
            return
        rec.replies += 1
        if msg_seq is not None:
            if rec.seqs is None:
                rec.seqs = set()
            rec.seqs.add(msg_seq)

    def _check_channel_rate(self, channel_id: str, now: float) -> None:
        window = self._channel_rate.setdefault(channel_id, collections.deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= (self._config.channel_rate_limit or math.inf):
            raise PlatformError(429, 20028, "channel write rate limit: at most "
                                f"{self._config.channel_rate_limit} messages per second per channel")
        window.append(now)

    def _check_proactive(self, scene: str, target: dict[str, str | None], now: float) -> None:
        policy = self._config.proactive
        if policy == "allow":
            return
        if policy == "deny":
            raise PlatformError(400, 304045, "proactive messages are not available; reply with msg_id or event_id")
        if scene == "guild":
            key, limit, period = str(target.get("channel_id")), 20, 86400
        elif scene == "dm":
            key, limit, period = str(target.get("guild_id")), 2, 86400
        elif scene == "group":
            key, limit, period = str(target.get("group_openid")), 4, 30 * 86400
        else:
            key, limit, period = str(target.get("openid")), 4, 30 * 86400
        slot = (scene, key, int(now // period))
        used = self._proactive.get(slot, 0)
        if used >= limit:
            raise PlatformError(400, 22009 if scene in ("group", "c2c") else 304045,
                                f"proactive message limit reached for this {scene} target ({limit} per "
                                f"{'day' if period == 86400 else 'month'}); reply to a message instead")
        self._proactive[slot] = used + 1


@attrs.define(slots=True, eq=False)
class OutboxEntry:
    """One send the bot made (accepted or rejected)."""

    n: int
    scene: str
    target: dict[str, str | None]
    method: str
    path: str
    body: Any
    msg_id: str | None
    event_id: str | None
    msg_seq: int | None
    reply: Inbound | None
    """The inbound message or event this send answered (passive reply), if any."""
    time: float
    status: int
    response: Any
    accepted: bool

    @property
    def reply_to(self) -> dict[str, Any] | None:
        """What the outbox shows about the message this send answered (``None``: proactive)."""
        return self.reply.summary() if self.reply is not None else None

    def refs(self) -> set[str]:
        """Every id a ``reply_to`` filter can find this entry by."""
        out = {self.msg_id, self.event_id}
        reply = self.reply
        if reply is not None:
            out.add(reply.id)
            out.add(reply.message_id)  # type: ignore[arg-type]
            out.add(reply.event_id)  # type: ignore[arg-type]
        out.discard(None)  # type: ignore[arg-type]
        return out

    @property
    def content(self) -> str | None:
        """The text content sent, if any."""
        return self.body.get("content") if isinstance(self.body, dict) else None

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return {
            "n": self.n, "scene": self.scene, "target": self.target, "method": self.method,
            "path": self.path, "body": self.body, "content": self.content, "msg_id": self.msg_id,
            "event_id": self.event_id, "msg_seq": self.msg_seq, "reply_to": self.reply_to,
            "time": self.time, "status": self.status, "response": self.response,
            "accepted": self.accepted,
        }


class Outbox:
    """Everything the bot sent, in order, with a way to wait for new entries.

    Bounded (the oldest entries are dropped past ``limit``); indexed by the ids a reply
    refers to, and ``after`` scans only the newer entries, so polling and waiting stay cheap
    however long a benchmark runs.
    """

    def __init__(self, limit: int) -> None:
        self._entries: collections.deque[OutboxEntry] = collections.deque(maxlen=limit)
        self._by_ref: dict[str, collections.deque[OutboxEntry]] = {}
        self._changed: trio.Event | None = None
        self._n = 0

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, scene: str, target: dict[str, str | None], method: str, path: str, body: Any,
               msg_seq: int | None, reply: Inbound | None, time: float, status: int, response: Any,
               accepted: bool) -> OutboxEntry:
        """Record a send (``msg_id``/``event_id`` are read from ``body``) and wake waiters."""
        self._n += 1
        if type(body) is dict:
            msg_id, event_id = body.get("msg_id"), body.get("event_id")
            msg_id = msg_id if type(msg_id) is str else None
            event_id = event_id if type(event_id) is str else None
        else:
            msg_id = event_id = None
        entry = OutboxEntry(self._n, scene, target, method, path, body, msg_id, event_id, msg_seq, reply,
                            time, status, response, accepted)
        if len(self._entries) == self._entries.maxlen:
            self._unindex(self._entries[0])
        self._entries.append(entry)
        for ref in entry.refs():
            found = self._by_ref.get(ref)
            if found is None:
                self._by_ref[ref] = found = collections.deque()
            found.append(entry)
        if self._changed is not None:
            self._changed.set()
            self._changed = None
        return entry

    def _unindex(self, old: OutboxEntry) -> None:
        for ref in old.refs():
            found = self._by_ref.get(ref)
            if found and found[0] is old:
                found.popleft()
                if not found:
                    del self._by_ref[ref]

    def clear(self) -> None:
        """Forget all entries (numbering continues)."""
        self._entries.clear()
        self._by_ref.clear()

    def _newer_than(self, after: int) -> list[OutboxEntry] | collections.deque[OutboxEntry]:
        entries = self._entries
        if after <= 0 or not entries or entries[0].n > after:
            return entries
        tail = []
        for e in reversed(entries):
            if e.n <= after:
                break
            tail.append(e)
        tail.reverse()
        return tail

    def query(self, *, scene: str | None = None, reply_to: str | None = None, after: int = 0,
              accepted: bool | None = True, contains: str | None = None,
              target: str | None = None) -> list[OutboxEntry]:
        """Entries matching every given filter, oldest first."""
        candidates = self._by_ref.get(reply_to, ()) if reply_to else self._newer_than(after)
        out = []
        for e in candidates:
            if e.n <= after or (scene and e.scene != scene):
                continue
            if accepted is not None and e.accepted != accepted:
                continue
            if contains and contains not in (e.content or ""):
                continue
            if target and target not in [v for v in e.target.values() if v]:
                continue
            out.append(e)
        return out

    async def wait(self, timeout: float, **filters: Any) -> OutboxEntry | None:
        """The first entry matching ``filters``, waiting up to ``timeout`` seconds."""
        after = filters.pop("after", 0)
        with trio.move_on_after(timeout):
            while True:
                found = self.query(after=after, **filters)
                if found:
                    return found[0]
                # entries never change: only newer ones can match from now on
                after = max(after, self._n)
                if self._changed is None:
                    self._changed = trio.Event()
                await self._changed.wait()
        return None
