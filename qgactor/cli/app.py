"""The running application of a project: bot + plugins + actors + management endpoint
(+ the embedded emulator when there are no credentials).

:func:`open_application` assembles and starts it; ``qgactor run`` and the testing kit's
``qq_project`` fixture both use it, so a test runs the project exactly as ``qgactor run`` does.
Start order: emulator, bot tree (token, sessions, conversations, dispatcher, scheduler,
gateway, then the services: plugins host, plugin watcher, the ``[[actors]]``), management
endpoint. Shutdown runs in reverse.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import attrs
import trio

from qgactor.cli.appconfig import ActorEntry, LoadedApp
from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.management import new_token, serve_management
from qgactor.cli.project import Project, write_private
from qgactor.runtime import tune_gc_for_throughput

__all__ = ["Application", "open_application", "load_actor_class", "wait_connected", "emulator_settings"]

log = logging.getLogger(__name__)


@attrs.define
class Application:
    """A started application: its bot, plugin manager, and emulator (if embedded)."""

    project: Project
    loaded: LoadedApp
    bot: Any
    plugins: Any
    emulator: Any | None = None
    management_port: int | None = None


def load_actor_class(project: Project, entry: ActorEntry) -> type:
    """Import ``actors/<module>.py`` of the project and return its class ``entry.class_name``.

    Raises :class:`CliError` (exit 3) naming the config entry when the file, the class or the
    import fails (the import error is logged with its traceback).
    """
    from qgactor.runtime import Actor

    where = f"{entry.source} [[actors]] name = {entry.name!r}"
    path = project.actors_dir / f"{entry.module}.py"
    if not path.is_file():
        package = project.actors_dir / entry.module / "__init__.py"
        if package.is_file():
            path = package
        else:
            raise CliError(
                f"{where}: module = {entry.module!r}, but {path} does not exist",
                hint=f"create {path} or fix the module name",
                code=ExitCode.CONFIG,
            )
    module_name = f"qgactor_project_actors.{entry.module}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"{where}: cannot import {path}", code=ExitCode.CONFIG)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        log.exception("importing %s failed", path)
        raise CliError(
            f"{where}: importing {path} failed: {type(exc).__name__}: {exc}",
            hint="fix the error shown in the traceback above",
            code=ExitCode.CONFIG,
        ) from None
    cls = getattr(module, entry.class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Actor)):
        found = sorted(n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, Actor) and v is not Actor)
        raise CliError(
            f"{where}: class = {entry.class_name!r} is not an Actor class in {path}",
            hint=f"actor classes there: {', '.join(found) or 'none'}",
            code=ExitCode.CONFIG,
        )
    return cls


def emulator_settings(settings: Any, emulator: Any) -> Any:
    """``settings`` (:class:`qgactor.bot.BotSettings`) pointed at ``emulator``: its URLs and
    credentials, environment ``custom``, no fixed token. Used by ``qgactor run`` and the
    testing kit."""
    return attrs.evolve(
        settings,
        appid=emulator.appid,
        secret=emulator.secret,
        token="",
        environment="custom",
        api_url=emulator.api_url,
        token_url=emulator.token_url,
    )


async def wait_connected(
    bot: Any,
    *,
    timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Wait until every gateway shard of a started bot is connected, reporting progress.

    ``progress(connected, total)`` is called whenever the count changes. Does nothing for the
    webhook transport. Raises :class:`CliError`: exit 5 when the platform refuses the
    credentials, exit 4 when the shards are not all connected within ``timeout``.
    """
    if bot.settings.transport != "websocket":
        return
    last = (-1, -1)
    status: dict[str, Any] = {}
    with trio.move_on_after(timeout):
        while True:
            gateway = bot.system.lookup("gateway") if bot.system is not None else None
            if gateway is not None:
                try:
                    status = await gateway.ask("status", timeout=2.0)
                except Exception as exc:  # restarting: try again
                    log.debug("gateway status unavailable: %s", exc)
                    status = {}
            connected = int(status.get("connected") or 0)
            total = int(status.get("shard_count") or 0)
            if (connected, total) != last and total:
                last = (connected, total)
                if progress is not None:
                    progress(connected, total)
            auth = _auth_failure(bot)
            if auth:
                raise CliError(f"the platform rejected the credentials: {auth}",
                               hint="check bot.appid and bot.secret (or QGACTOR_APPID / QGACTOR_SECRET)",
                               code=ExitCode.AUTH)
            fatal = status.get("fatal")
            if fatal:
                code = ExitCode.AUTH if any(c in str(fatal) for c in ("4004", "auth", "token")) else ExitCode.UNREACHABLE
                raise CliError(f"the gateway gave up: {fatal}", hint="check bot.appid / bot.secret and bot.intents", code=code)
            if total and connected >= total:
                return
            await trio.sleep(0.05)
    raise CliError(
        f"not connected after {timeout:g} s ({last[0] if last[0] >= 0 else 0} of {last[1] if last[1] > 0 else '?'} shards); "
        f"last gateway state: {_last_error(bot) or status or 'no answer'}",
        hint="check the network, bot.environment / bot.api_url, and the credentials",
        code=ExitCode.UNREACHABLE,
    )


def _auth_failure(bot: Any) -> str | None:
    """The last error of an actor that failed on rejected credentials, if any (no secrets in it)."""
    try:
        snap = bot.snapshot()
    except Exception:
        return None
    stack = [snap] if snap is not None else []
    while stack:
        node = stack.pop()
        error = str(getattr(node, "last_error", "") or "")
        if "AuthError" in error:
            return error
        stack.extend(getattr(node, "children", ()) or ())
    return None


def _last_error(bot: Any) -> str | None:
    try:
        snap = bot.snapshot()
    except Exception:
        return None
    found: list[str] = []

    def walk(node: Any) -> None:
        error = getattr(node, "last_error", None)
        if error:
            found.append(f"{getattr(node, 'name', '?')}: {error}")
        for child in getattr(node, "children", ()) or ():
            walk(child)

    if snap is not None:
        walk(snap)
    return "; ".join(found[-3:]) if found else None


@asynccontextmanager
async def open_application(
    project: Project,
    loaded: LoadedApp,
    *,
    emulator: bool,
    emulator_port: int = 0,
    management: bool = True,
    watch: bool = True,
    connect_timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    emulator_options: dict[str, Any] | None = None,
) -> AsyncIterator[Application]:
    """Start the project's application and yield it once every shard is connected.

    With ``emulator=True`` an emulator is started first (on ``emulator_port``, 0 = any) and
    the bot is pointed at it with its credentials. ``management`` serves the status endpoint and
    writes ``.qgactor/management.json`` (0600). Leaving the block stops everything in reverse
    order. Raises :class:`CliError` (config problems, unreachable platform, bad credentials).
    """
    from qgactor.bot import Bot
    from qgactor.plugins import PluginManager
    from qgactor.runtime import ChildSpec

    async with AsyncExitStack() as stack:
        settings = loaded.settings
        emu = None
        if emulator:
            from qgactor.emulator import open_emulator

            try:
                emu = await stack.enter_async_context(open_emulator(port=emulator_port, **(emulator_options or {})))
            except OSError as exc:
                raise CliError(
                    f"cannot start the embedded emulator on port {emulator_port}: {exc.strerror or exc}",
                    hint="pick another --emulator-port (0 = any free port)",
                    code=ExitCode.UNREACHABLE,
                ) from None
            settings = emulator_settings(settings, emu)
            log.info("embedded emulator at %s (no credentials configured, or --emulator)", emu.base_url)
        bot = Bot(settings=settings, name="bot")
        if loaded.redact is not None:
            for secret in (settings.secret, settings.token):
                loaded.redact.add(secret)

        manager = PluginManager(bot, loaded.plugins_dir, config_dir=loaded.plugin_config_dir)
        if loaded.plugins_dir.is_dir():
            plan = manager.attach(watch=watch)
            ready = [n for n in plan.order if manager.slots[n].version is not None]
            broken = sorted(n for n, slot in manager.slots.items() if slot.version is None)
            log.info("plugins: %s%s", ", ".join(ready) or "none loaded",
                     f" (not loaded: {', '.join(broken)}; see above)" if broken else "")
        else:
            log.warning("plugins directory %s does not exist: no plugins loaded", loaded.plugins_dir)
        for entry in loaded.actors:
            cls = load_actor_class(project, entry)
            bot.add_service(ChildSpec(cls, args=(bot,), kwargs=dict(entry.options), name=entry.name))
            log.info("actor %s: %s.%s", entry.name, entry.module, entry.class_name)

        # LIFO: manager.close (removes the plugins' registrations) must run only after the
        # nursery has waited for the bot's tree to stop, so the plugins host still finds its
        # plugins loaded and runs their on_unload hooks (a graceful Ctrl-C)
        stack.callback(manager.close)
        nursery = await stack.enter_async_context(trio.open_nursery())
        try:
            await nursery.start(bot.serve)
        except Exception as exc:
            from qgactor.bot import SettingsError

            if isinstance(exc, SettingsError):
                raise CliError(str(exc), hint="fix qgactor.toml ([bot] table)", code=ExitCode.CONFIG) from None
            raise _platform_error(exc) from exc
        stack.callback(bot.stop)
        if settings.tune_gc:  # `qgactor run` owns the process; it hot-reloads code: no freeze
            tune_gc_for_throughput(freeze=False)
        if emu is not None and settings.transport == "webhook":
            url = f"http://{settings.webhook_host}:{settings.webhook_port}{settings.webhook_path}"
            await emu.control.set_webhook(url)
        await wait_connected(bot, timeout=connect_timeout, progress=progress)

        app = Application(project, loaded, bot, manager, emu)
        if management:
            token = new_token()
            app.management_port = await nursery.start(
                lambda task_status: serve_management(
                    bot.snapshot, token=token, task_status=task_status,
                    redact=loaded.redact.mask if loaded.redact is not None else None)
            )
            try:
                project.ensure_state_dir()
                info: dict[str, Any] = {"port": app.management_port, "token": token, "pid": os.getpid()}
                write_private(project.management_file, json.dumps(info))
                stack.callback(project.management_file.unlink, missing_ok=True)
                if emu is not None:
                    from qgactor.cli.cmd_emulator import emulator_info

                    write_private(project.emulator_file, json.dumps(emulator_info(emu)))
                    stack.callback(project.emulator_file.unlink, missing_ok=True)
            except OSError as exc:
                log.warning("cannot write %s (%s): `qgactor status` will not find this bot", project.management_file, exc)
        try:
            yield app
        finally:
            nursery.cancel_scope.cancel()


def _platform_error(exc: BaseException) -> CliError:
    name = type(exc).__name__
    text = f"{name}: {exc}"
    if "Auth" in name or "401" in text:
        return CliError(f"the platform rejected the credentials ({text})", hint="check bot.appid and bot.secret", code=ExitCode.AUTH)
    return CliError(
        f"cannot start the bot: {text}",
        hint="check the network and bot.environment / bot.api_url",
        code=ExitCode.UNREACHABLE,
    )
