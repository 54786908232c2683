"""What a bus event is: its declaration (:class:`EventSpec`, which checks emitted fields), the
event handlers receive (:class:`BusEvent`), the :data:`STOP` sentinel and the bus's errors.
The bus itself is :mod:`qgactor.plugins.events`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["EventSpec", "BusEvent", "STOP", "EventBusError", "UnknownEventError",
           "EventFieldError", "OrderingError"]


class EventBusError(Exception):
    """Base class of event bus errors."""


class UnknownEventError(EventBusError, LookupError):
    """An event name was emitted or subscribed to without being declared."""


class EventFieldError(EventBusError, TypeError):
    """``emit`` got missing, unexpected or wrongly typed fields for an event."""


class OrderingError(EventBusError):
    """``before``/``after`` constraints of handlers form a cycle."""


class _Stop:
    __slots__ = ()

    def __repr__(self) -> str:
        return "STOP"


STOP: Any = _Stop()
"""Return this from a handler to stop later handlers of the same emit (observers still run)."""


@attrs.frozen(slots=True)
class EventSpec:
    """The declaration of an event.

    Attributes:
        name: the event name, e.g. ``"weather.looked_up"``.
        fields: field name → expected type (``object`` or ``typing.Any`` accepts anything;
            a tuple of types accepts any of them).
        doc: what the event means, for listings.
        owner: the plugin that declared it (None for the bus or manager itself).
    """

    name: str
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    doc: str = ""
    owner: str | None = None

    def check(self, fields: Mapping[str, Any]) -> None:
        """Validate emitted fields; raises :class:`EventFieldError` naming the problem."""
        missing = sorted(set(self.fields) - set(fields))
        extra = sorted(set(fields) - set(self.fields))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise EventFieldError(
                f"event {self.name!r}: {'; '.join(parts)} "
                f"(declared fields: {', '.join(self.fields) or 'none'})"
            )
        for key, expected in self.fields.items():
            if expected is object or expected is Any:
                continue
            if isinstance(expected, type) or (
                isinstance(expected, tuple) and all(isinstance(t, type) for t in expected)
            ):
                if not isinstance(fields[key], expected):
                    raise EventFieldError(
                        f"event {self.name!r}: field {key!r} must be {_type_name(expected)}, "
                        f"got {type(fields[key]).__name__}"
                    )


def _type_name(t: Any) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return getattr(t, "__name__", repr(t))


@attrs.frozen(slots=True)
class BusEvent:
    """One emitted event as handlers see it: ``event.name``, ``event.fields`` and the fields
    as attributes (``event.city``)."""

    name: str
    fields: Mapping[str, Any]
    source: str | None = None

    def __getattr__(self, key: str) -> Any:
        try:
            return self.fields[key]
        except KeyError:
            raise AttributeError(f"event {self.name!r} has no field {key!r}") from None
