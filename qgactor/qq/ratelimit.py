"""Client-side rate limits: token buckets per route, on trio time.

``RateLimit(rate, burst)`` declares "at most ``rate`` requests per second on average, up to
``burst`` at once". ``RouteLimiter`` keeps one bucket per (route, major id) key, e.g. one per
channel for ``POST /channels/{channel_id}/messages`` (the platform allows 5 messages/s per
channel, spec 6.10). Buckets that have been idle long enough to be full again are dropped,
so memory stays bounded by the number of recently busy keys.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import trio

__all__ = ["RateLimit", "TokenBucket", "RouteLimiter", "DEFAULT_ROUTE_LIMITS"]


@attrs.frozen
class RateLimit:
    """At most ``rate`` requests per second on average, with bursts of up to ``burst``."""

    rate: float = attrs.field(validator=attrs.validators.gt(0))
    burst: int = attrs.field(default=1, validator=attrs.validators.ge(1))


class TokenBucket:
    """A token bucket refilled at ``limit.rate`` per second; ``acquire()`` waits for a token."""

    __slots__ = ("limit", "_tokens", "_stamp", "_lock")

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._tokens = float(limit.burst)
        self._stamp = trio.current_time()
        self._lock = trio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(float(self.limit.burst), self._tokens + (now - self._stamp) * self.limit.rate)
        self._stamp = now

    def idle_full(self, now: float) -> bool:
        """True if the bucket would be full now (it may be forgotten without changing behaviour)."""
        return not self._lock.locked() and (
            self._tokens + (now - self._stamp) * self.limit.rate >= self.limit.burst
        )

    async def acquire(self) -> None:
        """Take one token, sleeping until one is available. FIFO among waiters."""
        async with self._lock:
            self._refill(trio.current_time())
            if self._tokens < 1.0:
                await trio.sleep((1.0 - self._tokens) / self.limit.rate)
                self._refill(trio.current_time())
            self._tokens -= 1.0


#: Defaults: the documented 5 messages/s per channel for guild sends (spec 6.10).
DEFAULT_ROUTE_LIMITS: Mapping[str, RateLimit] = {
    "POST /channels/{channel_id}/messages": RateLimit(rate=5.0, burst=5),
}


class RouteLimiter:
    """One ``TokenBucket`` per route key, created on first use from a route → limit table.

    ``routes`` maps ``"METHOD /template"`` (e.g. ``"POST /v2/groups/{group_openid}/messages"``)
    to its ``RateLimit``; ``default`` applies to every other route (``None``: unlimited).
    """

    def __init__(self, routes: Mapping[str, RateLimit] | None = None, default: RateLimit | None = None,
                 *, max_idle_buckets: int = 4096) -> None:
        self.routes = dict(DEFAULT_ROUTE_LIMITS if routes is None else routes)
        self.default = default
        self._buckets: dict[str, TokenBucket] = {}
        self._max = max_idle_buckets

    def limit_for(self, route: str) -> RateLimit | None:
        """The configured limit of route template ``route`` (``"METHOD /template"``)."""
        return self.routes.get(route, self.default)

    async def acquire(self, route: str, key: str) -> None:
        """Wait for a token of route ``route`` for major id ``key`` (no-op if unlimited)."""
        limit = self.limit_for(route)
        if limit is None:
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._sweep()
            bucket = self._buckets[key] = TokenBucket(limit)
        await bucket.acquire()

    def _sweep(self) -> None:
        now = trio.current_time()
        for key in [k for k, b in self._buckets.items() if b.idle_full(now)]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
