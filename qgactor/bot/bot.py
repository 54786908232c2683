"""The :class:`Bot` facade: settings + components + the actor tree of a running bot.

```
bot (one_for_one)
├── token          refreshes the access token
├── sessions       owns the session store
├── conversations  dynamic: one actor per conversation key
├── dispatcher     InboundEvent → preprocessors → conversations → commands → handlers
├── scheduler      start / repeat / stop jobs
├── gateway        shards (or: webhook)           — started last, stopped first
└── ...            services added with add_service (plugins, watcher, user actors)
```
Nothing is global: several bots run independently in one process.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, AsyncIterator

import attrs
import trio

from qgactor.bot.actors import DispatcherActor, SchedulerActor, SessionsActor, TokenActor
from qgactor.bot.binding import BindingMixin
from qgactor.bot.conversations import ConversationManager
from qgactor.bot.dispatch import DispatchCore
from qgactor.bot.registry import ComponentRegistry
from qgactor.bot.replying import send_reply, target_from_address
from qgactor.bot.services import BotServices
from qgactor.bot.sessions import MemorySessionStore, Session, SessionManager, SessionStore, SqliteSessionStore
from qgactor.bot.settings import BotSettings, load_settings
from qgactor.qq import ApiClient, Endpoints, Intents, LegacyToken, TokenSource
from qgactor.runtime import (
    ActorNursery,
    ActorSnapshot,
    ChildSpec,
    DynamicSupervisor,
    Mailbox,
    Overflow,
    open_actor_nursery,
    snapshot,
    tune_gc_for_throughput,
)

__all__ = ["Bot", "ServiceCall"]

log = logging.getLogger(__name__)

#: Seconds the handlers of events in flight get to finish when the bot stops.
HANDLER_GRACE = 5.0


class ServiceCall:
    """The result of ``add_service``/``remove_service``: the change happens whether or not you
    await it; ``await`` it to wait until it is done (gives the ref, or None when not running)."""

    __slots__ = ("_done", "_value", "_error")

    def __init__(self) -> None:
        self._done = trio.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def _finish(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error
        self._done.set()

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._wait().__await__()

    async def _wait(self) -> Any:
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class Bot(BindingMixin):
    """A QQ bot: register commands and handlers, then ``run()`` it.

    Args:
        appid, secret: credentials (override ``settings``).
        settings: a :class:`BotSettings` (default: from the other arguments).
        store: a :class:`SessionStore` object (default: a SQLite store at
            ``settings.session_store``, or in memory for ``":memory:"``).
        name: the name of the bot's actor system (for snapshots and logs).
        **overrides: any other :class:`BotSettings` field.

    Raises:
        SettingsError: an invalid setting.
    """

    def __init__(self, appid: str | None = None, secret: str | None = None, *,
                 settings: BotSettings | None = None, store: SessionStore | None = None,
                 name: str = "bot", **overrides: Any) -> None:
        changes = dict(overrides)
        if appid is not None:
            changes["appid"] = str(appid)
        if secret is not None:
            changes["secret"] = secret
        self.settings = attrs.evolve(settings or BotSettings(), **changes)
        self.name = name
        self.registry = ComponentRegistry()
        self._own_store = store is None
        if store is None:
            store = self._store_for(self.settings.session_store)
        self.sessions = SessionManager(store, on_timeout=self._on_session_timeout,
                                       gc_interval=self.settings.session_gc_interval)
        self.services: BotServices | None = None
        self.system: ActorNursery | None = None
        self._extra: dict[str, ChildSpec] = {}
        self._scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._started = trio.Event()
        self.dispatch_core: DispatchCore | None = None
        self._subscribed: Intents | None = None

    @staticmethod
    def _store_for(path: str) -> SessionStore:
        return MemorySessionStore() if path in (":memory:", "") else SqliteSessionStore(path)

    def _sync_store(self) -> None:
        """Follow a ``settings.session_store`` changed after construction (e.g. by a test kit)."""
        if not self._own_store or len(self.sessions):
            return
        store = self.sessions.store
        path = self.settings.session_store
        current = ":memory:" if isinstance(store, MemorySessionStore) else getattr(store, "path", None)
        wanted = ":memory:" if path in (":memory:", "") else path
        if current != wanted:
            self.sessions.store = self._store_for(path)

    def __repr__(self) -> str:
        state = "running" if self.system is not None else "stopped"
        return f"<Bot {self.name} appid={self.settings.appid!r} {state}>"

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **overrides: Any) -> "Bot":
        """Build a bot from the ``[bot]`` table of a TOML file (stdlib ``tomllib``).

        A relative ``session_store`` path is taken relative to the file's directory.

        Raises:
            FileNotFoundError: no such file.
            SettingsError: invalid TOML or settings (the message names the file and key).
        """
        settings = load_settings(path)
        store = settings.session_store
        if store not in (":memory:", "") and not Path(store).is_absolute():
            settings = attrs.evolve(settings, session_store=str(Path(path).parent / store))
        return cls(settings=settings, **overrides)

    # -- what to connect to --------------------------------------------------------------------
    def endpoints(self) -> Endpoints:
        """The platform URLs for the settings' environment (custom URLs for e.g. the emulator)."""
        s = self.settings
        if s.environment == "custom" or (s.api_url and s.environment == "production"):
            return Endpoints.custom(s.base_url(), token_url=s.token_url or None)
        if s.environment == "sandbox" and s.api_url:
            return Endpoints.custom(s.base_url(), token_url=s.access_token_url())
        return Endpoints.named(s.environment)

    @property
    def intents(self) -> Intents:
        """The intents to subscribe: ``settings.intents`` if set, else what the components need
        (at least PUBLIC_GUILD_MESSAGES)."""
        if self.settings.intents is not None:
            return Intents(self.settings.intents)
        return self.registry.intents() or Intents.PUBLIC_GUILD_MESSAGES

    # -- services --------------------------------------------------------------------------------
    def add_service(self, spec: ChildSpec) -> ServiceCall:
        """Add a supervised child to the bot's tree (plugins host, watcher, your actors).

        Before ``run`` it is started with the bot; while running it starts now (await the
        result to wait for it). Raises ``ValueError`` if the spec has no name or the name is taken.
        """
        name = spec.name
        if not name:
            raise ValueError("a service needs a ChildSpec with a name")
        if name in self._extra:
            raise ValueError(f"a service named {name!r} is already added; remove_service it first")
        self._extra[name] = spec
        call = ServiceCall()
        if self.system is not None and self._nursery is not None:
            self._nursery.start_soon(self._spawn_service, spec, call)
        else:
            call._finish(None)
        return call

    async def _spawn_service(self, spec: ChildSpec, call: ServiceCall) -> None:
        try:
            assert self.system is not None
            call._finish(await self.system.spawn(spec))
        except Exception as exc:
            log.exception("could not start service %s", spec.name)
            call._finish(error=exc)

    def remove_service(self, name: str) -> ServiceCall:
        """Stop and forget the service ``name``. Raises ``KeyError`` if there is none."""
        if name not in self._extra:
            raise KeyError(f"no service named {name!r}; added: {', '.join(self._extra) or 'none'}")
        del self._extra[name]
        call = ServiceCall()
        system = self.system
        ref = system.lookup(name) if system is not None else None
        if ref is not None and self._nursery is not None:
            async def stop() -> None:
                try:
                    assert system is not None
                    await system.stop(ref)
                    call._finish(True)
                except Exception as exc:
                    call._finish(error=exc)

            self._nursery.start_soon(stop)
        else:
            call._finish(False)
        return call

    # -- running ---------------------------------------------------------------------------------
    def _credentials(self, endpoints: Endpoints) -> Any:
        s = self.settings
        if s.token:
            return LegacyToken(s.appid, s.token)
        return TokenSource(s.appid, s.secret, token_url=endpoints.token_url)

    async def _on_session_timeout(self, session: Session) -> None:
        services = self.services
        if not session.timeout_reply or not session.reply_to or services is None:
            return
        addr = session.reply_to
        key = (addr.get("scene"), addr.get("target_id"), addr.get("msg_id"), addr.get("event_id"))
        target = target_from_address(addr, services.live_targets.get(key))
        await send_reply(services.api, target, session.timeout_reply)

    async def serve(self, *, task_status: trio.TaskStatus["Bot"] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the bot until cancelled or :meth:`stop` (``await nursery.start(bot.serve)``).

        Raises:
            SettingsError: missing credentials.
            RuntimeError: the bot is already running.
            RestartIntensityExceeded: a part of the bot kept crashing past its restart limits.
        """
        if self.system is not None:
            raise RuntimeError(f"{self!r} is already running")
        self.settings.check_credentials()
        self._sync_store()
        s = self.settings
        endpoints = self.endpoints()
        credentials = self._credentials(endpoints)
        with trio.CancelScope() as scope:
            self._scope = scope
            try:
                async with ApiClient(credentials, endpoints=endpoints) as api, trio.open_nursery() as nursery:
                    self._nursery = nursery
                    services = BotServices(
                        bot=self, settings=s, registry=self.registry, sessions=self.sessions,
                        api=api, token=trio.lowlevel.current_trio_token(),
                        thread_limiter=trio.CapacityLimiter(s.handler_threads),
                    )
                    self.services = services
                    await self._learn_bot_id(api, services)
                    self._subscribed = self.intents
                    self.registry.add_listener(self._check_intents)
                    async with open_actor_nursery(name=self.name) as system:
                        await self._build_tree(system, services, api, credentials, endpoints)
                        self.system = system
                        self._started.set()
                        log.info("%r started (intents %d)", self, int(self.intents))
                        task_status.started(self)
                        await trio.sleep_forever()
            finally:
                self.registry.remove_listener(self._check_intents)
                self._subscribed = None
                self.system = None
                self.services = None
                self._nursery = None
                self._scope = None
                self._started = trio.Event()

    def _check_intents(self) -> None:
        subscribed = self._subscribed
        if subscribed is None or self.settings.intents is not None:
            return
        missing = self.registry.intents() & ~subscribed
        if missing:
            log.warning("components added while running need intents %s that this connection did "
                        "not subscribe; they receive those events after the bot restarts",
                        missing)

    async def _learn_bot_id(self, api: Any, services: BotServices) -> None:
        try:
            me = await api.get_me()
            services.bot_id = getattr(me, "id", None)
        except Exception as exc:  # READY carries it too; not fatal
            log.warning("could not read the bot's own user id (%s); waiting for READY", exc)

    async def _build_tree(self, system: ActorNursery, services: BotServices, api: Any,
                          credentials: Any, endpoints: Endpoints) -> None:
        s = self.settings
        await system.spawn(TokenActor, credentials, name="token")
        await system.spawn(SessionsActor, self.sessions, name="sessions", shutdown=10.0)
        conv_sup = await system.spawn(DynamicSupervisor, name="conversations")
        services.conversations = ConversationManager(conv_sup, idle_timeout=s.conversation_idle_timeout)
        assert self._nursery is not None
        await self._nursery.start(services.conversations.sweep)
        core = DispatchCore(services)
        dispatcher = await system.spawn(
            DispatcherActor, services, core, s.max_concurrent_handlers, kwargs={"grace": HANDLER_GRACE},
            name="dispatcher", shutdown=HANDLER_GRACE + 2.0, drain_on_stop=HANDLER_GRACE,
            mailbox=Mailbox(capacity=s.dispatcher_mailbox, overflow=Overflow.BACKPRESSURE),
        )
        self.dispatch_core = core
        await system.spawn(SchedulerActor, services, name="scheduler", shutdown=30.0)
        if s.transport == "webhook":
            from qgactor.bot.gateway import webhook_spec

            await system.spawn(webhook_spec(secret=s.secret, appid=s.appid, sink=dispatcher,
                                            host=s.webhook_host, port=s.webhook_port,
                                            path=s.webhook_path))
        else:
            from qgactor.bot.gateway import gateway_spec

            await system.spawn(gateway_spec(api=api, token_source=credentials, intents=int(self.intents),
                                            shards=s.shards, sink=dispatcher,
                                            gateway_url=endpoints.gateway_url))
        for spec in list(self._extra.values()):
            await system.spawn(spec)

    def stop(self) -> None:
        """Stop the running bot gracefully (no-op if it is not running)."""
        if self._scope is not None:
            self._scope.cancel()

    async def wait_started(self) -> None:
        """Wait until the bot's tree is up (for code that started ``serve`` elsewhere)."""
        await self._started.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Bot"]:
        """``async with bot.running():`` runs the bot for the block, stopping it on exit."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.serve)
            try:
                yield self
            finally:
                self.stop()

    def run(self) -> None:
        """Run the bot in a new trio loop until Ctrl-C (blocking; for scripts). The bot owns
        the process: with ``settings.tune_gc`` (the default) the garbage collector is tuned once
        the bot is up (:func:`~qgactor.runtime.tune_gc_for_throughput`).

        Ctrl-C stops the bot and returns quietly (logged at INFO): with trio's strict exception
        groups the interrupt arrives as ``KeyboardInterrupt`` wrapped in (nested) exception
        groups, possibly beside the ``Cancelled`` of the tasks it tore down; such a group counts
        as the interrupt. Anything else is raised (e.g. :class:`SettingsError`,
        :class:`RestartIntensityExceeded`).
        """
        try:
            trio.run(self._serve_owning_process)
        except BaseException as exc:
            if not is_interrupt(exc):
                raise
            log.info("%r interrupted", self)

    async def _serve_owning_process(self) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self.serve)
            if self.settings.tune_gc:
                tune_gc_for_throughput()

    # -- introspection ---------------------------------------------------------------------------
    def snapshot(self) -> ActorSnapshot | None:
        """The live actor tree (state, mailbox depth, processed, restarts, last error), or None
        when the bot is not running."""
        return snapshot(self.system) if self.system is not None else None

    def stats(self) -> dict[str, Any]:
        """Plain-data counters: dispatcher, sessions, conversations and the component listing."""
        out: dict[str, Any] = {"running": self.system is not None, "intents": int(self.intents),
                               "components": self.registry.describe(),
                               "sessions": self.sessions.stats()}
        core = self.dispatch_core
        if core is not None:
            out["dispatcher"] = attrs.asdict(core.stats)
        if self.services is not None and self.services.conversations is not None:
            out["conversations"] = self.services.conversations.stats()
        return out


def is_interrupt(exc: BaseException) -> bool:
    """True if ``exc`` is a Ctrl-C: ``KeyboardInterrupt``, or an exception group (nested or not)
    holding at least one ``KeyboardInterrupt`` and otherwise only ``KeyboardInterrupt`` or
    ``trio.Cancelled``."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    if not isinstance(exc, BaseExceptionGroup):
        return False
    interrupts, rest = exc.split(KeyboardInterrupt)
    if interrupts is None:
        return False
    if rest is None:
        return True
    _cancelled, other = rest.split(trio.Cancelled)
    return other is None
