"""Turning a plugin version's decorated methods into bot components, bus subscriptions and
tools — all pointing at the plugin's gate, never at the method itself.

Registration of one plugin is an all-or-nothing synchronous swap (no ``await`` in between), so
the dispatcher, which runs in the same trio thread, sees either the old set of components or
the new one, never a gap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from qgactor.bot.commands import Command
from qgactor.bot.registry import ComponentRegistry, Job
from qgactor.bot.schedule import parse_cron
from qgactor.plugins.events import EventBus, Subscription
from qgactor.plugins.slot import PluginSlot, Version

__all__ = ["ToolEntry", "build_table", "register_version", "unregister", "make_gate"]


@attrs.frozen(slots=True)
class ToolEntry:
    """A tool exposed by a plugin: ``"plugin.tool"``, its key in the plugin's table, its
    cache policy and description."""

    qualified_name: str
    plugin: str
    key: str
    description: str
    ttl: float | None
    bucket: float | None


def build_table(instance: Any) -> dict[str, Callable[..., Any]]:
    """Component key → bound method of ``instance`` for every decorated method."""
    table: dict[str, Callable[..., Any]] = {}
    for attr, spec in type(instance).component_specs():
        table[spec.key] = getattr(instance, attr)
    return table


def make_gate(slot: PluginSlot, key: str, label: str) -> Callable[..., Any]:
    """An ``async def`` that forwards a call to ``slot.invoke(key, ...)``."""

    async def gate(*args: Any, **kwargs: Any) -> Any:
        return await slot.invoke(key, *args, **kwargs)

    gate.__name__ = label
    gate.__qualname__ = label
    return gate


def register_version(
    slot: PluginSlot,
    version: Version,
    *,
    registry: ComponentRegistry,
    bus: EventBus,
    tools: dict[str, ToolEntry],
) -> None:
    """Swap ``slot``'s registrations to ``version`` (removing the previous ones).

    Everything is built and validated before anything changes; on error the old
    registrations are left untouched.

    Raises:
        ValueError / TypeError: a component's options are invalid (bad regex, cron...).
        qgactor.plugins.events.EventBusError: a bus declaration or ordering is invalid.
    """
    name = slot.name
    commands: list[Command] = []
    handlers: list[dict[str, Any]] = []
    jobs: list[Job] = []
    subs: list[tuple[str, dict[str, Any]]] = []
    new_tools: dict[str, ToolEntry] = {}
    for attr, spec in version.cls.component_specs():
        label = f"{name}.{attr}"
        gate = make_gate(slot, spec.key, label)
        opts = dict(spec.options)
        if spec.kind == "command":
            opts.pop("description", None)
            commands.append(Command.create(gate, name=spec.name, owner=name, **opts))
        elif spec.kind == "handler":
            handlers.append(dict(fn=gate, family=opts["family"], events=opts["events"],
                                 scenes=opts["scenes"], name=label, owner=name))
        elif spec.kind == "job":
            kind = opts["kind"]
            cron = parse_cron(opts["cron"]) if kind == "cron" else None
            jobs.append(Job(fn=gate, kind=kind, interval=opts["interval"], cron=cron,
                            delay=opts["delay"], name=label, owner=name))
        elif spec.kind == "bus":
            for event in opts.pop("events"):
                subs.append((event, dict(handler=gate, name=spec.name, owner=name, **opts)))
        elif spec.kind == "tool":
            q = f"{name}.{spec.name}"
            new_tools[q] = ToolEntry(q, name, spec.key, opts["description"], opts["ttl"],
                                     opts["bucket"])

    # the bus: declare + subscribe on a trial basis, roll back on error
    old_specs = [s for s in bus.specs() if s.owner == name]
    old_subs = _bus_subs(bus, name)
    bus.remove_owner(name)
    try:
        for ev_spec in version.cls.events:
            bus.declare(attrs.evolve(ev_spec, owner=name))
        for event, kw in subs:
            bus.subscribe(event, **kw)
        # handlers: validate through the registry API before swapping
        for h in handlers:
            if not callable(h["fn"]):  # pragma: no cover - gates are callable
                raise TypeError(h)
    except BaseException:
        bus.remove_owner(name)
        for s in old_specs:
            bus.declare(s)
        for s in old_subs:
            bus.subscribe(s.event, s.handler, name=s.name, owner=s.owner, priority=s.priority,
                          before=s.before, after=s.after, observer=s.observer)
        raise

    registry.remove_components(name)
    added: list[Any] = []
    try:
        for cmd in commands:
            added.append(registry.add_command(cmd))
        for h in handlers:
            added.append(registry.add_handler(h.pop("fn"), h.pop("family"), **h))
        for job in jobs:
            added.append(registry.add_job(job))
    except BaseException:
        registry.remove_components(name)
        bus.remove_owner(name)
        raise
    for q in [q for q, t in tools.items() if t.plugin == name]:
        del tools[q]
    tools.update(new_tools)
    slot.components = added
    slot.version = version


def _bus_subs(bus: EventBus, owner: str) -> list[Subscription]:
    out: list[Subscription] = []
    for spec in bus.specs():
        out.extend(s for s in bus.handlers(spec.name) + bus.observers(spec.name)
                   if s.owner == owner)
    return out


def unregister(
    slot: PluginSlot, *, registry: ComponentRegistry, bus: EventBus,
    tools: dict[str, ToolEntry],
) -> None:
    """Remove every component, bus declaration/subscription and tool of ``slot``."""
    registry.remove_components(slot.name)
    bus.remove_owner(slot.name)
    for q in [q for q, t in tools.items() if t.plugin == slot.name]:
        del tools[q]
    slot.components = []
    slot.version = None
