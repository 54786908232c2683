"""The tool-result cache: per-plugin namespaces with TTL, time buckets and an LRU bound.

A plugin opts in by using ``self.cache`` (a :class:`CacheNamespace`) or the ``@tool(...,
ttl=..., bucket=...)`` decorator. ``put(key, value, ttl=60)`` keeps a value for 60 seconds;
``bucket=1800`` makes it expire at the end of the current half-hour window of the clock
(00:00-00:30, 00:30-01:00, ... with the default wall clock), so a weather lookup happens at
most once per half hour no matter when it was first asked. Both may be combined (the earlier
expiry wins). Each namespace keeps at most ``max_entries`` values, evicting the least recently
used. A plugin's namespace is cleared when the plugin reloads or unloads.

The clock is injectable (default :func:`time.time`); tests pass ``trio.current_time`` under a
``MockClock``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import attrs

__all__ = ["ToolCache", "CacheNamespace", "CacheStats", "MISSING"]

T = TypeVar("T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""Returned by :meth:`CacheNamespace.get` for a miss when no default is given."""


@attrs.define(slots=True)
class CacheStats:
    """Counters of one namespace: hits, misses, puts, evictions (LRU), expirations."""

    hits: int = 0
    misses: int = 0
    puts: int = 0
    evictions: int = 0
    expirations: int = 0


@attrs.define(slots=True)
class _Entry:
    value: Any
    expires_at: float


class CacheNamespace:
    """One plugin's cache. Keys are any hashable values."""

    def __init__(
        self, owner: str, *, clock: Callable[[], float], max_entries: int
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.owner = owner
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._clock = clock
        self._data: OrderedDict[Hashable, _Entry] = OrderedDict()

    def __len__(self) -> int:
        now = self._clock()
        return sum(1 for e in self._data.values() if e.expires_at > now)

    def __repr__(self) -> str:
        return f"<CacheNamespace {self.owner!r} {len(self._data)}/{self.max_entries}>"

    def expiry(self, *, ttl: float | None = None, bucket: float | None = None) -> float:
        """When a value put now with ``ttl``/``bucket`` would expire (clock seconds).

        Raises:
            ValueError: neither is given, or one is not positive.
        """
        if ttl is None and bucket is None:
            raise ValueError("give ttl=seconds, bucket=seconds, or both")
        now = self._clock()
        expires = math.inf
        if ttl is not None:
            if ttl <= 0:
                raise ValueError(f"ttl must be positive, got {ttl}")
            expires = now + ttl
        if bucket is not None:
            if bucket <= 0:
                raise ValueError(f"bucket must be positive, got {bucket}")
            expires = min(expires, (math.floor(now / bucket) + 1) * bucket)
        return expires

    def put(
        self, key: Hashable, value: Any, *, ttl: float | None = None, bucket: float | None = None
    ) -> None:
        """Store ``value`` under ``key`` until the TTL runs out and/or the time bucket ends.

        Raises:
            ValueError: neither ``ttl`` nor ``bucket`` given, or a non-positive one.
            TypeError: the key is not hashable.
        """
        expires = self.expiry(ttl=ttl, bucket=bucket)
        self._data[key] = _Entry(value, expires)
        self._data.move_to_end(key)
        self.stats.puts += 1
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)
            self.stats.evictions += 1

    def get(self, key: Hashable, default: Any = MISSING) -> Any:
        """The live value under ``key``, else ``default`` (:data:`MISSING` if not given)."""
        entry = self._data.get(key)
        if entry is None:
            self.stats.misses += 1
            return default
        if entry.expires_at <= self._clock():
            del self._data[key]
            self.stats.expirations += 1
            self.stats.misses += 1
            return default
        self._data.move_to_end(key)
        self.stats.hits += 1
        return entry.value

    def __contains__(self, key: Hashable) -> bool:
        entry = self._data.get(key)
        return entry is not None and entry.expires_at > self._clock()

    def delete(self, key: Hashable) -> bool:
        """Remove ``key``; True if it was present."""
        return self._data.pop(key, None) is not None

    def clear(self) -> None:
        """Remove every value."""
        self._data.clear()

    async def get_or_compute(
        self,
        key: Hashable,
        compute: Callable[[], Awaitable[T]],
        *,
        ttl: float | None = None,
        bucket: float | None = None,
    ) -> T:
        """Return the cached value, or await ``compute()``, cache its result and return it.

        Exceptions from ``compute`` propagate and nothing is cached.
        """
        value = self.get(key)
        if value is not MISSING:
            return value  # type: ignore[no-any-return]
        value = await compute()
        self.put(key, value, ttl=ttl, bucket=bucket)
        return value  # type: ignore[no-any-return]


class ToolCache:
    """All plugins' cache namespaces.

    Args:
        clock: returns the current time in seconds (default :func:`time.time`, so buckets
            align to wall-clock boundaries).
        max_entries: default LRU bound of each namespace.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, max_entries: int = 256
    ) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._spaces: dict[str, CacheNamespace] = {}

    def namespace(self, owner: str, *, max_entries: int | None = None) -> CacheNamespace:
        """The namespace of ``owner`` (created on first use)."""
        space = self._spaces.get(owner)
        if space is None:
            space = CacheNamespace(
                owner, clock=self.clock, max_entries=max_entries or self.max_entries
            )
            self._spaces[owner] = space
        return space

    def clear(self, owner: str) -> None:
        """Drop every value of ``owner`` (called when that plugin reloads or unloads)."""
        space = self._spaces.get(owner)
        if space is not None:
            space.clear()

    def owners(self) -> list[str]:
        """Names of the namespaces created so far."""
        return sorted(self._spaces)
