"""The registration API of :class:`~qgactor.bot.Bot`: commands, binders, preprocessors, jobs.

Every method works as a decorator (``@bot.on_guild_member()``) and every component can also
be registered by a plain call (``bot.add_command(fn, "hello")``), optionally tagged with an
``owner`` so that ``bot.remove_components(owner)`` removes all of it. Registration works
before and while the bot runs; intents follow the binders unless set explicitly.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, TypeVar

from qgactor.bot.commands import Command
from qgactor.bot.registry import ComponentRegistry, EventHandler, Job, Preprocessor
from qgactor.bot.schedule import parse_cron
from qgactor.bot.scenes import SCENE_OF_EVENT, Scene, parse_scenes

__all__ = ["BindingMixin"]

F = TypeVar("F", bound=Callable[..., Any])
Scenes = Iterable[Scene | str] | Scene | str | None


class BindingMixin:
    """Decorators and ``add_*`` methods over ``self.registry``."""

    registry: ComponentRegistry

    # -- commands ------------------------------------------------------------------------------
    def add_command(
        self,
        handler: Callable[..., Any],
        command: str | Iterable[str] | None = None,
        *,
        regex: str | re.Pattern[str] | Iterable[str | re.Pattern[str]] | None = None,
        require_at: bool = False,
        admin_only: bool = False,
        admin_refusal: str | None = None,
        short_circuit: bool = True,
        custom_short_circuit: bool = False,
        scenes: Scenes = None,
        name: str | None = None,
        owner: str | None = None,
    ) -> Command:
        """Register ``handler`` as a command and return the :class:`Command` (see
        :meth:`on_command` for the options).

        Raises:
            ValueError: no word/regex, a bad regex or an unknown scene.
        """
        cmd = Command.create(
            handler, command, regex=regex, require_at=require_at, admin_only=admin_only,
            admin_refusal=admin_refusal, short_circuit=short_circuit,
            custom_short_circuit=custom_short_circuit, scenes=scenes, name=name, owner=owner,
        )
        return self.registry.add_command(cmd)

    def on_command(
        self,
        command: str | Iterable[str] | None = None,
        *,
        regex: str | re.Pattern[str] | Iterable[str | re.Pattern[str]] | None = None,
        require_at: bool = False,
        admin_only: bool = False,
        admin_refusal: str | None = None,
        short_circuit: bool = True,
        custom_short_circuit: bool = False,
        scenes: Scenes = None,
        name: str | None = None,
        owner: str | None = None,
    ) -> Callable[[F], F]:
        """Decorate a handler as a command.

        Args:
            command: a word or words matched at the start of the mention-stripped text,
                optionally after the command prefix (``/``).
            regex: pattern(s) searched in the text; groups are in ``msg.groups``.
            require_at: only when the bot is @-mentioned (DMs/C2C always count).
            admin_only: only guild owners/admins, group owners/admins and ``settings.admins``;
                ``admin_refusal`` is replied to others (None: ignore them silently).
            short_circuit: after it runs, no other command and no message handler runs.
            custom_short_circuit: stop only if the handler returns a truthy value.
            scenes: where it is valid (``"guild"``, ``"dm"``, ``"group"``, ``"c2c"``; default all).
            name: for ``enable_command``/``disable_command`` (default: the first word).
            owner: tag for ``remove_components``.

        Raises:
            ValueError: as :meth:`add_command`.
        """

        def decorator(fn: F) -> F:
            self.add_command(
                fn, command, regex=regex, require_at=require_at, admin_only=admin_only,
                admin_refusal=admin_refusal, short_circuit=short_circuit,
                custom_short_circuit=custom_short_circuit, scenes=scenes, name=name, owner=owner,
            )
            return fn

        return decorator

    def enable_command(self, name: str) -> None:
        """Enable the command(s) named ``name``. Raises ``ComponentNotFound``."""
        self.registry.set_enabled(name, True)

    def disable_command(self, name: str) -> None:
        """Disable the command(s) named ``name`` (they stop matching at once). Raises ``ComponentNotFound``."""
        self.registry.set_enabled(name, False)

    def remove_command(self, name: str) -> int:
        """Remove the command(s) named ``name``; return how many."""
        return self.registry.remove_command(name)

    def remove_components(self, owner: str) -> int:
        """Remove every command, handler, preprocessor and job tagged ``owner``; return the count."""
        return self.registry.remove_components(owner)

    def remove(self, component: Any) -> None:
        """Remove one component returned by an ``add_*`` method. Raises ``ComponentNotFound``."""
        self.registry.remove(component)

    # -- handlers ------------------------------------------------------------------------------
    def add_handler(self, fn: Callable[..., Any], family: str, *, events: Iterable[str] | None = None,
                    scenes: Scenes = None, ignore_self_delete: bool = False,
                    name: str | None = None, owner: str | None = None) -> EventHandler:
        """Register ``fn`` for an event family (see ``qgactor.bot.binders.FAMILIES``), or for
        explicit ``events`` with family ``"event"``.

        Raises:
            ValueError: unknown family/scene or events outside the family.
        """
        return self.registry.add_handler(fn, family, events=events, scenes=scenes,
                                         ignore_self_delete=ignore_self_delete, name=name, owner=owner)

    def _binder(self, family: str, fn: Any, **options: Any) -> Any:
        if callable(fn):  # used without parentheses: @bot.on_guild
            self.add_handler(fn, family, **options)
            return fn

        def decorator(f: F) -> F:
            self.add_handler(f, family, **options)
            return f

        return decorator

    def on_message(self, fn: Any = None, *, scenes: Scenes = None, all_messages: bool = False,
                   owner: str | None = None, name: str | None = None) -> Any:
        """Message handler for the given scenes (default all four): runs after commands, only
        when no command short-circuited. ``all_messages`` also subscribes messages that do not
        @ the bot (MESSAGE_CREATE, private-domain bots only; GROUP_MESSAGE_CREATE)."""
        wanted = parse_scenes(scenes)
        events = [e for e, sc in SCENE_OF_EVENT.items() if sc in wanted
                  and (all_messages or e not in ("MESSAGE_CREATE", "GROUP_MESSAGE_CREATE"))]
        return self._binder("message", fn, events=events, scenes=wanted, owner=owner, name=name)

    def on_guild_message(self, fn: Any = None, *, all_messages: bool = False,
                         owner: str | None = None, name: str | None = None) -> Any:
        """Guild channel messages that @ the bot (AT_MESSAGE_CREATE); ``all_messages``: every
        message (MESSAGE_CREATE, private-domain bots only)."""
        events = ["AT_MESSAGE_CREATE", "MESSAGE_CREATE"] if all_messages else None
        return self._binder("guild_message", fn, events=events, owner=owner, name=name)

    def on_dm(self, fn: Any = None, *, owner: str | None = None, name: str | None = None) -> Any:
        """Guild direct messages (DIRECT_MESSAGE_CREATE)."""
        return self._binder("dm", fn, owner=owner, name=name)

    def on_group_message(self, fn: Any = None, *, all_messages: bool = False,
                         owner: str | None = None, name: str | None = None) -> Any:
        """Group messages that @ the bot; ``all_messages``: also GROUP_MESSAGE_CREATE."""
        events = ["GROUP_AT_MESSAGE_CREATE", "GROUP_MESSAGE_CREATE"] if all_messages else None
        return self._binder("group_message", fn, events=events, owner=owner, name=name)

    def on_c2c_message(self, fn: Any = None, *, owner: str | None = None, name: str | None = None) -> Any:
        """QQ single-chat messages (C2C_MESSAGE_CREATE)."""
        return self._binder("c2c_message", fn, owner=owner, name=name)

    def on_message_delete(self, fn: Any = None, *, all_messages: bool = False,
                          ignore_self_delete: bool = False, owner: str | None = None,
                          name: str | None = None) -> Any:
        """Deleted messages (PUBLIC_MESSAGE_DELETE, DIRECT_MESSAGE_DELETE; ``all_messages``:
        also MESSAGE_DELETE). ``ignore_self_delete``: skip users deleting their own message."""
        events = None
        if all_messages:
            events = ["MESSAGE_DELETE", "PUBLIC_MESSAGE_DELETE", "DIRECT_MESSAGE_DELETE"]
        return self._binder("message_delete", fn, events=events, ignore_self_delete=ignore_self_delete,
                            owner=owner, name=name)

    def on_guild(self, fn: Any = None, *, events: Iterable[str] | None = None,
                 owner: str | None = None, name: str | None = None) -> Any:
        """GUILD_CREATE / GUILD_UPDATE / GUILD_DELETE."""
        return self._binder("guild", fn, events=events, owner=owner, name=name)

    def on_channel(self, fn: Any = None, *, events: Iterable[str] | None = None,
                   owner: str | None = None, name: str | None = None) -> Any:
        """CHANNEL_CREATE / CHANNEL_UPDATE / CHANNEL_DELETE."""
        return self._binder("channel", fn, events=events, owner=owner, name=name)

    def on_guild_member(self, fn: Any = None, *, events: Iterable[str] | None = None,
                        owner: str | None = None, name: str | None = None) -> Any:
        """GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE / GUILD_MEMBER_REMOVE."""
        return self._binder("guild_member", fn, events=events, owner=owner, name=name)

    def on_reaction(self, fn: Any = None, *, events: Iterable[str] | None = None,
                    owner: str | None = None, name: str | None = None) -> Any:
        """MESSAGE_REACTION_ADD / MESSAGE_REACTION_REMOVE."""
        return self._binder("reaction", fn, events=events, owner=owner, name=name)

    def on_interaction(self, fn: Any = None, *, owner: str | None = None, name: str | None = None) -> Any:
        """INTERACTION_CREATE (button clicks; acknowledge with ``msg.api``)."""
        return self._binder("interaction", fn, owner=owner, name=name)

    def on_audit(self, fn: Any = None, *, events: Iterable[str] | None = None,
                 owner: str | None = None, name: str | None = None) -> Any:
        """MESSAGE_AUDIT_PASS / MESSAGE_AUDIT_REJECT."""
        return self._binder("audit", fn, events=events, owner=owner, name=name)

    def on_forum(self, fn: Any = None, *, events: Iterable[str] | None = None,
                 owner: str | None = None, name: str | None = None) -> Any:
        """FORUM_* events (private-domain bots)."""
        return self._binder("forum", fn, events=events, owner=owner, name=name)

    def on_open_forum(self, fn: Any = None, *, events: Iterable[str] | None = None,
                      owner: str | None = None, name: str | None = None) -> Any:
        """OPEN_FORUM_* events."""
        return self._binder("open_forum", fn, events=events, owner=owner, name=name)

    def on_audio(self, fn: Any = None, *, events: Iterable[str] | None = None,
                 owner: str | None = None, name: str | None = None) -> Any:
        """AUDIO_START / AUDIO_FINISH / AUDIO_ON_MIC / AUDIO_OFF_MIC."""
        return self._binder("audio", fn, events=events, owner=owner, name=name)

    def on_live_channel_member(self, fn: Any = None, *, events: Iterable[str] | None = None,
                               owner: str | None = None, name: str | None = None) -> Any:
        """AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER / _EXIT."""
        return self._binder("live_channel_member", fn, events=events, owner=owner, name=name)

    def on_friend(self, fn: Any = None, *, events: Iterable[str] | None = None,
                  owner: str | None = None, name: str | None = None) -> Any:
        """FRIEND_ADD / FRIEND_DEL / C2C_MSG_REJECT / C2C_MSG_RECEIVE."""
        return self._binder("friend", fn, events=events, owner=owner, name=name)

    def on_group_robot(self, fn: Any = None, *, events: Iterable[str] | None = None,
                       owner: str | None = None, name: str | None = None) -> Any:
        """GROUP_ADD_ROBOT / GROUP_DEL_ROBOT / GROUP_MSG_REJECT / GROUP_MSG_RECEIVE."""
        return self._binder("group_robot", fn, events=events, owner=owner, name=name)

    def on_group_member(self, fn: Any = None, *, events: Iterable[str] | None = None,
                        owner: str | None = None, name: str | None = None) -> Any:
        """GROUP_MEMBER_ADD / GROUP_MEMBER_REMOVE (intent bit UNVERIFIED officially)."""
        return self._binder("group_member", fn, events=events, owner=owner, name=name)

    def on_ready(self, fn: Any = None, *, owner: str | None = None, name: str | None = None) -> Any:
        """READY and RESUMED (a shard's session started or resumed)."""
        return self._binder("ready", fn, owner=owner, name=name)

    def on_event(self, *events: str, owner: str | None = None, name: str | None = None) -> Any:
        """Any dispatch events by name (always run, also for messages a command handled).

        Raises:
            ValueError: no event names given.
        """

        def decorator(f: F) -> F:
            self.add_handler(f, "event", events=events, owner=owner, name=name)
            return f

        return decorator

    # -- preprocessors -------------------------------------------------------------------------
    def add_preprocessor(self, fn: Callable[..., Any], *, name: str | None = None,
                         owner: str | None = None) -> Preprocessor:
        """Register a preprocessor: it runs on every message first; returning ``False`` stops
        the message (no conversation, command or handler sees it)."""
        return self.registry.add_preprocessor(fn, name=name, owner=owner)

    def before_command(self, fn: Any = None, *, owner: str | None = None) -> Any:
        """Decorator form of :meth:`add_preprocessor`."""
        if callable(fn):
            self.add_preprocessor(fn, owner=owner)
            return fn

        def decorator(f: F) -> F:
            self.add_preprocessor(f, owner=owner)
            return f

        return decorator

    # -- jobs ------------------------------------------------------------------------------------
    def add_job(self, fn: Callable[..., Any], kind: str, *, interval: float | None = None,
                cron: str | None = None, delay: float | None = None, name: str | None = None,
                owner: str | None = None) -> Job:
        """Register a job: ``kind`` is ``"start"``, ``"stop"``, ``"interval"`` (every
        ``interval`` s, first after ``delay``, default one interval) or ``"cron"``.

        Raises:
            ValueError: a bad kind, a non-positive interval, or an invalid cron expression.
        """
        if kind not in ("start", "stop", "interval", "cron"):
            raise ValueError(f"job kind must be start, stop, interval or cron, got {kind!r}")
        if kind == "interval" and (interval is None or interval <= 0):
            raise ValueError(f"an interval job needs interval > 0 seconds, got {interval!r}")
        schedule = None
        if kind == "cron":
            if not cron:
                raise ValueError("a cron job needs cron='...' (e.g. '*/5 * * * *')")
            schedule = parse_cron(cron)
        return self.registry.add_job(Job(fn=fn, kind=kind, interval=interval, cron=schedule,
                                         delay=delay, name=name or "", owner=owner))

    def on_start(self, fn: Any = None, *, owner: str | None = None) -> Any:
        """Run once when the bot has started (at once if registered while it runs)."""
        return self._job_decorator(fn, "start", owner=owner)

    def on_stop(self, fn: Any = None, *, owner: str | None = None) -> Any:
        """Run once when the bot stops (before the API client closes)."""
        return self._job_decorator(fn, "stop", owner=owner)

    def every(self, seconds: float, *, delay: float | None = None, owner: str | None = None,
              name: str | None = None) -> Callable[[F], F]:
        """Run every ``seconds`` (first after ``delay``, default ``seconds``); runs never overlap."""
        return self._job_decorator(None, "interval", interval=seconds, delay=delay, owner=owner, name=name)

    def schedule(self, cron: str, *, owner: str | None = None, name: str | None = None) -> Callable[[F], F]:
        """Run on a cron-like schedule (``"*/5 * * * *"``, ``"@daily"``; see ``parse_cron``)."""
        return self._job_decorator(None, "cron", cron=cron, owner=owner, name=name)

    def _job_decorator(self, fn: Any, kind: str, **options: Any) -> Any:
        if callable(fn):
            self.add_job(fn, kind, **options)
            return fn

        def decorator(f: F) -> F:
            self.add_job(f, kind, **options)
            return f

        return decorator
