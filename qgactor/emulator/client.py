"""``ControlClient``: a small async httpx client of the control API (``/_emulator/``)."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["ControlClient", "ControlError"]


class ControlError(RuntimeError):
    """The control API refused a request; ``status`` and ``body`` say why."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"control API answered {status}: {message}")
        self.status = status
        self.body = body


class ControlClient:
    """Drives an emulator over HTTP. Every method raises :class:`ControlError` on refusal."""

    def __init__(self, base_url: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=30.0)
        self._own = client is None

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own:
            await self._client.aclose()

    async def _call(self, method: str, path: str, *, json: Any = None, params: Any = None,
                    timeout: float | None = None) -> Any:
        kw: dict[str, Any] = {}
        if timeout is not None:
            kw["timeout"] = timeout + 10.0
        resp = await self._client.request(method, f"{self.base_url}/_emulator{path}", json=json,
                                          params=params, **kw)
        body = resp.json() if resp.content else None
        if resp.status_code >= 400:
            raise ControlError(resp.status_code, body)
        return body

    # -------------------------------------------------------------- inbound traffic
    async def send_message(self, scene: str = "guild", content: str = "", *, at_bot: bool = True,
                           user: str | None = None, channel: str | None = None, guild: str | None = None,
                           group: str | None = None, mentions: list[str] | None = None,
                           attachments: list[dict[str, Any]] | None = None,
                           extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Inject a user message in ``scene`` (guild, dm, group, c2c).

        ``at_bot`` makes it an @-message (AT_MESSAGE_CREATE / GROUP_AT_MESSAGE_CREATE;
        otherwise MESSAGE_CREATE / GROUP_MESSAGE_CREATE). ``user`` is a user id, username or
        openid (default: the first user); ``channel``/``guild``/``group`` pick the place
        (default: the first). Returns ``{"t", "id", "d", "sessions", "message_id",
        "event_id", "scene"}``.
        """
        body = {"scene": scene, "content": content, "at_bot": at_bot, "user": user, "channel": channel,
                "guild": guild, "group": group, "mentions": mentions or [],
                "attachments": attachments or [], "extra": extra or {}}
        return await self._call("POST", "/messages", json=body)

    async def send_burst(self, count: int, scene: str = "group", content: str = "burst", *,
                         at_bot: bool = True, **where: Any) -> dict[str, Any]:
        """Inject ``count`` user messages server-side in one call (benchmarks); contents are
        ``"{content} {i}"``; ``channels=[...]`` (guild scene) sends message ``i`` to
        ``channels[i % len(channels)]``. Returns ``{"count", "first_event_id", "last_event_id"}``."""
        body = {"count": count, "scene": scene, "content": content, "at_bot": at_bot, **where}
        return await self._call("POST", "/messages/burst", json=body, timeout=600)

    async def inject_event(self, name: str, data: dict[str, Any] | None = None, *, raw: bool = False,
                           shard_key: str | None = None, event_id: str | None = None) -> dict[str, Any]:
        """Dispatch event ``name``; ``data`` is merged over a realistic default payload
        (``raw=True`` sends ``data`` as is); ``event_id`` sets the envelope ``id`` (e.g. to
        re-push an event). Returns ``{"t", "id", "d", "sessions"}``."""
        return await self._call("POST", "/events", json={"name": name, "data": data, "raw": raw,
                                                         "shard_key": shard_key, "id": event_id})

    async def publish_batch(self, events: list[dict[str, Any]] | None = None, *, count: int | None = None,
                            template: dict[str, Any] | None = None) -> dict[str, Any]:
        """Publish many events in one call, in order: either ``events`` (each
        ``{"name", "data", "raw", "shard_key", "id"}`` as for :meth:`inject_event`) or ``count``
        copies of ``template`` where ``{i}`` in any string becomes the index (0-based).

        Nothing is published if any event is invalid (400 names the index). Returns
        ``{"count", "first_event_id", "last_event_id", "deliveries"}``.
        """
        body: dict[str, Any] = {"events": events} if events is not None else {"count": count, "template": template}
        return await self._call("POST", "/publish", json=body, timeout=600)

    async def send_raw_frame(self, text: str, *, session_id: str | None = None,
                             shard: int | None = None) -> dict[str, Any]:
        """Send ``text`` as one websocket text frame, as is (invalid JSON, unknown opcodes...),
        to the open gateway connections (narrowed by ``session_id`` / ``shard``). It takes no
        ``s`` and is not replayed on Resume. Returns ``{"connections", "sessions", "closing"}``;
        404 if ``session_id`` has no open connection."""
        return await self._call("POST", "/frames", json={"text": text, "session_id": session_id,
                                                         "shard": shard})

    # -------------------------------------------------------------- outbox
    async def outbox(self, *, scene: str | None = None, reply_to: str | None = None, after: int = 0,
                     accepted: bool | None = True, contains: str | None = None,
                     target: str | None = None) -> list[dict[str, Any]]:
        """Entries the bot sent (``accepted=None``: also the rejected ones), oldest first."""
        params = {k: v for k, v in {"scene": scene, "reply_to": reply_to, "after": after,
                                    "contains": contains, "target": target}.items() if v}
        params["accepted"] = "any" if accepted is None else str(accepted).lower()
        return await self._call("GET", "/outbox", params=params)

    async def outbox_count(self, *, scene: str | None = None, after: int = 0, accepted: bool | None = True,
                           contains: str | None = None, target: str | None = None) -> int:
        """How many entries :meth:`outbox` would return, without transferring them."""
        params = {k: v for k, v in {"scene": scene, "after": after, "contains": contains,
                                    "target": target}.items() if v}
        params["accepted"] = "any" if accepted is None else str(accepted).lower()
        return int((await self._call("GET", "/outbox/count", params=params))["count"])

    async def wait_for_reply(self, reply_to: str | None = None, *, timeout: float = 5.0,
                             scene: str | None = None, after: int = 0, contains: str | None = None,
                             accepted: bool | None = True, target: str | None = None) -> dict[str, Any]:
        """The first outbox entry matching the filters (e.g. the reply to message id
        ``reply_to``), waiting up to ``timeout`` s; raises :class:`ControlError` (408) if none."""
        body = {"reply_to": reply_to, "timeout": timeout, "scene": scene, "after": after,
                "contains": contains, "target": target,
                "accepted": "any" if accepted is None else accepted}
        return await self._call("POST", "/outbox/wait", json=body, timeout=timeout)

    async def clear_outbox(self) -> None:
        """Forget every outbox entry."""
        await self._call("DELETE", "/outbox")

    # -------------------------------------------------------------- faults
    async def fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """Inject a fault. ``kind``: ``drop``, ``reconnect`` (op 7), ``invalid_session`` (op 9),
        ``close`` (``code=``), ``audit`` (``count=``, ``result=``), ``stop_acks`` / ``resume_acks`` (optional ``session_id=``;
        gateway faults take ``session_id=`` or ``shard=`` to narrow; connections already closing
        are skipped and counted in ``closing``, and a ``session_id`` whose connection is
        closing answers 409), or ``rest`` with
        ``status=`` (5xx/429), ``delay=`` seconds, ``rate=`` 0..1, ``count=``,
        ``path_prefix=``, ``method=``."""
        return await self._call("POST", "/faults", json={"kind": kind, **options})

    async def drop(self, **target: Any) -> dict[str, Any]:
        """Drop gateway connections without a close frame."""
        return await self.fault("drop", **target)

    async def reconnect(self, **target: Any) -> dict[str, Any]:
        """Send op 7 Reconnect."""
        return await self.fault("reconnect", **target)

    async def invalid_session(self, **target: Any) -> dict[str, Any]:
        """Send op 9 Invalid Session (the session can no longer be resumed)."""
        return await self.fault("invalid_session", **target)

    async def close(self, code: int, **target: Any) -> dict[str, Any]:
        """Close gateway connections with ``code``."""
        return await self.fault("close", code=code, **target)

    async def stop_acks(self, session_id: str | None = None) -> dict[str, Any]:
        """Stop answering heartbeats (all sessions or one)."""
        return await self.fault("stop_acks", session_id=session_id)

    async def resume_acks(self, session_id: str | None = None) -> dict[str, Any]:
        """Answer heartbeats again."""
        return await self.fault("resume_acks", session_id=session_id)

    async def rest_fault(self, *, status: int | None = None, delay: float = 0.0, rate: float = 1.0,
                         count: int | None = None, path_prefix: str | None = None,
                         method: str | None = None) -> dict[str, Any]:
        """Make REST calls fail with ``status`` and/or wait ``delay`` s at ``rate``."""
        return await self.fault("rest", status=status, delay=delay, rate=rate, count=count,
                                path_prefix=path_prefix, method=method)

    async def audit(self, count: int = 1, *, result: str = "pass") -> dict[str, Any]:
        """Put the next ``count`` guild/DM sends under audit: they get 202 with code
        304023/304024 and ``data.message_audit.audit_id``, then MESSAGE_AUDIT_PASS (with the
        new message id) or MESSAGE_AUDIT_REJECT is dispatched (``result`` pass/reject)."""
        return await self.fault("audit", count=count, result=result)

    async def clear_faults(self) -> None:
        """Remove every fault."""
        await self._call("DELETE", "/faults")

    # -------------------------------------------------------------- state
    async def info(self) -> dict[str, Any]:
        """URLs, credentials, public key and the world's ids."""
        return await self._call("GET", "/info")

    async def sessions(self) -> dict[str, Any]:
        """Gateway sessions, connection count and session_start_limit."""
        return await self._call("GET", "/sessions")

    async def wait_for_sessions(self, count: int = 1, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` sessions are connected; raises :class:`ControlError` on timeout."""
        body = await self._call("POST", "/sessions/wait", json={"count": count, "timeout": timeout},
                                timeout=timeout)
        return body["sessions"]

    async def events(self) -> list[dict[str, Any]]:
        """The most recent published envelopes."""
        return await self._call("GET", "/events")

    async def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the platform clock forward (reply windows, token lifetimes)."""
        return await self._call("POST", "/clock/advance", json={"seconds": seconds})

    async def set_webhook(self, url: str | None, *, validate: bool = True) -> dict[str, Any]:
        """Deliver events to ``url`` (after the op 13 validation unless ``validate=False``);
        ``None`` stops webhook delivery."""
        return await self._call("POST", "/webhook", json={"url": url, "validate": validate})

    async def webhook_deliveries(self, *, wait: float | None = None) -> list[dict[str, Any]]:
        """Delivery records; with ``wait`` first wait until the queue is empty."""
        if wait is not None:
            return (await self._call("POST", "/webhook/wait", json={"timeout": wait}, timeout=wait))["deliveries"]
        return (await self._call("GET", "/webhook"))["deliveries"]
