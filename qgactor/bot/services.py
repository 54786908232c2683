"""What a running bot shares with its handlers: the explicit context behind every handler object.

One :class:`BotServices` exists per running bot (several bots in one process each have their
own); handler contexts, jobs and conversations reach the API client, the sessions and the
trio thread through it, never through globals.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import attrs
import trio

from qgactor.bot.registry import ComponentRegistry
from qgactor.bot.sessions import SessionManager
from qgactor.bot.settings import BotSettings

if TYPE_CHECKING:
    from qgactor.bot.conversations import ConversationManager

__all__ = ["BotServices", "ADMIN_ROLE_IDS"]

#: Guild role ids that count as admins: 2 guild admin, 4 guild owner, 5 channel admin.
ADMIN_ROLE_IDS = frozenset({"2", "4", "5"})


@attrs.define(slots=True, eq=False)
class BotServices:
    """The shared parts of one running bot.

    Attributes:
        bot: the :class:`~qgactor.bot.Bot` facade (handlers register components through it).
        settings: the bot's settings.
        registry: its components.
        sessions: its session manager.
        api: the REST client (``qgactor.qq`` ``ApiClient``) or ``None`` before it is open.
        conversations: the conversation manager, or ``None`` before the tree is up.
        token: the trio token of the bot's thread (for blocking calls from worker threads).
        bot_id: the bot's own user id (from READY or ``get_me``), for stripping its mentions.
        thread_limiter: bounds plain ``def`` handlers running in worker threads.
        live_targets: reply targets still in memory (keeps ``msg_seq`` exact for timeout replies).
    """

    bot: Any
    settings: BotSettings
    registry: ComponentRegistry
    sessions: SessionManager
    api: Any = None
    conversations: "ConversationManager | None" = None
    token: trio.lowlevel.TrioToken | None = None
    bot_id: str | None = None
    thread_limiter: trio.CapacityLimiter | None = None
    live_targets: "weakref.WeakValueDictionary[tuple[Any, ...], Any]" = attrs.Factory(
        weakref.WeakValueDictionary
    )
