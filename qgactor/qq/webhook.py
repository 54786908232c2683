"""Webhook (HTTP callback) signatures and request handling, sans-I/O (spec section 5).

- :func:`derive_private_key`: the Ed25519 key from the bot secret (seed = the secret repeated
  to 32 bytes, spec 5.2).
- :func:`sign` / :func:`verify`: signatures over ``timestamp + body`` (spec 5.3).
- :func:`validation_answer`: the op 13 callback-URL validation answer (spec 5.4).
- :class:`WebhookHandler`: one HTTP request (headers, body, now) in, a
  :class:`WebhookResponse` out (status, JSON body, and the event to dispatch if any) with
  signature, stale-timestamp and duplicate checks. The HTTP server actor wraps it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from qgactor.qq.gateway_dedup import BoundedSet, Deduplicator
from qgactor.qq.gateway_events import BadFrame, Dispatch
from qgactor.qq.gateway_frames import DEFAULT_MAX_FRAME, parse_envelope
from qgactor.qq.protocol import Opcode

__all__ = [
    "derive_seed",
    "derive_private_key",
    "public_key_bytes",
    "sign",
    "verify",
    "validation_answer",
    "WebhookHandler",
    "WebhookResponse",
    "WebhookStats",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ACK_OK",
    "encode_body",
]

SIGNATURE_HEADER = "x-signature-ed25519"
TIMESTAMP_HEADER = "x-signature-timestamp"
#: The op 12 acknowledgement body for a received event (``d: 0`` = received, no retry).
ACK_OK: dict[str, int] = {"op": int(Opcode.HTTP_CALLBACK_ACK), "d": 0}

_SAFE_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_DIGITS = re.compile(r"[0-9]{1,20}")


def derive_seed(secret: str) -> bytes:
    """The 32-byte Ed25519 seed: the secret repeated until >= 32 bytes, then truncated.

    Raises ``ValueError`` (without echoing the secret) if the secret is empty.
    """
    raw = secret.encode("utf-8")
    if not raw:
        raise ValueError("the bot secret is empty: set the app secret from the QQ Open Platform console")
    seed = raw
    while len(seed) < 32:
        seed = seed * 2
    return seed[:32]


def derive_private_key(secret: str) -> Ed25519PrivateKey:
    """The bot's Ed25519 private key derived from its secret (spec 5.2); ``ValueError`` if empty."""
    return Ed25519PrivateKey.from_private_bytes(derive_seed(secret))


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of ``key``."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(key: Ed25519PrivateKey, timestamp: str | bytes, body: str | bytes) -> str:
    """Hex Ed25519 signature of ``timestamp + body`` (what the platform puts in the header)."""
    return key.sign(_as_bytes(timestamp) + _as_bytes(body)).hex()


def verify(public_key: Ed25519PublicKey, timestamp: str | bytes, body: str | bytes, signature_hex: str) -> bool:
    """True if ``signature_hex`` signs ``timestamp + body``; False for anything else. Never raises.

    Follows spec 5.3: the signature must be 64 bytes of hex with ``sig[63] & 224 == 0``.
    """
    try:
        sig = bytes.fromhex(signature_hex)
    except (ValueError, TypeError):
        return False
    if len(sig) != 64 or sig[63] & 224:
        return False
    try:
        public_key.verify(sig, _as_bytes(timestamp) + _as_bytes(body))
    except InvalidSignature:
        return False
    return True


def validation_answer(key: Ed25519PrivateKey, plain_token: str, event_ts: str) -> dict[str, str]:
    """The op 13 answer body: ``{"plain_token", "signature": hex(sign(event_ts + plain_token))}``."""
    return {"plain_token": plain_token, "signature": sign(key, event_ts, plain_token)}


@attrs.frozen
class WebhookResponse:
    """What to answer one webhook request: HTTP ``status``, a JSON ``body`` (or ``None`` for an
    empty one), the :class:`Dispatch` to forward (or ``None``), and ``reason`` for logs."""

    status: int
    body: Any
    dispatch: Dispatch | None = None
    reason: str = ""
    bad_frame: BadFrame | None = None
    signature: str | None = attrs.field(default=None, repr=False)
    """The request's signature, kept with a dispatch for :meth:`WebhookHandler.forget`."""


@attrs.define
class WebhookStats:
    """Counters of the webhook receiver (read by status/progress)."""

    requests: int = 0
    dispatched: int = 0
    duplicates: int = 0
    bad_frames: int = 0
    unsigned: int = 0
    forged: int = 0
    stale: int = 0
    validations: int = 0


class WebhookHandler:
    """Checks and answers webhook requests for one bot (sans-I/O).

    ``max_skew`` is the accepted distance in seconds between ``X-Signature-Timestamp`` and
    ``now`` (older or newer requests are replays or forgeries: 403). Missing or malformed
    signature headers get 401, a wrong signature 403; neither is ever dispatched. Duplicate
    deliveries (same event id / message id, or the exact same signed request again) are
    acknowledged but not dispatched. :meth:`handle` never raises.
    """

    def __init__(
        self,
        secret: str,
        *,
        max_skew: float = 300.0,
        max_body: int = DEFAULT_MAX_FRAME,
        dedup_capacity: int = 10_000,
    ) -> None:
        """Derive the key from ``secret``; ``ValueError`` if the secret is empty."""
        self._key = derive_private_key(secret)
        self._public = self._key.public_key()
        self.max_skew = max_skew
        self.max_body = max_body
        self.stats = WebhookStats()
        self._dedup = Deduplicator(dedup_capacity)
        self._signatures = BoundedSet(dedup_capacity)

    def __repr__(self) -> str:
        return f"<WebhookHandler max_skew={self.max_skew} stats={self.stats}>"

    def handle(self, headers: Mapping[str, str], body: bytes, now: float) -> WebhookResponse:
        """Answer one POST. ``headers`` keys are matched case-insensitively; ``now`` is unix time."""
        self.stats.requests += 1
        lower = {k.lower(): v for k, v in headers.items()}
        signature = lower.get(SIGNATURE_HEADER)
        timestamp = lower.get(TIMESTAMP_HEADER)
        if len(body) > self.max_body:
            return self._bad(BadFrame(f"oversized body: {len(body)} > {self.max_body}", ""), 413)
        if signature is None or timestamp is None:
            answer = self._unsigned_validation(body)
            if answer is not None:
                return answer
            self.stats.unsigned += 1
            return WebhookResponse(401, {"error": "missing X-Signature-Ed25519 / X-Signature-Timestamp"},
                                   reason="unsigned request")
        if not _DIGITS.fullmatch(timestamp):
            self.stats.unsigned += 1
            return WebhookResponse(401, {"error": "malformed X-Signature-Timestamp"}, reason="bad timestamp header")
        if not verify(self._public, timestamp, body, signature):
            self.stats.forged += 1
            return WebhookResponse(403, {"error": "invalid signature"}, reason="signature check failed")
        if abs(now - int(timestamp)) > self.max_skew:
            self.stats.stale += 1
            return WebhookResponse(403, {"error": "stale timestamp"},
                                   reason=f"timestamp {timestamp} is more than {self.max_skew}s from now")
        env = parse_envelope(body, max_size=self.max_body)
        if isinstance(env, BadFrame):
            return self._bad(env, 400)
        if env.op == Opcode.CALLBACK_VALIDATION:
            return self._validation(env.d, body)
        if env.op != Opcode.DISPATCH:
            return self._bad(BadFrame(f"unexpected opcode {env.op} on the webhook", body.decode("utf-8", "replace")), 400)
        name = env.t or ""
        matched = self._dedup.check(name, env.d, None, env.id)
        if matched is None and signature in self._signatures:
            matched = "signature"
        self._signatures.add(signature)
        if matched is not None:
            self.stats.duplicates += 1
            return WebhookResponse(200, ACK_OK, reason=f"duplicate ({matched})")
        self.stats.dispatched += 1
        return WebhookResponse(200, ACK_OK, Dispatch(name, env.d, env.s, env.id), signature=signature)

    def forget(self, response: WebhookResponse) -> None:
        """The dispatch of ``response`` could not be delivered (the request was not acknowledged):
        forget it, so that the platform's retry is dispatched rather than suppressed as a
        duplicate. Does nothing for responses without a dispatch. Never raises."""
        d = response.dispatch
        if d is None:
            return
        self.stats.dispatched -= 1
        self._dedup.forget(d.name, d.data, None, d.event_id)
        if response.signature is not None:
            self._signatures.discard(response.signature)

    def _unsigned_validation(self, body: bytes) -> WebhookResponse | None:
        # nonebot answers op 13 without signature headers; we do too, but only for plain tokens
        # and timestamps that cannot double as a signed event body (no signing oracle).
        # A malformed unsigned op 13 is just an unsigned request (401, no raw body in the logs):
        # anyone can send it, so it must not be able to fill the log with its text.
        env = parse_envelope(body, max_size=self.max_body)
        if isinstance(env, BadFrame) or env.op != Opcode.CALLBACK_VALIDATION:
            return None
        answer = self._validation(env.d, body, count_bad=False)
        return answer if answer.status == 200 else None

    def _validation(self, d: Any, body: bytes, *, count_bad: bool = True) -> WebhookResponse:
        plain = d.get("plain_token") if isinstance(d, dict) else None
        ts = d.get("event_ts") if isinstance(d, dict) else None
        problem = None
        if not isinstance(plain, str) or not isinstance(ts, str):
            problem = "op 13 without string plain_token/event_ts"
        elif not _SAFE_PLAIN_TOKEN.fullmatch(plain) or not _DIGITS.fullmatch(ts):
            problem = "op 13 plain_token/event_ts has unexpected characters"
        if problem is not None:
            if not count_bad:
                return WebhookResponse(400, {"error": problem}, reason=problem)
            return self._bad(BadFrame(problem, body.decode("utf-8", "replace")), 400)
        self.stats.validations += 1
        return WebhookResponse(200, validation_answer(self._key, plain, ts), reason="op 13 validation")

    def _bad(self, bad: BadFrame, status: int) -> WebhookResponse:
        self.stats.bad_frames += 1
        return WebhookResponse(status, {"error": bad.reason}, reason=bad.reason, bad_frame=bad)


def encode_body(body: Any) -> bytes:
    """Serialise a response body as compact JSON bytes (``b""`` for ``None``)."""
    return b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
