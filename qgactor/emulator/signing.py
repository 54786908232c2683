"""Ed25519 keys derived from the bot secret and the platform's webhook signatures (spec 5.2-5.4).

Implemented here, independently of the client's ``qgactor.qq.webhook``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["seed_from_secret", "signing_key", "public_key_bytes", "sign_payload", "validation_signature"]


def seed_from_secret(secret: str) -> bytes:
    """The 32-byte seed: the secret's UTF-8 bytes doubled until >= 32 bytes, then cut to 32.

    This is the official Go code byte for byte (a Go string is its bytes: ``len`` counts
    bytes, ``strings.Repeat`` and ``seed[:32]`` work on bytes), so for a non-ASCII secret the
    cut may fall inside a character. Raises ``ValueError`` for an empty secret.
    """
    seed = secret.encode("utf-8")
    if not seed:
        raise ValueError("the bot secret is empty; cannot derive a signing key")
    while len(seed) < 32:
        seed += seed
    return seed[:32]


def signing_key(secret: str) -> Ed25519PrivateKey:
    """The Ed25519 private key of the bot ``secret``."""
    return Ed25519PrivateKey.from_private_bytes(seed_from_secret(secret))


def public_key_bytes(secret: str) -> bytes:
    """The raw 32-byte public key of the bot ``secret``."""
    key: Ed25519PublicKey = signing_key(secret).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign_payload(secret: str, timestamp: str, body: bytes) -> str:
    """Hex signature of ``timestamp + body`` (header ``X-Signature-Ed25519``)."""
    return signing_key(secret).sign(timestamp.encode("utf-8") + body).hex()


def validation_signature(secret: str, event_ts: str, plain_token: str) -> str:
    """Hex signature of ``event_ts + plain_token``: the expected op 13 answer."""
    return signing_key(secret).sign((event_ts + plain_token).encode("utf-8")).hex()
