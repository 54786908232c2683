"""Fault injection state: REST failures and delays at a rate, heartbeat ACK suppression."""

from __future__ import annotations

from typing import Any

import attrs

from .clock import IdMaker
from .http import PlatformError

__all__ = ["RestFault", "FaultState"]


@attrs.define(slots=True)
class RestFault:
    """Make matching REST calls fail with ``status`` and/or wait ``delay`` seconds.

    ``rate`` is the probability per call; ``count`` (if set) limits how many calls are hit;
    ``path_prefix`` / ``method`` narrow which calls match. Control and token endpoints are
    never affected.
    """

    status: int | None = None
    delay: float = 0.0
    rate: float = 1.0
    count: int | None = None
    path_prefix: str | None = None
    method: str | None = None
    hits: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RestFault:
        """Build from a control API body; raises ``ValueError`` on bad values."""
        status = data.get("status")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status (400-599)")
        rate = float(data.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        delay = float(data.get("delay", 0.0))
        if delay < 0 or delay > 600:
            raise ValueError("delay must be between 0 and 600 seconds")
        if status is None and delay == 0:
            raise ValueError("give a status (e.g. 500, 429) and/or a delay")
        count = data.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        method = data.get("method")
        return cls(status, delay, rate, count, data.get("path_prefix"), method.upper() if method else None)

    def matches(self, method: str, path: str) -> bool:
        """True if this fault applies to ``method path`` (ignoring rate and count)."""
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method != method:
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)

    def error(self) -> PlatformError:
        """The error answer for this fault's status."""
        assert self.status is not None
        if self.status == 429:
            return PlatformError(429, 20028, "request too frequent (fault injected); retry later",
                                 headers={"Retry-After": "1"})
        return PlatformError(self.status, 500000 + self.status, f"server error {self.status} (fault injected); retry")


@attrs.define(slots=True)
class FaultState:
    """All active faults."""

    rest: list[RestFault] = attrs.Factory(list)
    stop_acks: bool = False
    stop_acks_sessions: set[str] = attrs.Factory(set)
    audit_next: int = 0
    """Guild/DM sends still to be put under audit (answered 202 + code 304023/304024)."""
    audit_result: str = "pass"
    """Outcome event of those audits: ``"pass"`` or ``"reject"``."""

    def pick_rest(self, method: str, path: str, ids: IdMaker) -> RestFault | None:
        """The REST fault to apply to this call, if any (consumes one ``count``)."""
        for fault in self.rest:
            if fault.matches(method, path) and ids.chance(fault.rate):
                fault.hits += 1
                return fault
        return None

    def acks_stopped(self, session_id: str | None) -> bool:
        """True if heartbeats of ``session_id`` must not be ACKed."""
        return self.stop_acks or (session_id is not None and session_id in self.stop_acks_sessions)

    def clear(self) -> None:
        """Remove every fault."""
        self.rest.clear()
        self.stop_acks = False
        self.stop_acks_sessions.clear()
        self.audit_next = 0
