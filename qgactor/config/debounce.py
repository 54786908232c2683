"""A clock-driven debouncer: many change hints in a burst become one trigger.

It only reads ``trio.current_time()`` and sleeps on trio's clock, so tests drive it with
``trio.testing.MockClock`` and assert exact trigger times; the file-event source is separate.
"""

from __future__ import annotations

import math

import trio

__all__ = ["Debouncer"]


class Debouncer:
    """Coalesce :meth:`poke` calls: :meth:`wait` returns once ``delay`` seconds pass with no poke.

    A steady stream of pokes still triggers after ``max_delay`` seconds from the first poke of
    the burst (so a file rewritten in a loop is still reloaded). Not thread-safe: poke from trio.
    """

    def __init__(self, delay: float, *, max_delay: float | None = None) -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay}")
        self.delay = delay
        self.max_delay = math.inf if max_delay is None else max(max_delay, delay)
        self._first: float | None = None
        self._last: float = 0.0
        self._poked = trio.Event()

    @property
    def pending(self) -> bool:
        """True while a burst is waiting to settle."""
        return self._first is not None

    def poke(self) -> None:
        """Record a change hint now (restarts the quiet period)."""
        now = trio.current_time()
        if self._first is None:
            self._first = now
        self._last = now
        self._poked.set()

    def deadline(self) -> float:
        """When the pending burst will trigger (``inf`` if none is pending)."""
        if self._first is None:
            return math.inf
        return min(self._last + self.delay, self._first + self.max_delay)

    async def wait(self) -> None:
        """Wait for the next settled burst, then reset. Cancellable."""
        while self._first is None:
            await self._poked.wait()
            self._poked = trio.Event()
        while trio.current_time() < (deadline := self.deadline()):
            await trio.sleep_until(deadline)
        self._first = None
        self._poked = trio.Event()
