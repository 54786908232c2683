"""The platform layer: everything a bot needs to speak the QQ Open Platform protocol."""

from __future__ import annotations

from qgactor.qq.protocol import (
    CLOSE_CODES,
    DEFAULT_INTENTS,
    EVENT_INTENTS,
    CloseCode,
    CloseCodeInfo,
    Intents,
    Opcode,
    close_code_info,
    intent_for_event,
)

__all__ = [
    "CLOSE_CODES",
    "DEFAULT_INTENTS",
    "EVENT_INTENTS",
    "CloseCode",
    "CloseCodeInfo",
    "Intents",
    "Opcode",
    "close_code_info",
    "intent_for_event",
]
