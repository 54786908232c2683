"""``qgactor run`` from start to graceful stop: config, application, console, signals, reload."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import trio

from qgactor.cli.appconfig import LoadedApp, load_app_config
from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project

__all__ = ["run_app", "first_cli_error", "classify_failure"]

log = logging.getLogger("qgactor.run")


def first_cli_error(exc: BaseException) -> CliError | None:
    """The first :class:`CliError` inside ``exc`` (unwrapping exception groups), if any."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = first_cli_error(inner)
            if found is not None:
                return found
    return None


def _all_causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


def classify_failure(exc: BaseException) -> CliError | None:
    """Map a crash of the running bot to a :class:`CliError` by its root causes, if possible:
    rejected credentials (exit 5), an unreachable platform (exit 4), a crash loop (exit 1)."""
    from qgactor.qq.errors import ApiConnectionError, AuthError
    from qgactor.runtime import RestartIntensityExceeded

    causes = _all_causes(exc)
    for cause in causes:
        if isinstance(cause, AuthError):
            return CliError(
                f"the platform rejected the credentials: {cause}",
                hint="check bot.appid and bot.secret in qgactor.toml (or QGACTOR_APPID / QGACTOR_SECRET)",
                code=ExitCode.AUTH,
            )
    for cause in causes:
        if isinstance(cause, (ApiConnectionError, OSError)):
            return CliError(
                f"cannot reach the platform: {type(cause).__name__}: {cause}",
                hint="check the network and bot.environment / bot.api_url / bot.token_url",
                code=ExitCode.UNREACHABLE,
            )
    for cause in causes:
        if isinstance(cause, RestartIntensityExceeded):
            return CliError(f"the bot stopped: {cause}", hint="see the logged traceback above", code=ExitCode.ERROR)
    return None


def _only_cancels_or_interrupts(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_cancels_or_interrupts(e) for e in exc.exceptions)
    return isinstance(exc, (KeyboardInterrupt, trio.Cancelled))


def _apply_logging_section(loaded: LoadedApp, args: argparse.Namespace) -> None:
    section = loaded.config.logging
    if not (args.verbose or args.quiet or args.log_level):
        logging.getLogger().setLevel(section.level)
    for name, level in dict(section.levels).items():
        logging.getLogger(name).setLevel(str(level).upper())
    if section.file:
        path = loaded.config.resolve(loaded.path.parent, section.file)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise CliError(
                f"{loaded.path}: logging.file = {section.file!r} cannot be opened: {exc.strerror or exc}",
                hint="choose a writable path or leave it empty",
                code=ExitCode.CONFIG,
            ) from None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s  %(message)s"))
        if loaded.redact is not None:
            handler.addFilter(loaded.redact)
        logging.getLogger().addHandler(handler)


def run_app(args: argparse.Namespace) -> int:
    """Run the project's bot until Ctrl-C/SIGTERM (or, with the console on piped input, EOF).

    Returns 0 after a graceful stop. Raises :class:`CliError` (exit 3 config, 4 unreachable,
    5 credentials).
    """
    project = Project(args.project)
    config_path: Path | None = args.config
    if config_path is not None and not config_path.exists():
        raise CliError(f"{config_path} does not exist", hint="pass an existing file to --config, or omit it", code=ExitCode.CONFIG)
    loaded = load_app_config(project, path=config_path, create=True, redact=getattr(args, "redact", None))
    _apply_logging_section(loaded, args)
    use_emulator = bool(args.emulator or loaded.use_emulator)
    with_console = use_emulator and not args.no_console and loaded.config.emulator.console
    try:
        trio.run(_run, project, loaded, args, use_emulator, with_console)
    except BaseException as exc:
        found = first_cli_error(exc)
        if found is not None:
            raise found from None
        if _only_cancels_or_interrupts(exc):
            return ExitCode.INTERRUPTED
        classified = classify_failure(exc)
        if classified is not None:
            log.debug("the bot failed", exc_info=exc)
            raise classified from None
        raise
    return ExitCode.OK


def _progress(connected: int, total: int) -> None:
    log.info("gateway: %d/%d shard(s) connected", connected, total)


async def _run(project: Project, loaded: LoadedApp, args: argparse.Namespace, use_emulator: bool, with_console: bool) -> None:
    from qgactor.cli.app import open_application

    done = trio.Event()
    async with trio.open_nursery() as nursery:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:

            async def on_signal() -> None:
                async for signum in signals:
                    log.info("%s received: stopping gracefully", signal.Signals(signum).name)
                    done.set()
                    return

            nursery.start_soon(on_signal)
            port = args.emulator_port or loaded.config.emulator.port
            target = "the embedded emulator" if use_emulator else loaded.settings.environment
            log.info("starting the bot of %s (%s)", project.root, target)
            up = {"app": False}
            with trio.CancelScope() as startup:

                async def cancel_startup() -> None:
                    # a signal before the application is up cancels the start-up; afterwards
                    # `done` ends the block below and the application stops gracefully
                    await done.wait()
                    if not up["app"]:
                        startup.cancel()

                nursery.start_soon(cancel_startup)
                async with open_application(
                    project,
                    loaded,
                    emulator=use_emulator,
                    emulator_port=port,
                    watch=loaded.config.plugins.hot_reload,
                    progress=_progress,
                    emulator_options={"host": loaded.config.emulator.host},
                ) as app:
                    up["app"] = True
                    # watching before "bot ready", so an edit made right after it is seen
                    await nursery.start(_watch_config, loaded)
                    _announce(app, with_console)
                    if with_console:
                        nursery.start_soon(_console, app, args, done)
                    await done.wait()
                    log.info("stopping in reverse start order: your actors, the plugins, then the bot's tree")
            nursery.cancel_scope.cancel()
    log.info("stopped")


def _announce(app: Any, with_console: bool) -> None:
    plugins = [p.name for p in app.plugins.list() if getattr(p.state, "value", p.state) in ("active", "loaded", "running")]
    log.info(
        "bot ready: plugins %s; actors %s; `qgactor status` shows the tree",
        ", ".join(plugins) or "none",
        ", ".join(a.name for a in app.loaded.actors) or "none",
    )
    if app.emulator is not None and not with_console:
        log.info("emulator at %s: talk to the bot with `qgactor chat` in another terminal", app.emulator.base_url)


async def _console(app: Any, args: argparse.Namespace, done: trio.Event) -> None:
    from qgactor.cli.cmd_chat import console_options
    from qgactor.console import ConsoleError, run_console
    from qgactor.console.emulator_link import EmulatorLink

    link = await EmulatorLink.for_emulator(app.emulator)
    try:
        await run_console(
            link,
            console_options(args),
            banner=lambda c: (
                "chat console: you are a QQ user talking to your bot (type /help for its commands,\n"
                "/console for the console's own, Ctrl-D or /quit to stop the bot)"
            ),
        )
    except ConsoleError as exc:
        sys.stderr.write(f"qgactor run: console: {exc}\n")
    finally:
        done.set()


async def _watch_config(loaded: LoadedApp, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Hot reload of qgactor.toml: validated swaps are logged (an invalid edit keeps the old one).
    Reports started once the file is watched."""
    from qgactor.config.app import app_config_manager

    reload = loaded.config.reload
    manager = app_config_manager(loaded.path, debounce=reload.debounce, watch=reload.watch, poll_interval=reload.poll_interval)
    manager.load(create=False)

    def changed(change: Any) -> None:
        keys = sorted(change.changed)
        # logging.level and logging.levels apply at once; logging.file (a new handler) and
        # everything else take effect at the next start
        live = [k for k in keys if k == "logging.level" or k.startswith("logging.levels")]
        if "logging.level" in keys:
            logging.getLogger().setLevel(change.new.logging.level)
        if any(k.startswith("logging.levels") for k in keys):
            old_levels = dict(change.old.logging.levels) if change.old is not None else {}
            new_levels = dict(change.new.logging.levels)
            for name in old_levels.keys() - new_levels.keys():
                logging.getLogger(name).setLevel(logging.NOTSET)  # back to its parent's level
            for name, level in new_levels.items():
                try:
                    logging.getLogger(name).setLevel(str(level).upper())
                except ValueError:
                    log.warning("%s: logging.levels.%s = %r is not a log level (use DEBUG, INFO, "
                                "WARNING or ERROR); left unchanged", loaded.path, name, level)
        restart = [k for k in keys if k not in live]
        log.info("%s changed: %s", loaded.path.name, ", ".join(keys) or "(formatting only)")
        if restart:
            log.warning("these settings take effect at the next `qgactor run`: %s", ", ".join(restart))

    manager.subscribe(changed)
    try:
        await manager.run(task_status=task_status)
    except Exception:
        log.exception("watching %s failed; config changes will need a restart", loaded.path)
        try:
            task_status.started()  # failed before watching: the bot runs on without it
        except RuntimeError:
            pass
