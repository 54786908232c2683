"""The webhook receiver actor end to end with the emulator's signed deliveries over loopback."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import trio

from gw_helpers import Collected, Collector
from qgactor.bot.gateway import webhook_spec
from qgactor.emulator import Emulator, open_emulator, sign_payload
from qgactor.runtime import ActorRef, Mailbox, Overflow, open_actor_nursery


@asynccontextmanager
async def webhook_env(**kw) -> AsyncIterator[tuple[Emulator, ActorRef, Collected, str]]:
    async with open_emulator(seed=3, webhook_retries=0) as emu:
        async with open_actor_nursery() as system:
            box = Collected()
            sink = await system.spawn(Collector, box, name="sink",
                                      mailbox=Mailbox(capacity=100, overflow=Overflow.BACKPRESSURE))
            hook = await system.spawn(webhook_spec(secret=emu.secret, appid=emu.appid, sink=sink,
                                                   host="127.0.0.1", port=0, path="/qq/webhook", **kw))
            url = (await hook.ask("status"))["url"]
            yield emu, hook, box, url


def signed(emu: Emulator, payload: dict, ts: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    stamp = str(ts if ts is not None else int(time.time()))
    return body, {"X-Signature-Timestamp": stamp, "X-Signature-Ed25519": sign_payload(emu.secret, stamp, body),
                  "X-Bot-Appid": emu.appid, "User-Agent": "QQBot-Callback", "Content-Type": "application/json"}


async def test_op13_handshake_then_signed_events_are_dispatched_and_acked() -> None:
    async with webhook_env() as (emu, hook, box, url):
        result = await emu.control.set_webhook(url)  # the emulator runs the op 13 validation
        assert result["validation"]["ok"] is True
        sent = [await emu.control.send_message("group", f"hi {i}") for i in range(3)]
        deliveries = await emu.control.webhook_deliveries(wait=5.0)
        assert [d["delivered"] for d in deliveries] == [True, True, True]
        await box.wait_for(lambda evs: len(evs) == 3)
        assert [e.event_id for e in box.events] == [s["event_id"] for s in sent]
        assert all(e.transport == "webhook" and e.shard is None for e in box.events)
        assert box.events[0].data["id"] == sent[0]["message_id"]
        st = await hook.ask("status")
        assert st["validations"] == 1 and st["dispatched"] == 3


async def test_forged_unsigned_stale_and_replayed_requests_are_rejected() -> None:
    async with webhook_env(max_skew=30.0) as (emu, hook, box, url):
        payload = {"op": 0, "id": "AT_MESSAGE_CREATE:x1", "t": "AT_MESSAGE_CREATE",
                   "d": {"id": "m-x1", "content": "hello", "channel_id": "c"}}
        async with httpx.AsyncClient(timeout=5.0) as http:
            body, headers = signed(emu, payload)
            forged = dict(headers, **{"X-Signature-Ed25519": sign_payload("not-the-secret", headers["X-Signature-Timestamp"], body)})
            r = await http.post(url, content=body, headers=forged)
            assert r.status_code == 403
            tampered = body.replace(b"hello", b"hacked")
            assert (await http.post(url, content=tampered, headers=headers)).status_code == 403
            unsigned = {k: v for k, v in headers.items() if not k.startswith("X-Signature")}
            assert (await http.post(url, content=body, headers=unsigned)).status_code == 401
            old_body, old_headers = signed(emu, payload, ts=int(time.time()) - 3600)
            assert (await http.post(url, content=old_body, headers=old_headers)).status_code == 403
            wrong_app = dict(headers, **{"X-Bot-Appid": "999"})
            assert (await http.post(url, content=body, headers=wrong_app)).status_code == 403
            assert box.events == []
            ok = await http.post(url, content=body, headers=headers)
            assert ok.status_code == 200 and ok.json() == {"op": 12, "d": 0}
            replay = await http.post(url, content=body, headers=headers)
            assert replay.status_code == 200 and replay.json() == {"op": 12, "d": 0}
            repush_body, repush_headers = signed(emu, dict(payload, id="AT_MESSAGE_CREATE:x1-again"))
            assert (await http.post(url, content=repush_body, headers=repush_headers)).status_code == 200
            assert (await http.post(url.replace("/qq/webhook", "/other"), content=body, headers=headers)).status_code == 404
            assert (await http.get(url)).status_code == 405
            bad_body, bad_headers = signed(emu, {"op": 0, "t": "AT_MESSAGE_CREATE", "d": [1]})
            assert (await http.post(url, content=bad_body, headers=bad_headers)).status_code == 400
        await trio.sleep(0.05)
        assert [e.event_id for e in box.events] == ["AT_MESSAGE_CREATE:x1"]
        st = await hook.ask("status")
        assert (st["forged"], st["unsigned"], st["stale"], st["wrong_appid"], st["duplicates"], st["bad_frames"]) == \
            (2, 1, 1, 1, 2, 1)


async def test_webhook_port_in_use_is_a_clear_error() -> None:
    async with open_emulator(seed=3) as emu:
        port = int(emu.base_url.rsplit(":", 1)[1])
        try:
            async with open_actor_nursery(max_restarts=0) as system:
                sink = await system.spawn(Collector, Collected(), name="sink")
                await system.spawn(webhook_spec(secret=emu.secret, appid=emu.appid, sink=sink, port=port))
                await trio.sleep(5)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            text = repr(exc) + repr(exc.__cause__)
            while isinstance(exc, BaseExceptionGroup):
                exc = exc.exceptions[0]
            chain = [exc]
            while chain[-1].__cause__ is not None:
                chain.append(chain[-1].__cause__)
            assert any(isinstance(e, OSError) for e in chain), text
        else:
            raise AssertionError("binding a used port must fail")


def test_webhook_spec_repr_hides_the_secret() -> None:
    spec = webhook_spec(secret="very-secret-value-123", appid="1", sink=None, port=0)  # type: ignore[arg-type]
    assert "very-secret-value-123" not in repr(spec)


async def test_a_stopped_dispatcher_gets_503_and_the_retry_is_not_suppressed() -> None:
    async with webhook_env() as (emu, hook, box, url):
        sink = hook._spec.kwargs["sink"]
        payload = {"op": 0, "id": "AT_MESSAGE_CREATE:y1", "t": "AT_MESSAGE_CREATE",
                   "d": {"id": "m-y1", "content": "hello", "channel_id": "c"}}
        body, headers = signed(emu, payload)
        async with httpx.AsyncClient(timeout=5.0) as http:
            await hook._system.stop(sink)
            for _ in range(2):  # not acknowledged, so not remembered: the retry is tried again
                r = await http.post(url, content=body, headers=headers)
                assert r.status_code == 503 and "retry" in r.json()["error"]
        st = await hook.ask("status")
        assert (st["dispatched"], st["duplicates"]) == (0, 0)
