"""Webhook delivery (spec 5): signed POSTs of every event to the bot's callback URL.

Events are delivered in order by one worker task. A non-2xx answer, a transport error or
``{"op":12,"d":1}`` is retried ``webhook_retries`` times (policy UNVERIFIED, spec 5.5).
"""

from __future__ import annotations

import collections
import json
import logging
import secrets
import time
from typing import Any

import attrs
import httpx
import trio

from .config import EmulatorConfig
from .http import dump_json
from .signing import sign_payload, validation_signature
from .world import World

__all__ = ["WebhookDeliverer", "Delivery"]

log = logging.getLogger(__name__)


@attrs.define(slots=True)
class Delivery:
    """The outcome of delivering one event."""

    event_id: str | None
    t: str | None
    attempts: int = 0
    delivered: bool = False
    last_status: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return attrs.asdict(self)


class WebhookDeliverer:
    """Signs and POSTs events to ``url``; the worker runs in the emulator's nursery."""

    def __init__(self, world: World, config: EmulatorConfig) -> None:
        self._world = world
        self._config = config
        self.url: str | None = config.webhook_url
        self._send, self._recv = trio.open_memory_channel[dict[str, Any]](100_000)
        self.deliveries: collections.deque[Delivery] = collections.deque(maxlen=10_000)
        self._idle = trio.Event()
        self._idle.set()
        self._pending = 0

    def headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        """The platform's callback headers for ``body`` (signed)."""
        ts = timestamp or str(int(time.time()))
        return {
            "Content-Type": "application/json",
            "User-Agent": "QQBot-Callback",
            "X-Bot-Appid": self._world.appid,
            "X-Signature-Timestamp": ts,
            "X-Signature-Ed25519": sign_payload(self._world.secret, ts, body),
            "X-Signature-Method": "Ed25519",
        }

    def enqueue(self, payload: dict[str, Any]) -> None:
        """Queue an envelope for delivery (no-op when no URL is configured)."""
        if not self.url:
            return
        self._pending += 1
        self._idle = trio.Event() if self._idle.is_set() else self._idle
        self._send.send_nowait(payload)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued event was delivered or given up; False on timeout."""
        with trio.move_on_after(timeout):
            await self._idle.wait()
            return True
        return False

    async def run(self) -> None:
        """The delivery worker (runs until cancelled)."""
        client: httpx.AsyncClient | None = None
        try:
            async for payload in self._recv:
                if client is None:  # created on first use: most emulators never deliver webhooks
                    client = httpx.AsyncClient(timeout=self._config.webhook_timeout)
                try:
                    await self._deliver(client, payload)
                except Exception:  # a bug here must not stop later deliveries
                    log.exception("webhook delivery of %s crashed", payload.get("t"))
                finally:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()
        finally:
            if client is not None:
                with trio.CancelScope(shield=True):
                    await client.aclose()

    async def _deliver(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
        body = dump_json(payload).encode("utf-8")
        rec = Delivery(payload.get("id"), payload.get("t"))
        self.deliveries.append(rec)
        for attempt in range(1 + max(0, self._config.webhook_retries)):
            url = self.url
            if not url:
                rec.last_error = "webhook URL removed"
                return
            if attempt:
                await trio.sleep(self._config.webhook_retry_delay)
            rec.attempts += 1
            try:
                resp = await client.post(url, content=body, headers=self.headers(body))
            except httpx.HTTPError as exc:
                rec.last_error = f"{type(exc).__name__}: {exc}"
                continue
            rec.last_status = resp.status_code
            if not 200 <= resp.status_code < 300:
                rec.last_error = f"HTTP {resp.status_code}"
                continue
            if _asks_retry(resp.content):
                rec.last_error = 'bot answered {"op":12,"d":1}'
                continue
            rec.delivered, rec.last_error = True, None
            return
        log.warning("webhook event %s not delivered after %d attempts: %s", rec.t, rec.attempts, rec.last_error)

    async def validate(self, url: str) -> dict[str, Any]:
        """Run the op 13 callback-URL validation against ``url``.

        Returns ``{"ok": bool, "detail": str, ...}``; never raises for a bad bot answer.
        """
        plain_token = secrets.token_urlsafe(15)[:20]
        event_ts = str(int(time.time()))
        body = json.dumps({"d": {"plain_token": plain_token, "event_ts": event_ts}, "op": 13}).encode()
        expected = validation_signature(self._world.secret, event_ts, plain_token)
        async with httpx.AsyncClient(timeout=self._config.webhook_timeout) as client:
            try:
                resp = await client.post(url, content=body, headers=self.headers(body, event_ts))
            except httpx.HTTPError as exc:
                return {"ok": False, "detail": f"could not reach {url}: {type(exc).__name__}: {exc}"}
        try:
            answer = resp.json()
        except ValueError:
            return {"ok": False, "status": resp.status_code, "detail": "answer is not JSON"}
        if not isinstance(answer, dict) or answer.get("plain_token") != plain_token:
            return {"ok": False, "status": resp.status_code, "detail": "plain_token not echoed"}
        if answer.get("signature") != expected:
            return {"ok": False, "status": resp.status_code, "detail": "signature does not verify"}
        return {"ok": True, "status": resp.status_code, "detail": "validated"}


def _asks_retry(content: bytes) -> bool:
    if not content.strip():
        return False
    try:
        data = json.loads(content)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("op") == 12 and data.get("d") == 1
