"""The platform clock and id/timestamp helpers.

The platform clock is wall time plus an offset that the control API can move forward
(``advance_clock``), so reply windows and token lifetimes can expire in tests without
sleeping. Socket-level timers (heartbeat timeout) use trio's clock instead.
"""

from __future__ import annotations

import datetime as _dt
import random
import time
import uuid

__all__ = ["PlatformClock", "IdMaker", "CST"]

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: byte -> base62 character (a slight bias towards the first 8 digits does not matter for ids)
_B62_TABLE = bytes(ord(_B62[b % 62]) for b in range(256))

#: China Standard Time, the zone of the platform's RFC 3339 timestamps.
CST = _dt.timezone(_dt.timedelta(hours=8))


class PlatformClock:
    """Wall-clock seconds since the epoch, plus a test-controlled offset."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._stamp: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def now(self) -> float:
        """Current platform time in epoch seconds."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the platform clock forward by ``seconds`` (must be >= 0)."""
        if seconds < 0:
            raise ValueError("the platform clock only moves forward; pass seconds >= 0")
        self.offset += seconds

    def rfc3339(self, at: float | None = None) -> str:
        """An RFC 3339 timestamp in +08:00 like ``2021-05-20T15:14:58+08:00``."""
        second = int(self.now() if at is None else at)
        if self._stamp[0] != second:  # events come in bursts: one formatting per second
            self._stamp = (second, _dt.datetime.fromtimestamp(second, CST).isoformat())
        return self._stamp[1]


class IdMaker:
    """Generates platform-looking ids (optionally seeded for deterministic runs)."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        self._counter = 0

    def hex(self, n: int) -> str:
        """``n`` random hex digits."""
        return f"{self._rng.getrandbits(4 * n):0{n}x}"

    def _base62(self, n: int) -> str:
        return self._rng.randbytes(n).translate(_B62_TABLE).decode("ascii")

    def next(self) -> int:
        """A process-unique increasing integer."""
        self._counter += 1
        return self._counter

    def guild_message(self) -> str:
        """A guild message id like ``08c4…`` (opaque string)."""
        return f"08{self.hex(20)}{self.next():08x}"

    def open_message(self) -> str:
        """A group/C2C message id like ``ROBOT1.0_…``."""
        return f"ROBOT1.0_{self._base62(40)}{self.next():06d}"

    def event(self, name: str) -> str:
        """An envelope event id: ``TYPE:opaque`` (format UNVERIFIED, spec 3.2)."""
        return f"{name}:{self.hex(24)}{self.next():06x}"

    def uuid(self) -> str:
        """A random UUID string (session ids, interaction ids, audit ids)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self) -> str:
        """An opaque access token."""
        return self._base62(44)

    def numeric(self) -> str:
        """A numeric id string (channels, roles, schedules)."""
        return str(self._rng.randint(10**8, 10**9) * 1000 + self.next() % 1000)

    def chance(self, rate: float) -> bool:
        """True with probability ``rate``."""
        return self._rng.random() < rate
