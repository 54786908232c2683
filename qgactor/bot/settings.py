"""The settings of one bot: credentials, endpoints, transport and behaviour.

:class:`BotSettings` is the schema of the ``[bot]`` table of ``qgactor.toml``; the config layer
(``qgactor.config``) reads the attribute docstrings below to write the comments of the
generated file. :func:`load_settings` is the stdlib-only reader used by ``Bot.from_config``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = ["BotSettings", "SettingsError", "load_settings", "ENVIRONMENTS"]

#: Base URLs of the OpenAPI per environment (spec section 1).
ENVIRONMENTS: dict[str, str] = {
    "production": "https://api.sgroup.qq.com",
    "sandbox": "https://sandbox.api.sgroup.qq.com",
}
#: The access-token endpoint (same for every environment, spec section 1).
DEFAULT_TOKEN_URL = "https://bots.qq.com/app/getAppAccessToken"


class SettingsError(ValueError):
    """Raised when bot settings are invalid; the message names the key and what to do."""


def _redact(value: str) -> str:
    return "'***'" if value else "''"


def _check_shards(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"bot.shards must be a positive integer or \"auto\", got {value!r}")


def _check_choice(*choices: str) -> Any:
    def check(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise SettingsError(
                f"bot.{attribute.name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )

    return check


def _check_positive(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise SettingsError(f"bot.{attribute.name} must be a positive number, got {value!r}")


def _check_bool(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise SettingsError(f"bot.{attribute.name} must be true or false, got {value!r}")


def _check_intents(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingsError(
            f"bot.intents must be a non-negative integer bit mask (or omitted for automatic), got {value!r}"
        )


def _to_str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)) and all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return tuple(str(v) for v in value)
    raise SettingsError(f'bot.admins must be a list of user ids / openids, e.g. admins = ["123"], got {value!r}')


def _to_id(value: Any) -> Any:
    """AppIDs are numeric: accept ``appid = 102000001`` as well as the string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


#: Fields whose value must never be shown, not even in an error message.
_SECRET_FIELDS = frozenset({"secret", "token"})


def _check_text(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str):
        shown = "(value hidden)" if attribute.name in _SECRET_FIELDS else repr(value)
        raise SettingsError(f'bot.{attribute.name} must be a string (quoted in TOML: {attribute.name} = "..."), '
                            f"got {type(value).__name__} {shown}")


def _check_port(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise SettingsError(f"bot.{attribute.name} must be a port number from 0 to 65535 (0: any free port), "
                            f"got {value!r}")


@attrs.frozen(slots=True)
class BotSettings:
    """Everything one bot needs to connect and behave; immutable (use ``attrs.evolve`` to change).

    The secret and the legacy token are redacted in ``repr``.

    Raises:
        SettingsError: from the constructor when a value is out of range.
    """

    appid: str = attrs.field(default="", converter=_to_id, validator=_check_text)
    """The bot's AppID from the QQ Open Platform console (q.qq.com)."""

    secret: str = attrs.field(default="", repr=_redact, validator=_check_text)
    """The bot's AppSecret; used to fetch access tokens and to sign webhook answers. Keep it private."""

    token: str = attrs.field(default="", repr=_redact, validator=_check_text)
    """Optional legacy bot token (the old "Bot appid.token" scheme); empty to use the AppSecret."""

    environment: str = attrs.field(
        default="production", validator=_check_choice("production", "sandbox", "custom")
    )
    """Which platform to talk to: "production", "sandbox", or "custom" (then api_url is required)."""

    api_url: str = attrs.field(default="", validator=_check_text)
    """OpenAPI base URL; empty for the environment's default (custom: e.g. the local emulator)."""

    token_url: str = attrs.field(default="", validator=_check_text)
    """Access-token endpoint URL; empty for https://bots.qq.com/app/getAppAccessToken."""

    sandbox_api_url: str = attrs.field(default=ENVIRONMENTS["sandbox"], validator=_check_text)
    """OpenAPI base URL used when environment is "sandbox"."""

    transport: str = attrs.field(default="websocket", validator=_check_choice("websocket", "webhook"))
    """How events arrive: "websocket" (the gateway) or "webhook" (HTTP callbacks)."""

    shards: int | str = attrs.field(default=1, validator=_check_shards)
    """Number of gateway shards, or "auto" to use the count the platform recommends."""

    intents: int | None = attrs.field(default=None, validator=_check_intents)
    """Intent bit mask to subscribe; omit to subscribe exactly what the registered handlers need."""

    admins: tuple[str, ...] = attrs.field(default=(), converter=_to_str_tuple)
    """Bot-admin user ids / openids; they pass admin-only commands in every scene (groups, C2C)."""

    session_store: str = attrs.field(default="sessions.sqlite3", validator=_check_text)
    """SQLite file that persists sessions; ":memory:" keeps them in memory only."""

    webhook_host: str = attrs.field(default="127.0.0.1", validator=_check_text)
    """Address the webhook receiver listens on (transport = "webhook")."""

    webhook_port: int = attrs.field(default=8080, validator=_check_port)
    """Port the webhook receiver listens on (the platform allows 80, 443, 8080, 8443)."""

    webhook_path: str = attrs.field(default="/qqbot", validator=_check_text)
    """URL path of the webhook receiver."""

    command_prefix: str = attrs.field(default="/", validator=_check_text)
    """Optional prefix before a command word ("/hello" and "hello" both match); empty to disable."""

    max_concurrent_handlers: int = attrs.field(default=64, validator=_check_positive)
    """How many handler calls may run at once; further events wait (backpressure)."""

    handler_threads: int = attrs.field(default=64, validator=_check_positive)
    """How many plain `def` handlers may run in worker threads at once (threads start on demand and end after 10 s idle)."""

    conversation_idle_timeout: float = attrs.field(default=300.0, validator=_check_positive)
    """Seconds after which an idle conversation actor stops (its state is small and restarts on demand)."""

    session_gc_interval: float = attrs.field(default=60.0, validator=_check_positive)
    """Seconds between sweeps that end sessions whose active timeout has passed."""

    dispatcher_mailbox: int = attrs.field(default=1000, validator=_check_positive)
    """Capacity of the dispatcher's mailbox; a full mailbox slows reading the socket."""

    tune_gc: bool = attrs.field(default=True, validator=_check_bool)
    """When the bot owns the process (`Bot.run()`, `qgactor run`): once it is up, freeze the objects alive then out of garbage collection and collect less often (about 10-15 % less CPU under load)."""

    def base_url(self) -> str:
        """Return the OpenAPI base URL for this environment.

        Raises:
            SettingsError: environment is "custom" and ``api_url`` is empty.
        """
        if self.api_url:
            return self.api_url.rstrip("/")
        if self.environment == "sandbox":
            return self.sandbox_api_url.rstrip("/")
        if self.environment == "custom":
            raise SettingsError('bot.environment is "custom" but bot.api_url is empty: set bot.api_url')
        return ENVIRONMENTS["production"]

    def access_token_url(self) -> str:
        """Return the access-token endpoint URL."""
        return self.token_url or DEFAULT_TOKEN_URL

    def check_credentials(self) -> None:
        """Raise :class:`SettingsError` unless an appid and a secret (or legacy token) are set."""
        if not self.appid:
            raise SettingsError("bot.appid is empty: set it to your bot's AppID from q.qq.com")
        if not (self.secret or self.token):
            raise SettingsError(
                "bot.secret is empty: set it to your bot's AppSecret (or QGACTOR_SECRET in the environment)"
            )


_FIELDS = {f.name for f in attrs.fields(BotSettings)}


def settings_from_mapping(data: dict[str, Any], *, source: str = "<mapping>") -> BotSettings:
    """Build :class:`BotSettings` from a mapping of field names (e.g. a TOML table).

    Raises:
        SettingsError: unknown keys or invalid values; the message names ``source`` and the key.
    """
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise SettingsError(
            f"{source}: unknown bot setting(s) {', '.join(unknown)}; known settings are: {', '.join(sorted(_FIELDS))}"
        )
    try:
        return BotSettings(**data)
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}") from None
    except TypeError as exc:
        raise SettingsError(f"{source}: {exc}") from None


def load_settings(path: str | os.PathLike[str], *, env: dict[str, str] | None = None) -> BotSettings:
    """Read bot settings from a TOML file with stdlib ``tomllib``.

    The settings live in a ``[bot]`` table (other tables belong to plugins and apps and are
    ignored here). ``QGACTOR_APPID`` / ``QGACTOR_SECRET`` in ``env`` (default: ``os.environ``)
    fill an empty appid/secret, so secrets need not be written into the file.

    Raises:
        FileNotFoundError: the file does not exist.
        SettingsError: the file is not valid TOML, has no ``[bot]`` table, or a value is invalid.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such config file; create one with 'qgactor init' or pass the "
                                "path of an existing qgactor.toml") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{p}: not valid TOML: {exc}") from None
    table = data.get("bot")
    if not isinstance(table, dict):
        raise SettingsError(f"{p}: no [bot] table; add one with at least appid and secret")
    table = dict(table)
    env = os.environ if env is None else env
    if not table.get("appid") and env.get("QGACTOR_APPID"):
        table["appid"] = env["QGACTOR_APPID"]
    if not table.get("secret") and env.get("QGACTOR_SECRET"):
        table["secret"] = env["QGACTOR_SECRET"]
    return settings_from_mapping(table, source=f"{p} [bot]")
