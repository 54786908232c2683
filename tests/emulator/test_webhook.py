"""Webhook delivery (spec 5): Ed25519 signatures, op 13 validation, op 12 acks and retries."""

from __future__ import annotations

import json
from functools import partial
from typing import Any, AsyncIterator

import attrs
import pytest
import trio
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypercorn.config import Config
from hypercorn.trio import serve

from qgactor.emulator import Emulator, public_key_bytes, seed_from_secret, validation_signature


def test_key_derivation_matches_the_official_vector() -> None:
    assert seed_from_secret("naOC0ocQE3shWLAfffVLB1rhYPG7") == b"naOC0ocQE3shWLAfffVLB1rhYPG7naOC"
    assert list(public_key_bytes("naOC0ocQE3shWLAfffVLB1rhYPG7")) == [
        215, 195, 98, 254, 120, 174, 248, 31, 242, 50, 135, 180, 147, 98, 139, 93, 176, 42, 60, 79,
        227, 11, 33, 94, 77, 25, 96, 155, 93, 118, 103, 58]


def test_op13_official_vector() -> None:
    assert validation_signature("DG5g3B4j9X2KOErG", "1725442341", "Arq0D5A61EgUu4OxUvOp") == (
        "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d0"
        "1bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706")


@attrs.define
class BotSide:
    """A minimal bot webhook endpoint written from the spec, independent of the emulator."""

    secret: str
    fail_first: int = 0  # answer 500 to the first N dispatches
    retry_first: int = 0  # answer {"op":12,"d":1} to the next N dispatches
    received: list[dict[str, Any]] = attrs.Factory(list)
    attempts: int = 0
    bad_signatures: int = 0
    headers: list[dict[str, str]] = attrs.Factory(list)
    arrived: trio.Event = attrs.Factory(trio.Event)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                m = await receive()
                if m["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        payload = json.loads(body)
        key = Ed25519PublicKey.from_public_bytes(
            Ed25519PrivateKey.from_private_bytes((self.secret * 32)[:32].encode()).public_key().public_bytes_raw())
        if payload["op"] == 13:
            d = payload["d"]
            priv = Ed25519PrivateKey.from_private_bytes((self.secret * 32)[:32].encode())
            sig = priv.sign((d["event_ts"] + d["plain_token"]).encode()).hex()
            await self._answer(send, 200, json.dumps({"plain_token": d["plain_token"], "signature": sig}).encode())
            return
        self.attempts += 1
        try:
            sig = bytes.fromhex(headers["x-signature-ed25519"])
            assert len(sig) == 64 and sig[63] & 224 == 0
            key.verify(sig, headers["x-signature-timestamp"].encode() + body)
        except (InvalidSignature, AssertionError, KeyError, ValueError):
            self.bad_signatures += 1
            await self._answer(send, 403, b"")
            return
        self.headers.append(headers)
        if self.fail_first > 0:
            self.fail_first -= 1
            await self._answer(send, 500, b"")
            return
        if self.retry_first > 0:
            self.retry_first -= 1
            await self._answer(send, 200, b'{"op": 12, "d": 1}')
            return
        self.received.append(payload)
        self.arrived.set()
        await self._answer(send, 200, b'{"op": 12, "d": 0}')

    async def _answer(self, send, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def bot_side(emu: Emulator) -> AsyncIterator[tuple[BotSide, str]]:
    bot = BotSide(emu.secret)
    cfg = Config()
    cfg.bind = ["127.0.0.1:0"]
    cfg.accesslog = None
    async with trio.open_nursery() as n:
        binds = await n.start(partial(serve, bot, cfg))
        yield bot, binds[0] + "/qq/webhook"
        n.cancel_scope.cancel()


async def test_validation_and_signed_delivery(emu: Emulator, bot_side) -> None:
    bot, url = bot_side
    result = await emu.control.set_webhook(url)
    assert result["validation"]["ok"] is True
    sent = await emu.control.send_message("group", "via webhook")
    deliveries = await emu.control.webhook_deliveries(wait=5)
    assert deliveries[-1]["delivered"] is True and bot.bad_signatures == 0
    payload = bot.received[-1]
    assert payload["op"] == 0 and payload["t"] == "GROUP_AT_MESSAGE_CREATE"
    assert payload["id"] == sent["event_id"] and payload["d"]["id"] == sent["message_id"]
    h = bot.headers[-1]
    assert h["user-agent"] == "QQBot-Callback" and h["x-bot-appid"] == emu.appid
    assert h["x-signature-timestamp"].isdigit()


async def test_retries_on_5xx_and_op12_d1(emu: Emulator, bot_side) -> None:
    bot, url = bot_side
    bot.fail_first, bot.retry_first = 1, 1
    await emu.control.set_webhook(url)
    await emu.control.send_message("c2c", "retry me")
    deliveries = await emu.control.webhook_deliveries(wait=10)
    assert deliveries[-1]["delivered"] is True and deliveries[-1]["attempts"] == 3
    assert len(bot.received) == 1 and bot.attempts == 3


async def test_gives_up_after_the_retry_budget(emu: Emulator, bot_side) -> None:
    bot, url = bot_side
    bot.fail_first = 100
    await emu.control.set_webhook(url)
    await emu.control.send_message("c2c", "never")
    deliveries = await emu.control.webhook_deliveries(wait=10)
    assert deliveries[-1]["delivered"] is False and deliveries[-1]["attempts"] == 1 + emu.config.webhook_retries
    assert deliveries[-1]["last_status"] == 500


async def test_validation_failure_is_reported(emu: Emulator, bot_side) -> None:
    bot, url = bot_side
    bot.secret = "a-different-secret"
    from qgactor.emulator import ControlError
    with pytest.raises(ControlError) as info:
        await emu.control.set_webhook(url)
    assert info.value.status == 400 and "signature" in info.value.body["message"]
    # an unreachable URL fails cleanly too
    with pytest.raises(ControlError):
        await emu.control.set_webhook("http://127.0.0.1:9/nothing")


async def test_webhook_url_from_config_is_validated_and_used() -> None:
    from qgactor.emulator import World, open_emulator
    secret = World.load().secret
    bot = BotSide(secret)
    cfg = Config()
    cfg.bind = ["127.0.0.1:0"]
    cfg.accesslog = None
    async with trio.open_nursery() as n:
        binds = await n.start(partial(serve, bot, cfg))
        async with open_emulator(webhook_url=binds[0] + "/") as emu:
            sent = await emu.control.send_message("guild", "configured")
            deliveries = await emu.control.webhook_deliveries(wait=5)
            assert deliveries and deliveries[-1]["delivered"]
            assert bot.received[-1]["id"] == sent["event_id"] and bot.bad_signatures == 0
        n.cancel_scope.cancel()
