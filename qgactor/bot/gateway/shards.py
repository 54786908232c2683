"""Shard planning: how many shards, from which URL, and pacing Identifies.

:func:`plan_shards` reads ``GET /gateway/bot`` (URL, recommended shards, session budget),
resolves ``shards="auto"`` and refuses to start when the session budget cannot cover every
shard. :class:`IdentifyGate` lets at most ``max_concurrency`` Identifies through per
``period`` seconds across all shards (spec 3.1: "sessions that may be created per 5 s").
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Literal

import attrs
import trio

__all__ = ["ShardPlan", "SessionStartLimitError", "plan_shards", "IdentifyGate", "Shards"]

log = logging.getLogger(__name__)

Shards = int | Literal["auto"]


class SessionStartLimitError(RuntimeError):
    """Raised when ``session_start_limit.remaining`` cannot cover every shard's Identify."""


@attrs.frozen
class ShardPlan:
    """The decided shard layout: websocket ``url``, ``count`` shards, the session budget."""

    url: str
    count: int
    max_concurrency: int = 1
    remaining: int | None = None
    total: int | None = None
    reset_after_ms: int | None = None


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def plan_shards(info: Any, shards: Shards, *, url_override: str | None = None) -> ShardPlan:
    """Decide the shard plan from a ``GET /gateway/bot`` answer (model or dict).

    ``shards`` is a positive count or ``"auto"`` (the platform's recommendation). Raises
    ``ValueError`` for a bad ``shards`` value or an answer without a URL, and
    :class:`SessionStartLimitError` when ``remaining`` is lower than the shard count.
    """
    url = url_override or _get(info, "url")
    if not isinstance(url, str) or not url:
        raise ValueError("GET /gateway/bot returned no websocket url; set the gateway URL explicitly")
    if shards == "auto":
        recommended = _get(info, "shards")
        count = recommended if isinstance(recommended, int) and recommended > 0 else 1
    elif isinstance(shards, int) and not isinstance(shards, bool) and shards > 0:
        count = shards
    else:
        raise ValueError(f"shards must be a positive integer or \"auto\", got {shards!r}")
    limit = _get(info, "session_start_limit")
    remaining = _get(limit, "remaining")
    max_concurrency = _get(limit, "max_concurrency")
    reset_after = _get(limit, "reset_after")
    if isinstance(remaining, int) and remaining < count:
        hours = f" (the budget resets in {reset_after / 3_600_000:.1f} h)" if isinstance(reset_after, int) else ""
        raise SessionStartLimitError(
            f"refusing to start: {count} shard(s) need {count} new gateway session(s) but the platform "
            f"allows only {remaining} more today{hours}; wait for the reset or use fewer shards"
        )
    return ShardPlan(
        url=url,
        count=count,
        max_concurrency=max_concurrency if isinstance(max_concurrency, int) and max_concurrency > 0 else 1,
        remaining=remaining if isinstance(remaining, int) else None,
        total=_get(limit, "total"),
        reset_after_ms=reset_after if isinstance(reset_after, int) else None,
    )


class IdentifyGate:
    """Lets at most ``max_concurrency`` Identifies start per sliding ``period`` seconds."""

    def __init__(self, max_concurrency: int = 1, period: float = 5.0) -> None:
        """Raises ``ValueError`` if ``max_concurrency`` < 1 or ``period`` < 0."""
        if max_concurrency < 1 or period < 0:
            raise ValueError("max_concurrency must be >= 1 and period >= 0")
        self.max_concurrency = max_concurrency
        self.period = period
        self._starts: deque[float] = deque()
        self._lock = trio.Lock()

    def __repr__(self) -> str:
        return f"<IdentifyGate {self.max_concurrency} per {self.period}s>"

    async def wait(self) -> None:
        """Wait until one more Identify may be sent now, and count it. Raises only
        ``trio.Cancelled`` (then nothing was counted)."""
        async with self._lock:
            while True:
                now = trio.current_time()
                while self._starts and now - self._starts[0] >= self.period:
                    self._starts.popleft()
                if len(self._starts) < self.max_concurrency:
                    self._starts.append(now)
                    return
                await trio.sleep_until(self._starts[0] + self.period)
