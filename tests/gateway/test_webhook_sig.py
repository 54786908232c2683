"""Webhook signatures against the spec's official vectors (spec 5.2-5.4) and the sans-I/O handler."""

from __future__ import annotations

import json

import pytest

from qgactor.qq.webhook import (
    ACK_OK,
    WebhookHandler,
    derive_private_key,
    derive_seed,
    public_key_bytes,
    sign,
    validation_answer,
    verify,
)


def test_seed_and_public_key_match_official_demo() -> None:
    secret = "naOC0ocQE3shWLAfffVLB1rhYPG7"
    assert derive_seed(secret) == b"naOC0ocQE3shWLAfffVLB1rhYPG7naOC"
    expected = bytes([215, 195, 98, 254, 120, 174, 248, 31, 242, 50, 135, 180, 147, 98, 139, 93,
                      176, 42, 60, 79, 227, 11, 33, 94, 77, 25, 96, 155, 93, 118, 103, 58])
    assert public_key_bytes(derive_private_key(secret)) == expected


def test_op13_official_vector() -> None:
    key = derive_private_key("DG5g3B4j9X2KOErG")
    answer = validation_answer(key, "Arq0D5A61EgUu4OxUvOp", "1725442341")
    assert answer == {
        "plain_token": "Arq0D5A61EgUu4OxUvOp",
        "signature": "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d0"
                     "1bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706",
    }


def test_short_secret_repeats_and_empty_secret_is_rejected() -> None:
    assert derive_seed("ab") == b"ab" * 16
    with pytest.raises(ValueError, match="empty"):
        derive_seed("")


def test_verify_round_trip_and_rejections() -> None:
    key = derive_private_key("DG5g3B4j9X2KOErG")
    pub = key.public_key()
    sig = sign(key, "1725442341", b'{"op":0}')
    assert verify(pub, "1725442341", b'{"op":0}', sig)
    assert not verify(pub, "1725442342", b'{"op":0}', sig)  # other timestamp
    assert not verify(pub, "1725442341", b'{"op":1}', sig)  # other body
    assert not verify(pub, "1725442341", b'{"op":0}', "zz")  # not hex
    assert not verify(pub, "1725442341", b'{"op":0}', sig[:-2])  # 63 bytes
    bad_high = bytes.fromhex(sig)[:63] + bytes([0xE0])
    assert not verify(pub, "1725442341", b'{"op":0}', bad_high.hex())
    other = derive_private_key("another-secret-entirely")
    assert not verify(other.public_key(), "1725442341", b'{"op":0}', sig)


SECRET = "DG5g3B4j9X2KOErG"
NOW = 1_800_000_000


def _signed(body: dict, ts: int = NOW, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    sig = sign(derive_private_key(secret), str(ts), raw)
    return {"X-Signature-Ed25519": sig, "X-Signature-Timestamp": str(ts), "X-Bot-Appid": "1"}, raw


def _event(i: int) -> dict:
    return {"op": 0, "id": f"AT_MESSAGE_CREATE:{i}", "t": "AT_MESSAGE_CREATE",
            "d": {"id": f"m{i}", "content": "hi", "channel_id": "c"}}


def test_handler_dispatches_signed_event_and_acks_op12() -> None:
    h = WebhookHandler(SECRET)
    headers, body = _signed(_event(1))
    resp = h.handle(headers, body, NOW)
    assert resp.status == 200 and resp.body == ACK_OK
    assert resp.dispatch is not None and resp.dispatch.name == "AT_MESSAGE_CREATE"
    assert resp.dispatch.event_id == "AT_MESSAGE_CREATE:1"
    assert h.stats.dispatched == 1


def test_handler_rejects_missing_forged_stale_and_suppresses_replays() -> None:
    h = WebhookHandler(SECRET, max_skew=60)
    headers, body = _signed(_event(1))
    assert h.handle({}, body, NOW).status == 401
    forged_headers, _ = _signed(_event(1), secret="not-the-secret")
    assert h.handle(forged_headers, body, NOW).status == 403
    tampered = body.replace(b"hi", b"ho")
    assert h.handle(headers, tampered, NOW).status == 403
    assert h.handle(headers, body, NOW + 61).status == 403  # replayed later: stale
    assert h.stats.stale == 1 and h.stats.forged == 2 and h.stats.unsigned == 1
    first = h.handle(headers, body, NOW)
    assert first.dispatch is not None
    again = h.handle(headers, body, NOW + 5)  # exact replay within the window
    assert again.status == 200 and again.dispatch is None
    repushed_headers, repushed = _signed(_event(1), ts=NOW + 7)  # platform re-push, same event id
    assert h.handle(repushed_headers, repushed, NOW + 7).dispatch is None
    assert h.stats.dispatched == 1 and h.stats.duplicates == 2


def test_handler_op13_signed_and_unsigned_but_no_signing_oracle() -> None:
    h = WebhookHandler(SECRET)
    body = {"op": 13, "d": {"plain_token": "Arq0D5A61EgUu4OxUvOp", "event_ts": "1725442341"}}
    raw = json.dumps(body).encode()
    resp = h.handle({}, raw, NOW)
    assert resp.status == 200 and resp.body["signature"].startswith("87befc99")
    headers, raw = _signed(body)
    assert h.handle(headers, raw, NOW).body["plain_token"] == "Arq0D5A61EgUu4OxUvOp"
    # a plain_token that looks like an event body would turn op 13 into a signing oracle
    evil = {"op": 13, "d": {"plain_token": '{"op":0,"t":"AT_MESSAGE_CREATE"}', "event_ts": "1"}}
    resp = h.handle({}, json.dumps(evil).encode(), NOW)
    assert resp.status == 401 and "signature" not in resp.body
    # ... and, unsigned, it is only an unsigned request: no bad frame whose raw text gets logged
    assert resp.bad_frame is None and h.stats.unsigned == 1 and h.stats.bad_frames == 0
    signed_evil_headers, signed_evil = _signed(evil)
    resp = h.handle(signed_evil_headers, signed_evil, NOW)  # signed by the platform: a bad frame
    assert resp.status == 400 and resp.bad_frame is not None and h.stats.bad_frames == 1


def test_handler_bad_bodies_are_counted_not_raised() -> None:
    h = WebhookHandler(SECRET)
    for raw in (b"not json", b"[1,2]", b'{"op":0,"t":"NO_SUCH_EVENT","d":{}}', b'{"op":99}', b"\xff\xfe"):
        sig = sign(derive_private_key(SECRET), str(NOW), raw)
        resp = h.handle({"x-signature-ed25519": sig, "x-signature-timestamp": str(NOW)}, raw, NOW)
        assert resp.status == 400 and resp.dispatch is None and resp.bad_frame is not None
    assert h.stats.bad_frames == 5


def test_forget_lets_the_platforms_retry_of_an_undelivered_event_through() -> None:
    h = WebhookHandler(SECRET)
    headers, body = _signed(_event(1))
    first = h.handle(headers, body, NOW)
    assert first.dispatch is not None and "signature" not in repr(first)
    h.forget(first)  # e.g. the dispatcher was gone: the request got no op 12
    retry = h.handle(headers, body, NOW + 3)  # the platform retries the same request
    assert retry.dispatch is not None and retry.dispatch.event_id == "AT_MESSAGE_CREATE:1"
    assert h.handle(headers, body, NOW + 4).dispatch is None  # delivered now: a duplicate again
    assert h.stats.dispatched == 1 and h.stats.duplicates == 1
    h.forget(h.handle({}, body, NOW))  # nothing to forget for a rejected request: no error


def test_webhook_spec_shares_one_duplicate_window_across_incarnations() -> None:
    from qgactor.bot.gateway import webhook_spec

    spec = webhook_spec(secret=SECRET, appid="1", sink=None, port=0)  # type: ignore[arg-type]
    first, restarted = (spec.factory(*spec.args, **spec.kwargs) for _ in range(2))
    headers, body = _signed(_event(1))
    assert first.handler.handle(headers, body, NOW).dispatch is not None
    again = restarted.handler.handle(headers, body, NOW + 1)  # re-delivered after a restart
    assert again.status == 200 and again.dispatch is None
    with pytest.raises(ValueError):
        webhook_spec(secret="", appid="1", sink=None, port=0)  # type: ignore[arg-type]
