"""Client-side rate limits: sliding windows per route, on trio time.

``RateLimit(rate, burst)`` declares "at most ``burst`` requests in any window of
``burst / rate`` seconds" (5/s with burst 5 = at most 5 in any second). A sliding window is
used rather than a token bucket because the platform counts "5 messages per second per
channel" (spec 6.10) over a window: a bucket would allow a burst plus its refill inside one
second and get error 20028. ``slack`` widens the window a little for network jitter.
``RouteLimiter`` keeps one window per (route, major id) key, e.g. one per channel for
``POST /channels/{channel_id}/messages``. Windows idle for a whole period are dropped, so
memory stays bounded by the number of recently busy keys.
"""

from __future__ import annotations

from collections.abc import Mapping

import collections

import attrs
import trio

__all__ = ["RateLimit", "SlidingWindow", "RouteLimiter", "DEFAULT_ROUTE_LIMITS"]


@attrs.frozen
class RateLimit:
    """At most ``burst`` requests in any ``burst / rate`` seconds (plus ``slack`` seconds)."""

    rate: float = attrs.field(validator=attrs.validators.gt(0))
    burst: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    slack: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))

    @property
    def period(self) -> float:
        """The window length in seconds."""
        return self.burst / self.rate + self.slack


class SlidingWindow:
    """Admits at most ``limit.burst`` acquisitions per ``limit.period``; FIFO among waiters."""

    __slots__ = ("limit", "_stamps", "_lock")

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._stamps: collections.deque[float] = collections.deque(maxlen=limit.burst)
        self._lock = trio.Lock()

    def idle_full(self, now: float) -> bool:
        """True if the window holds no acquisition younger than a period (safe to forget)."""
        return not self._lock.locked() and (not self._stamps or now - self._stamps[-1] >= self.limit.period)

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then record it.

        With room in the window and nobody waiting it returns at once, without a checkpoint
        (the request it admits is about to do I/O anyway); otherwise it queues FIFO.
        """
        if not self._lock.locked():
            stamps = self._stamps
            now = trio.current_time()
            if len(stamps) < self.limit.burst or stamps[0] + self.limit.period <= now:
                stamps.append(now)
                return
        async with self._lock:
            if len(self._stamps) == self.limit.burst:
                wait = self._stamps[0] + self.limit.period - trio.current_time()
                if wait > 0:
                    await trio.sleep(wait)
            self._stamps.append(trio.current_time())


#: Defaults: the documented 5 messages/s per channel for guild sends (spec 6.10), with 100 ms
#: of slack for network jitter.
DEFAULT_ROUTE_LIMITS: Mapping[str, RateLimit] = {
    "POST /channels/{channel_id}/messages": RateLimit(rate=5.0, burst=5, slack=0.1),
}


class RouteLimiter:
    """One ``SlidingWindow`` per route key, created on first use from a route → limit table.

    ``routes`` maps ``"METHOD /template"`` (e.g. ``"POST /v2/groups/{group_openid}/messages"``)
    to its ``RateLimit``; ``default`` applies to every other route (``None``: unlimited).
    """

    def __init__(self, routes: Mapping[str, RateLimit] | None = None, default: RateLimit | None = None,
                 *, max_idle_buckets: int = 4096) -> None:
        self.routes = dict(DEFAULT_ROUTE_LIMITS if routes is None else routes)
        self.default = default
        self._buckets: dict[str, SlidingWindow] = {}
        self._max = max_idle_buckets

    def limit_for(self, route: str) -> RateLimit | None:
        """The configured limit of route template ``route`` (``"METHOD /template"``)."""
        return self.routes.get(route, self.default)

    async def acquire(self, route: str, key: str) -> None:
        """Wait for room in the window of route ``route`` for major id ``key`` (no-op if unlimited)."""
        limit = self.limit_for(route)
        if limit is None:
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._sweep()
            bucket = self._buckets[key] = SlidingWindow(limit)
        await bucket.acquire()

    def _sweep(self) -> None:
        now = trio.current_time()
        for key in [k for k, b in self._buckets.items() if b.idle_full(now)]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
