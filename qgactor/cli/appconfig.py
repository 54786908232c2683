"""Reading ``qgactor.toml`` for the commands: :func:`load_app_config` turns the config layer's
:class:`~qgactor.config.app.AppConfig` into what the application needs (effective bot settings,
resolved directories, the actor entries) and every config error into a :class:`CliError` with
exit code 3 naming the file, the key, the line and what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project

__all__ = ["ActorEntry", "LoadedApp", "load_app_config", "write_default_config", "plugins_dir_of"]

log = logging.getLogger(__name__)


@attrs.frozen
class ActorEntry:
    """One enabled ``[[actors]]`` entry."""

    module: str
    """Module name in the actors directory."""
    class_name: str
    """The Actor subclass."""
    name: str
    """Registry name."""
    options: dict[str, Any]
    """Constructor keyword arguments (after the bot)."""
    source: str = "qgactor.toml"
    """The config file it came from (for messages)."""


@attrs.frozen
class LoadedApp:
    """A validated ``qgactor.toml`` resolved for running."""

    path: Path
    """The config file (may not exist when loaded with ``missing_ok``)."""
    config: Any
    """The :class:`~qgactor.config.app.AppConfig`."""
    settings: Any
    """Effective :class:`~qgactor.bot.BotSettings` (environment credentials applied, the session
    store resolved against the file's directory)."""
    plugins_dir: Path
    """The plugins directory."""
    plugin_config_dir: Path
    """Where plugin configs (``NAME.toml``) live."""
    actors: tuple[ActorEntry, ...]
    """The enabled application actors."""
    use_emulator: bool
    """True when ``qgactor run`` should embed the emulator (no credentials, or mode = always)."""
    redact: Any = None
    """The CLI's secret-redaction log filter, if any (secrets are registered with it)."""

    def summary(self) -> list[str]:
        """Human-readable lines for ``qgactor config check`` (no secrets)."""
        s = self.settings
        creds = "configured" if (s.appid and (s.secret or s.token)) else "none (the embedded emulator is used)"
        lines = [
            f"credentials: {creds}" + (f", appid {s.appid}" if s.appid else ""),
            f"environment: {s.environment}, transport: {s.transport}, shards: {s.shards}",
            f"plugins: {self.plugins_dir}" + ("" if self.plugins_dir.is_dir() else " (missing)"),
            f"actors: {', '.join(f'{a.name} ({a.module}.{a.class_name})' for a in self.actors) or 'none'}",
            f"emulator: {'embedded' if self.use_emulator else 'not used'}",
        ]
        return lines


def _config_error(path: Path, exc: Exception) -> CliError:
    from qgactor.config import ConfigSyntaxError, ConfigValidationError, ConfigVersionError

    if isinstance(exc, ConfigValidationError):
        return CliError(
            f"{path} is invalid:\n" + "\n".join(f"  {p}" for p in exc.problems),
            hint="fix the keys listed (each line says file:line: key: what is expected), then run `qgactor config check`",
            code=ExitCode.CONFIG,
        )
    if isinstance(exc, ConfigSyntaxError):
        return CliError(str(exc), hint="fix the TOML syntax at that line", code=ExitCode.CONFIG)
    if isinstance(exc, ConfigVersionError):
        return CliError(str(exc), hint="upgrade qgactor, or fix config_version", code=ExitCode.CONFIG)
    return CliError(f"{path}: {exc}", code=ExitCode.CONFIG)


def load_app_config(
    project: Project,
    *,
    path: Path | None = None,
    create: bool = True,
    missing_ok: bool = False,
    redact: Any = None,
) -> LoadedApp:
    """Load (and with ``create``, first write the commented defaults of) the project's config.

    ``missing_ok`` uses the defaults in memory when the file is missing and ``create`` is false.
    Raises :class:`CliError` with exit code 3: missing file (unless ``create``/``missing_ok``),
    unreadable file, invalid TOML, invalid values (every problem with file, key and line),
    invalid bot settings.
    """
    from qgactor.bot import SettingsError
    from qgactor.config import ConfigError
    from qgactor.config.app import AppConfig
    from qgactor.config.app import load_app_config as load_config

    path = Path(path) if path is not None else project.config_path
    existed = path.exists()
    try:
        if not existed and not create and missing_ok:
            config = AppConfig()
        else:
            config = load_config(path, create=create).value
    except FileNotFoundError:
        raise CliError(
            f"{path} does not exist",
            hint="run `qgactor run` (it creates the file with comments) or `qgactor init`",
            code=ExitCode.CONFIG,
        ) from None
    except IsADirectoryError:
        raise CliError(f"{path} is a directory, not a config file", code=ExitCode.CONFIG) from None
    except PermissionError:
        raise CliError(f"cannot read {path}: permission denied", hint="check the file's permissions", code=ExitCode.CONFIG) from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})", hint="save it as UTF-8", code=ExitCode.CONFIG) from None
    except (ConfigError, SettingsError) as exc:
        raise _config_error(path, exc) from None
    if create and not existed:
        log.info("created %s with the default settings (every key is commented)", path)
    base = path.parent.resolve()
    try:
        settings = config.effective_bot()
    except SettingsError as exc:
        raise CliError(f"{path}: {exc}", code=ExitCode.CONFIG) from None
    store = settings.session_store
    if store not in (":memory:", "") and not Path(store).is_absolute():
        settings = attrs.evolve(settings, session_store=str(base / store))
    plugins_dir = config.resolve(base, config.plugins.dir)
    actors = tuple(
        ActorEntry(a.module, a.class_name, a.actor_name, dict(a.options), str(path)) for a in config.actors if a.enabled
    )
    names = [a.name for a in actors]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CliError(
            f"{path}: [[actors]] names must be unique; {', '.join(duplicates)} used more than once",
            hint="give each [[actors]] entry its own name = \"...\"",
            code=ExitCode.CONFIG,
        )
    return LoadedApp(
        path=path,
        config=config,
        settings=settings,
        plugins_dir=plugins_dir,
        plugin_config_dir=plugins_dir,
        actors=actors,
        use_emulator=config.use_emulator(),
        redact=redact,
    )


def write_default_config(project: Project) -> Path:
    """Write the commented default ``qgactor.toml`` into the project (if missing); return its path.

    Raises ``OSError`` if it cannot be written.
    """
    from qgactor.config.app import load_app_config as load_config

    load_config(project.config_path, create=True)
    return project.config_path


def plugins_dir_of(project: Project) -> Path:
    """The project's plugins directory: ``[plugins] dir`` of its config, or ``plugins/``.

    Raises :class:`CliError` (exit 3) if the config exists but is invalid.
    """
    if not project.config_path.exists():
        return project.plugins_dir
    return load_app_config(project, create=False).plugins_dir
