"""The component registry of one bot: commands, event handlers, preprocessors and jobs.

Every component carries an optional ``owner`` tag (a plugin name, say) so that
:meth:`ComponentRegistry.remove_components` removes everything one owner registered at once.
Components may be added, removed, enabled and disabled while the bot runs, from the trio
thread or from a worker thread: writers take a lock and publish new tuples, readers (the
dispatcher) read the current tuple without locking.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

import attrs

from qgactor.bot.binders import MESSAGE_FAMILIES, family_events, intents_for_events
from qgactor.bot.commands import Command
from qgactor.bot.scenes import Scene, parse_scenes
from qgactor.bot.schedule import CronSchedule
from qgactor.qq.protocol import Intents

__all__ = [
    "ComponentRegistry",
    "EventHandler",
    "Preprocessor",
    "Job",
    "ComponentNotFound",
    "COMMAND_EVENTS",
]

#: The message events commands are matched on, per scene (guild: also MESSAGE_CREATE when a
#: handler subscribes it; see the dispatcher).
COMMAND_EVENTS: dict[Scene, str] = {
    Scene.GUILD: "AT_MESSAGE_CREATE",
    Scene.DM: "DIRECT_MESSAGE_CREATE",
    Scene.GROUP: "GROUP_AT_MESSAGE_CREATE",
    Scene.C2C: "C2C_MESSAGE_CREATE",
}


class ComponentNotFound(LookupError):
    """Raised when enabling, disabling or removing a component that is not registered."""


@attrs.define(slots=True, eq=False)
class EventHandler:
    """A handler bound to an event family.

    Attributes:
        fn: called with the event context (``def`` runs in a worker thread).
        family: the binder family (see ``qgactor.bot.binders.FAMILIES``) or ``"event"``.
        events: the dispatch event names it receives.
        scenes: for message handlers, the scenes it receives.
        ignore_self_delete: for message-delete handlers, skip users deleting their own message.
        enabled, name, owner: as for commands.
    """

    fn: Callable[..., Any]
    family: str
    events: frozenset[str]
    scenes: frozenset[Scene] = frozenset(Scene)
    ignore_self_delete: bool = False
    enabled: bool = True
    name: str = ""
    owner: str | None = None

    @property
    def is_message_handler(self) -> bool:
        """True for message handlers (they run only when no command short-circuited)."""
        return self.family in MESSAGE_FAMILIES


@attrs.define(slots=True, eq=False)
class Preprocessor:
    """A function run on every message before conversations and commands.

    Returning ``False`` (exactly) stops all further processing of that message.
    """

    fn: Callable[..., Any]
    name: str = ""
    owner: str | None = None
    enabled: bool = True


@attrs.define(slots=True, eq=False)
class Job:
    """A scheduled function.

    Attributes:
        fn: called with a :class:`~qgactor.bot.context.JobContext`.
        kind: ``"start"`` (once when the bot starts), ``"stop"`` (once when it stops),
            ``"interval"`` (every ``interval`` seconds) or ``"cron"`` (per ``cron``).
        interval: seconds between runs for ``"interval"`` jobs.
        cron: the parsed schedule for ``"cron"`` jobs.
        delay: seconds before the first run of an interval job (default: one interval).
    """

    fn: Callable[..., Any]
    kind: str
    interval: float | None = None
    cron: CronSchedule | None = None
    delay: float | None = None
    name: str = ""
    owner: str | None = None
    enabled: bool = True


def _label(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


class ComponentRegistry:
    """All components of one bot (no global state: each :class:`Bot` has its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.commands: tuple[Command, ...] = ()
        self.handlers: tuple[EventHandler, ...] = ()
        self.preprocessors: tuple[Preprocessor, ...] = ()
        self.jobs: tuple[Job, ...] = ()
        self._by_event: dict[str, tuple[EventHandler, ...]] = {}
        self._listeners: list[Callable[[], None]] = []
        self.version = 0

    # -- change notification -------------------------------------------------------------
    def add_listener(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` after every change (it may run in any thread; keep it tiny)."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[], None]) -> None:
        """Stop calling ``fn`` on changes (no error if it was not registered)."""
        try:
            self._listeners.remove(fn)
        except ValueError:
            pass

    def _changed(self) -> None:
        self.version += 1
        by_event: dict[str, list[EventHandler]] = {}
        for h in self.handlers:
            for ev in h.events:
                by_event.setdefault(ev, []).append(h)
        self._by_event = {k: tuple(v) for k, v in by_event.items()}
        for fn in list(self._listeners):
            fn()

    # -- adding ----------------------------------------------------------------------------
    def add_command(self, command: Command) -> Command:
        """Register a command (usable at once, also while running) and return it."""
        with self._lock:
            self.commands = (*self.commands, command)
            self._changed()
        return command

    def add_handler(
        self,
        fn: Callable[..., Any],
        family: str,
        *,
        events: Iterable[str] | None = None,
        scenes: Iterable[Scene | str] | Scene | str | None = None,
        ignore_self_delete: bool = False,
        name: str | None = None,
        owner: str | None = None,
    ) -> EventHandler:
        """Register ``fn`` for an event family (``"event"`` with explicit ``events`` for any).

        Raises:
            TypeError: ``fn`` is not callable.
            ValueError: unknown family/scene, or events outside the family.
        """
        if not callable(fn):
            raise TypeError(f"a handler must be callable, got {fn!r}")
        if family == "event":
            if not events:
                raise ValueError("on_event needs at least one event name")
            evs = frozenset([events] if isinstance(events, str) else events)
        else:
            evs = family_events(family, events)
        handler = EventHandler(
            fn=fn, family=family, events=evs, scenes=parse_scenes(scenes),
            ignore_self_delete=ignore_self_delete, name=name or _label(fn), owner=owner,
        )
        with self._lock:
            self.handlers = (*self.handlers, handler)
            self._changed()
        return handler

    def add_preprocessor(
        self, fn: Callable[..., Any], *, name: str | None = None, owner: str | None = None
    ) -> Preprocessor:
        """Register a preprocessor (runs on every message, in registration order)."""
        if not callable(fn):
            raise TypeError(f"a preprocessor must be callable, got {fn!r}")
        pre = Preprocessor(fn=fn, name=name or _label(fn), owner=owner)
        with self._lock:
            self.preprocessors = (*self.preprocessors, pre)
            self._changed()
        return pre

    def add_job(self, job: Job) -> Job:
        """Register a scheduled job (a running scheduler picks it up at once)."""
        if not callable(job.fn):
            raise TypeError(f"a job must be callable, got {job.fn!r}")
        if not job.name:
            job.name = _label(job.fn)
        with self._lock:
            self.jobs = (*self.jobs, job)
            self._changed()
        return job

    # -- removing --------------------------------------------------------------------------
    def remove(self, component: Any) -> None:
        """Remove one component object.

        Raises:
            ComponentNotFound: it is not registered.
        """
        with self._lock:
            for attr in ("commands", "handlers", "preprocessors", "jobs"):
                items = getattr(self, attr)
                if any(c is component for c in items):
                    setattr(self, attr, tuple(c for c in items if c is not component))
                    self._changed()
                    return
        raise ComponentNotFound(f"{component!r} is not registered with this bot")

    def remove_command(self, name: str) -> int:
        """Remove every command named ``name``; return how many (0 if none)."""
        with self._lock:
            keep = tuple(c for c in self.commands if c.name != name)
            n = len(self.commands) - len(keep)
            if n:
                self.commands = keep
                self._changed()
        return n

    def remove_components(self, owner: str) -> int:
        """Remove all commands, handlers, preprocessors and jobs tagged ``owner``; return the count."""
        with self._lock:
            n = 0
            for attr in ("commands", "handlers", "preprocessors", "jobs"):
                items = getattr(self, attr)
                keep = tuple(c for c in items if c.owner != owner)
                n += len(items) - len(keep)
                setattr(self, attr, keep)
            if n:
                self._changed()
        return n

    def owned_by(self, owner: str) -> list[Any]:
        """Return every component tagged ``owner``."""
        return [
            c
            for items in (self.commands, self.handlers, self.preprocessors, self.jobs)
            for c in items
            if c.owner == owner
        ]

    # -- enabling --------------------------------------------------------------------------
    def set_enabled(self, name: str, enabled: bool, *, kind: str = "command") -> int:
        """Enable/disable every component of ``kind`` (command, handler, preprocessor, job)
        named ``name``; return how many.

        Raises:
            ComponentNotFound: nothing of that kind has that name.
        """
        attr = {"command": "commands", "handler": "handlers", "preprocessor": "preprocessors",
                "job": "jobs"}[kind]
        with self._lock:
            hits = [c for c in getattr(self, attr) if c.name == name]
            if not hits:
                raise ComponentNotFound(f"no {kind} named {name!r} is registered")
            for c in hits:
                c.enabled = enabled
            self._changed()
        return len(hits)

    # -- reading ---------------------------------------------------------------------------
    def handlers_for(self, event: str) -> tuple[EventHandler, ...]:
        """Return the handlers bound to dispatch event ``event`` (enabled or not)."""
        return self._by_event.get(event, ())

    def subscribed_events(self) -> frozenset[str]:
        """Return every event some handler or command needs."""
        evs: set[str] = set()
        for h in self.handlers:
            evs |= h.events
        for c in self.commands:
            for scene in c.scenes:
                evs.add(COMMAND_EVENTS[scene])
        if self.preprocessors and not evs:
            evs |= set(COMMAND_EVENTS.values())
        return frozenset(evs)

    def intents(self) -> Intents:
        """Return the intent bits needed by the registered components."""
        return intents_for_events(self.subscribed_events())

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        """Return a plain-data listing of all components (for status pages and the console)."""
        return {
            "commands": [
                {"name": c.name, "words": list(c.words), "regexes": [r.pattern for r in c.regexes],
                 "enabled": c.enabled, "owner": c.owner,
                 "scenes": sorted(s.value for s in c.scenes)}
                for c in self.commands
            ],
            "handlers": [
                {"name": h.name, "family": h.family, "events": sorted(h.events),
                 "enabled": h.enabled, "owner": h.owner}
                for h in self.handlers
            ],
            "preprocessors": [{"name": p.name, "owner": p.owner} for p in self.preprocessors],
            "jobs": [{"name": j.name, "kind": j.kind, "owner": j.owner, "enabled": j.enabled}
                     for j in self.jobs],
        }
