"""The schema of ``qgactor.toml``: bot settings plus the project's plugins, logging, emulator,
reload and application-actor sections.

``[bot]`` is :class:`qgactor.bot.BotSettings` (its attribute docstrings become the comments).
:func:`load_app_config` creates the commented file on the first run (mode 0600: it may hold the
secret), and :func:`app_config_manager` gives a hot-reloading :class:`ConfigManager` of it.
Credentials may stay out of the file: :meth:`AppConfig.effective_bot` fills an empty appid /
secret from ``QGACTOR_APPID`` / ``QGACTOR_SECRET`` without ever writing them back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from qgactor.bot.settings import BotSettings
from qgactor.config.file import ConfigFile, Loaded
from qgactor.config.manager import ConfigManager
from qgactor.config.schema import config_class

__all__ = [
    "ActorConfig", "AppConfig", "EmulatorSection", "LoggingSection", "PluginsSection", "ReloadSection",
    "app_config_file", "app_config_manager", "load_app_config",
]

APPID_ENV = "QGACTOR_APPID"
SECRET_ENV = "QGACTOR_SECRET"


@config_class
class PluginsSection:
    """Where plugins live and how they reload."""

    dir: str = "plugins"
    """Directory of plugins (relative to this file); each plugin's config is NAME.toml beside it."""
    hot_reload: bool = True
    """Reload a plugin when its code or config file changes (plugins may opt out in their manifest)."""


@config_class
class LoggingSection:
    """What the bot logs and where."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Lowest level written: "DEBUG", "INFO", "WARNING" or "ERROR"."""
    file: str = ""
    """Also write the log to this file (relative to this file); empty for the console only."""
    levels: dict[str, str] = attrs.Factory(dict)
    """Per-logger levels, e.g. { "qgactor.bot.gateway" = "DEBUG" }."""


@config_class
class EmulatorSection:
    """The local QQ platform emulator that `qgactor run` can embed."""

    mode: Literal["auto", "always", "never"] = "auto"
    """"auto": use the embedded emulator when no credentials are set; "always"; or "never"."""
    host: str = "127.0.0.1"
    """Interface the embedded emulator listens on."""
    port: int = 0
    """Port of the embedded emulator; 0 picks a free one."""
    console: bool = True
    """Open the chat console when the emulator is embedded and `qgactor run` runs in a terminal."""


@config_class
class ReloadSection:
    """How changes to this file are noticed (plugin files follow [plugins])."""

    watch: Literal["auto", "events", "poll"] = "auto"
    """"auto" (file-system events, polling if unavailable), "events" or "poll" (network drives)."""
    debounce: float = 0.25
    """Seconds of quiet after the last change before reloading (editors write in bursts)."""
    poll_interval: float = 1.0
    """Seconds between checks when polling."""


@config_class
class ActorConfig:
    """One application actor started beside the bot."""

    module: str
    """Module in the actors directory: "reminder" is actors/reminder.py (or actors/reminder/)."""
    class_name: str = attrs.field(metadata={"key": "class"})
    """The Actor subclass in that module."""
    name: str = ""
    """Registry name of the actor; empty for the module name."""
    options: dict = attrs.Factory(dict)  # type: ignore[type-arg]
    """Keyword arguments for the actor's constructor (after the bot)."""
    enabled: bool = True
    """Set to false to keep the entry but not start the actor."""

    @property
    def actor_name(self) -> str:
        """``name`` or, if empty, ``module``."""
        return self.name or self.module


# the commented [[actors]] example written into new files
ActorConfig.__config_example__ = ActorConfig(  # type: ignore[attr-defined]
    module="reminder", class_name="Reminder", name="reminder", options={"max_delay": 300}
)


@config_class(version=1)
class AppConfig:
    """qgactor.toml: the settings of one bot project.

    Every key is documented above it. Edit while the bot runs: changes are checked and applied
    (an invalid edit keeps the running settings and the log says file, key and line). Your own
    comments and formatting are kept when qgactor rewrites this file."""

    bot: BotSettings = attrs.Factory(BotSettings)
    """Credentials, endpoints, transport and behaviour of the bot (env QGACTOR_APPID/QGACTOR_SECRET
    fill an empty appid/secret)."""
    plugins: PluginsSection = attrs.Factory(PluginsSection)
    logging: LoggingSection = attrs.Factory(LoggingSection)
    emulator: EmulatorSection = attrs.Factory(EmulatorSection)
    reload: ReloadSection = attrs.Factory(ReloadSection)
    actors: list[ActorConfig] = attrs.Factory(list)
    """Application actors to start (see actors/README.md); one [[actors]] table each."""

    def effective_bot(self, env: Mapping[str, str] | None = None) -> BotSettings:
        """The bot settings with an empty appid/secret filled from the environment."""
        env = os.environ if env is None else env
        bot = self.bot
        changes: dict[str, Any] = {}
        if not bot.appid and env.get(APPID_ENV):
            changes["appid"] = env[APPID_ENV]
        if not bot.secret and env.get(SECRET_ENV):
            changes["secret"] = env[SECRET_ENV]
        return attrs.evolve(bot, **changes) if changes else bot

    def has_credentials(self, env: Mapping[str, str] | None = None) -> bool:
        """True when an appid and a secret (or legacy token) are known (file or environment)."""
        bot = self.effective_bot(env)
        return bool(bot.appid and (bot.secret or bot.token))

    def use_emulator(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether `qgactor run` should embed the emulator (``[emulator] mode`` and the credentials)."""
        mode = self.emulator.mode
        return mode == "always" or (mode == "auto" and not self.has_credentials(env))

    def resolve(self, base: Path, relative: str) -> Path:
        """``relative`` (e.g. ``plugins.dir``) resolved against ``base``, the directory of the file."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else base / path


def app_config_file(path: str | os.PathLike[str], *, strict: bool = False) -> ConfigFile[AppConfig]:
    """The :class:`ConfigFile` of a ``qgactor.toml`` (new files are created with mode 0600)."""
    return ConfigFile(AppConfig, path, strict=strict, mode=0o600)


def load_app_config(path: str | os.PathLike[str], *, create: bool = True, strict: bool = False) -> Loaded[AppConfig]:
    """Load ``qgactor.toml``, writing the commented defaults first if it is missing and ``create``.

    Raises:
        FileNotFoundError: missing and ``create`` is false.
        ConfigSyntaxError, ConfigValidationError, ConfigVersionError: the file is invalid; the
            message names file, key and line.
    """
    return app_config_file(path, strict=strict).load(create=create)


def app_config_manager(path: str | os.PathLike[str], **options: Any) -> ConfigManager[AppConfig]:
    """A hot-reloading manager of ``qgactor.toml``; ``options`` go to :class:`ConfigManager`.

    Call ``.load()`` (or start ``.run()``) before reading ``.current``.
    """
    return ConfigManager(app_config_file(path), **options)
