"""What the sans-I/O gateway state machine asks its I/O wrapper to do.

Every input method of :class:`qgactor.qq.gateway.GatewayMachine` returns a list of these
outputs, h11/wsproto style: frames to send, events to dispatch, decisions to act on. The
machine never performs I/O and never raises on bad wire input; it reports it as
:class:`BadFrame` instead.
"""

from __future__ import annotations

import enum
from typing import Any, Union

import attrs

__all__ = [
    "GatewayState",
    "SendFrame",
    "NeedToken",
    "Dispatch",
    "SessionStarted",
    "CloseConnection",
    "Reconnect",
    "Fatal",
    "BadFrame",
    "Duplicate",
    "GatewayOutput",
    "GatewayFatalError",
]


class GatewayState(enum.Enum):
    """Every state of one shard's gateway session machine.

    ``DISCONNECTED``: no socket; waiting for the wrapper to open one (``connection_opened``).
    ``AWAITING_HELLO``: socket open, waiting for op 10 Hello.
    ``AWAITING_TOKEN``: Hello received; waiting for ``token_available`` to send Identify/Resume.
    ``IDENTIFYING``: Identify sent, waiting for READY.
    ``RESUMING``: Resume sent; replayed dispatches flow until RESUMED.
    ``CONNECTED``: the session is live (READY or RESUMED seen).
    ``CLOSING``: the machine asked the wrapper to close the socket and waits for it to report
    the close (``connection_closed``).
    ``STOPPED``: a close code that forbids reconnecting; terminal until ``reset()``.
    """

    DISCONNECTED = "disconnected"
    AWAITING_HELLO = "awaiting_hello"
    AWAITING_TOKEN = "awaiting_token"
    IDENTIFYING = "identifying"
    RESUMING = "resuming"
    CONNECTED = "connected"
    CLOSING = "closing"
    STOPPED = "stopped"


@attrs.frozen
class SendFrame:
    """Send this text frame on the websocket now.

    ``text`` may carry the access token (Identify/Resume), so it is left out of the repr.
    """

    op: int
    text: str = attrs.field(repr=False)


@attrs.frozen
class NeedToken:
    """Call ``token_available(header)`` with the ``Authorization``-style token string.

    ``refresh`` is true when the platform rejected the previous token (close 4004): invalidate
    it and fetch a new one first. ``identify`` is true when the next frame will be an Identify
    (which the wrapper must pace by ``session_start_limit.max_concurrency``), false for Resume.
    """

    refresh: bool
    identify: bool


@attrs.frozen
class Dispatch:
    """A dispatch (op 0) event to hand to the dispatcher, already de-duplicated."""

    name: str
    data: Any
    seq: int | None
    event_id: str | None


@attrs.frozen
class SessionStarted:
    """The session is live: READY (``resumed=False``) or RESUMED (``resumed=True``) arrived."""

    session_id: str
    resumed: bool
    shard: tuple[int, int]
    user: Any = None


@attrs.frozen
class CloseConnection:
    """Close the websocket now (code and reason to send); then report ``connection_closed``.

    The machine has already decided what happens next (``resume`` tells which).
    """

    code: int
    reason: str
    resume: bool


@attrs.frozen
class Reconnect:
    """Open a new connection after ``delay`` seconds (then call ``connection_opened``)."""

    delay: float
    resume: bool
    reason: str


@attrs.frozen
class Fatal:
    """The platform forbids reconnecting. ``message`` says what the user must fix."""

    code: int | None
    message: str


@attrs.frozen
class BadFrame:
    """A frame from the wire that could not be used; it was counted and dropped."""

    reason: str
    raw: str


@attrs.frozen
class Duplicate:
    """A dispatch suppressed because it was already dispatched (``key`` says how it matched)."""

    name: str
    seq: int | None
    key: str


GatewayOutput = Union[
    SendFrame, NeedToken, Dispatch, SessionStarted, CloseConnection, Reconnect, Fatal, BadFrame, Duplicate
]


class GatewayFatalError(Exception):
    """Raised by the gateway actors when the platform closed with a code forbidding reconnects.

    ``code`` is the close code (or ``None``); the message says what the user must fix.
    """

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)
        self.code = code
