"""Decorators that mark :class:`~qgactor.plugins.Plugin` methods as components.

``@command``, ``@on_event``, ``@schedule`` and ``@tool`` only attach a description
(:class:`ComponentSpec`) to the function; nothing is registered until the plugin manager loads
the plugin, binds the methods to the plugin instance and registers them with the bot (commands,
platform event handlers, jobs) or the event bus (``"plugin.event"`` names), tagged with the
plugin's name so they are removed together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

__all__ = ["ComponentSpec", "command", "on_event", "schedule", "tool", "components_of",
           "is_bus_event"]

F = TypeVar("F", bound=Callable[..., Any])

_ATTR = "__qgactor_components__"


def is_bus_event(name: str) -> bool:
    """True for event-bus names (``"plugin.event"``, containing a dot); platform dispatch
    events (``"AT_MESSAGE_CREATE"``) have none."""
    return "." in name


@attrs.frozen(slots=True)
class ComponentSpec:
    """What a decorator declared about one method.

    Attributes:
        kind: ``"command"``, ``"handler"`` (platform event), ``"bus"`` (event-bus handler or
            observer), ``"job"`` or ``"tool"``.
        name: the component's name within its plugin (unique per kind).
        options: keyword options for the registration (see each decorator).
    """

    kind: str
    name: str
    options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def key(self) -> str:
        """``"kind:name"``: how a component is matched across reloads."""
        return f"{self.kind}:{self.name}"


def _attach(fn: F, spec: ComponentSpec) -> F:
    if not callable(fn):
        raise TypeError(f"@{spec.kind} must decorate a function, got {fn!r}")
    specs = list(getattr(fn, _ATTR, ()))
    specs.append(spec)
    setattr(fn, _ATTR, tuple(specs))
    return fn


def components_of(fn: Any) -> tuple[ComponentSpec, ...]:
    """The component specs attached to ``fn`` by the decorators (empty if none)."""
    return tuple(getattr(fn, _ATTR, ()))


def command(
    command: str | Iterable[str] | None = None,
    *,
    regex: str | re.Pattern[str] | Iterable[str | re.Pattern[str]] | None = None,
    require_at: bool = False,
    admin_only: bool = False,
    admin_refusal: str | None = None,
    short_circuit: bool = True,
    custom_short_circuit: bool = False,
    scenes: Iterable[str] | str | None = None,
    name: str | None = None,
    description: str | None = None,
) -> Callable[[F], F]:
    """Mark a method as a bot command (the options are those of the bot's commands).

    ``description`` (default: the method's docstring's first line) is what the help plugin
    shows. The method receives the bot's message context: ``async def cmd(self, msg)``; a plain
    ``def`` runs in a worker thread.

    Raises:
        ValueError: neither a word nor a regex is given.
    """
    if command is None and regex is None:
        raise ValueError("@command needs a word (command='help') or regex=...")

    def deco(fn: F) -> F:
        words = [command] if isinstance(command, str) else list(command or ())
        label = name or (words[0] if words else fn.__name__)
        doc = description
        if doc is None:
            doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        return _attach(fn, ComponentSpec("command", label, dict(
            command=command, regex=regex, require_at=require_at, admin_only=admin_only,
            admin_refusal=admin_refusal, short_circuit=short_circuit,
            custom_short_circuit=custom_short_circuit, scenes=scenes, description=doc,
        )))

    return deco


def on_event(
    *events: str,
    family: str | None = None,
    scenes: Iterable[str] | str | None = None,
    priority: int = 0,
    before: Iterable[str] = (),
    after: Iterable[str] = (),
    observer: bool = False,
    name: str | None = None,
) -> Callable[[F], F]:
    """Mark a method as an event handler.

    * Names with a dot (``"weather.looked_up"``, ``"plugin.loaded"``) are **event-bus** events:
      the method gets a :class:`~qgactor.plugins.events.BusEvent`; ``priority``, ``before``,
      ``after`` (handler ids ``"plugin.method"`` or plugin names) order it, ``observer=True``
      makes it a non-blocking observer; returning :data:`~qgactor.plugins.events.STOP` ends the
      chain.
    * Other names are **platform** dispatch events (``"GUILD_MEMBER_ADD"``); or pass
      ``family="group_message"`` etc. (a bot event family) with optional ``scenes``. The method
      gets the bot's event context.

    Raises:
        ValueError: no event and no family, or bus and platform names mixed.
    """
    if not events and family is None:
        raise ValueError("@on_event needs event names or family=...")
    bus = [e for e in events if is_bus_event(e)]
    if bus and (len(bus) != len(events) or family is not None):
        raise ValueError(
            "@on_event: do not mix event-bus names (with a dot) and platform events; "
            "use two decorators"
        )

    def deco(fn: F) -> F:
        label = name or fn.__name__
        if bus:
            return _attach(fn, ComponentSpec("bus", label, dict(
                events=tuple(bus), priority=priority, before=tuple(before),
                after=tuple(after), observer=observer,
            )))
        return _attach(fn, ComponentSpec("handler", label, dict(
            family=family or "event", events=tuple(events) or None, scenes=scenes,
        )))

    return deco


def schedule(
    *,
    interval: float | None = None,
    cron: str | None = None,
    delay: float | None = None,
    at_start: bool = False,
    at_stop: bool = False,
    name: str | None = None,
) -> Callable[[F], F]:
    """Mark a method as a scheduled job of the bot's scheduler: every ``interval`` seconds
    (first run after ``delay``, default one interval), per a ``cron`` expression, or once when
    the bot starts/stops. It receives the bot's job context.

    Raises:
        ValueError: not exactly one of interval, cron, at_start, at_stop.
    """
    chosen = [k for k, v in (("interval", interval), ("cron", cron), ("start", at_start),
                              ("stop", at_stop)) if v]
    if len(chosen) != 1:
        raise ValueError("@schedule needs exactly one of interval=, cron=, at_start=True, "
                         "at_stop=True")
    if interval is not None and interval <= 0:
        raise ValueError(f"@schedule interval must be positive, got {interval}")

    def deco(fn: F) -> F:
        return _attach(fn, ComponentSpec("job", name or fn.__name__, dict(
            kind=chosen[0], interval=interval, cron=cron, delay=delay,
        )))

    return deco


def tool(
    name: str | None = None,
    *,
    description: str | None = None,
    ttl: float | None = None,
    bucket: float | None = None,
) -> Callable[[F], F]:
    """Mark a method as a tool other plugins can call (``await self.call_tool("plugin.name",
    **kwargs)``). With ``ttl`` and/or ``bucket`` its results are cached in the plugin's cache
    namespace, keyed by the keyword arguments (so ``bucket=1800`` means at most one real call
    per half hour per argument set).

    Raises:
        ValueError: a non-positive ttl or bucket.
    """
    for label, value in (("ttl", ttl), ("bucket", bucket)):
        if value is not None and value <= 0:
            raise ValueError(f"@tool {label} must be positive, got {value}")

    def deco(fn: F) -> F:
        doc = description
        if doc is None:
            doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        return _attach(fn, ComponentSpec("tool", name or fn.__name__, dict(
            description=doc, ttl=ttl, bucket=bucket,
        )))

    return deco
