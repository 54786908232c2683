"""How a child is declared: restart types, strategies, backoff, mailboxes and ``ChildSpec``."""

from __future__ import annotations

import enum
import math
import random
from types import MappingProxyType
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["Restart", "Strategy", "Backoff", "Overflow", "Mailbox", "ChildSpec", "build_spec"]


class Restart(enum.Enum):
    """When a supervisor restarts a child that ended (OTP restart types)."""

    PERMANENT = "permanent"
    """Always restarted, also after a normal stop (``ctx.stop()``)."""
    TRANSIENT = "transient"
    """Restarted only after a crash."""
    TEMPORARY = "temporary"
    """Never restarted."""


class Strategy(enum.Enum):
    """What a supervisor restarts when a child is due to restart."""

    ONE_FOR_ONE = "one_for_one"
    """Only the failed child."""
    ONE_FOR_ALL = "one_for_all"
    """All children: the others are stopped (reverse order), then all restart in order."""
    REST_FOR_ONE = "rest_for_one"
    """The failed child and every child started after it."""


class Overflow(enum.Enum):
    """What a full mailbox does with one more message."""

    BACKPRESSURE = "backpressure"
    """``tell``/``ask`` wait for room; ``tell_nowait`` returns False (counted as a drop)."""
    DROP_NEWEST = "drop_newest"
    """The new message is dropped and counted; an ``ask`` raises ``MailboxFull`` instead."""
    DROP_OLDEST = "drop_oldest"
    """The oldest queued message is dropped (a dropped ask fails with ``MailboxFull``)."""
    FAIL = "fail"
    """``tell``, ``tell_nowait`` and ``ask`` raise ``MailboxFull``."""


def _positive_capacity(_inst: object, _attr: object, value: int) -> None:
    if value < 1:
        raise ValueError(f"Mailbox capacity must be at least 1, got {value}")


@attrs.frozen
class Mailbox:
    """A bounded mailbox declaration: ``capacity`` messages and an :class:`Overflow` policy.

    Raises ``ValueError`` for a capacity below 1.
    """

    capacity: int = attrs.field(default=1000, validator=_positive_capacity)
    overflow: Overflow = Overflow.BACKPRESSURE


def _non_negative(_inst: object, attr: attrs.Attribute[Any], value: float) -> None:
    if value < 0 or math.isnan(value):
        raise ValueError(f"Backoff.{attr.name} must be >= 0, got {value}")


@attrs.frozen
class Backoff:
    """Delay before restarting a crashed child: exponential, capped, jittered, resettable.

    The n-th consecutive restart of a child waits ``min(max, initial * factor**n)`` seconds,
    multiplied by a random factor in ``[1 - jitter, 1 + jitter]``. A child that ran for
    ``reset_after`` seconds without ending starts again from ``initial``.
    ``Backoff(initial=0)`` restarts at once. Raises ``ValueError`` for negative values.
    """

    initial: float = attrs.field(default=0.05, validator=_non_negative)
    factor: float = attrs.field(default=2.0, validator=_non_negative)
    max: float = attrs.field(default=5.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.1, validator=_non_negative)
    reset_after: float = attrs.field(default=10.0, validator=_non_negative)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The delay in seconds before restart number ``attempt`` (0-based)."""
        if self.initial == 0:
            return 0.0
        try:
            base = self.initial * self.factor**attempt
        except OverflowError:
            base = self.max
        base = min(self.max, base)
        if self.jitter:
            r = (rng or random).uniform(-self.jitter, self.jitter)
            base = max(0.0, base * (1.0 + r))
        return base


NO_KWARGS: Mapping[str, Any] = MappingProxyType({})
"""The default ``ChildSpec.kwargs``: one shared read-only empty mapping instead of a dict per
spec (a dynamic supervisor builds a spec per child)."""


def _check_factory(_inst: object, _attr: object, value: object) -> None:
    if not callable(value):
        raise TypeError(f"ChildSpec.factory must be callable (an Actor class), got {value!r}")


def _check_shutdown(_inst: object, _attr: object, value: float | None) -> None:
    if value is not None and (value < 0 or math.isnan(value)):
        raise ValueError(f"ChildSpec.shutdown must be >= 0 seconds or None, got {value}")


def _drain_seconds(value: float | bool | None) -> float | None:
    if value is True:
        return math.inf
    if value is False or value is None:
        return None
    if value < 0 or math.isnan(value):
        raise ValueError(f"ChildSpec.drain_on_stop must be >= 0 seconds, True, False or None, got {value}")
    return float(value)


@attrs.frozen
class ChildSpec:
    """Everything a supervisor needs to start (and restart) one child.

    ``factory(*args, **kwargs)`` must return an :class:`~qgactor.runtime.Actor` (usually it is
    the actor class itself); it is called again for every restart. ``name`` registers the actor
    (unique per system; ``None`` gives an unregistered generated name). ``shutdown`` is the
    seconds a graceful stop may take before the actor is cancelled (``None``: wait forever, the
    default for supervisors). ``idle_timeout`` stops the actor normally after that many seconds
    without messages. ``drain_on_stop`` (seconds; ``True``: as long as the shutdown timeout
    allows; default ``None``: off) makes a graceful stop first handle the messages already in
    the mailbox, for at most that long, before the actor ends (see
    :mod:`qgactor.runtime.draining`); without it they become dead letters. Raises
    ``TypeError`` for a factory that is not callable and ``ValueError`` for a negative
    ``shutdown`` or ``drain_on_stop``.
    """

    factory: Callable[..., Any] = attrs.field(validator=_check_factory)
    args: tuple[Any, ...] = attrs.field(default=(), converter=tuple)
    kwargs: Mapping[str, Any] = attrs.field(default=NO_KWARGS)
    name: str | None = None
    restart: Restart = Restart.PERMANENT
    shutdown: float | None = attrs.field(default=5.0, validator=_check_shutdown)
    mailbox: Mailbox = attrs.field(factory=Mailbox)
    idle_timeout: float | None = None
    drain_on_stop: float | None = attrs.field(default=None, converter=_drain_seconds)


def build_spec(factory: Callable[..., Any] | ChildSpec, args: tuple[Any, ...], options: dict[str, Any]) -> ChildSpec:
    """Turn ``spawn``'s arguments into a :class:`ChildSpec` (raises TypeError on misuse)."""
    if isinstance(factory, ChildSpec):
        if args:
            raise TypeError("spawn(ChildSpec, ...) takes no positional args; put them in the spec")
        if options:
            return attrs.evolve(factory, **options)
        return factory
    if "args" in options:
        raise TypeError("spawn(factory, *args, ...): pass the factory's arguments positionally "
                        "(keyword arguments go in kwargs={...}), or build a ChildSpec")
    from qgactor.runtime.actor import Actor

    if isinstance(factory, type) and not issubclass(factory, Actor):
        raise TypeError(f"spawn() needs an Actor subclass (or a callable returning an Actor), "
                        f"got class {factory.__name__}; subclass qgactor.Actor")
    try:
        return ChildSpec(factory, args=args, **options)
    except TypeError as exc:
        raise TypeError(f"spawn() got unexpected options {sorted(options)}: {exc}; valid options "
                        "are name, restart, shutdown, mailbox, idle_timeout, drain_on_stop, kwargs") from None
