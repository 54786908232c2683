"""The bot layer: the :class:`Bot` facade, commands, handlers, conversations and sessions.

```python
from qgactor import Bot

bot = Bot(appid="...", secret="...")        # or Bot.from_config("qgactor.toml")

@bot.on_command("hello")
async def hello(msg):
    await msg.reply("hi")

bot.run()
```
"""

from __future__ import annotations

from qgactor.bot.bot import Bot, ServiceCall
from qgactor.bot.bridge import NotInBotThread
from qgactor.bot.commands import Command, CommandMatch
from qgactor.bot.context import EventContext, JobContext, MessageContext, NoReplyTarget
from qgactor.bot.conversations import (
    ConversationEnded,
    ConversationError,
    ConversationTimeout,
)
from qgactor.bot.dialog import Conversation
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.registry import ComponentNotFound, ComponentRegistry, EventHandler, Job, Preprocessor
from qgactor.bot.schedule import CronError, CronSchedule, parse_cron
from qgactor.bot.session_helpers import SessionHandle, SessionHelper
from qgactor.bot.sessions import (
    MemorySessionStore,
    Scope,
    Session,
    SessionError,
    SessionExists,
    SessionId,
    SessionManager,
    SessionNotFound,
    SessionRecord,
    SessionStatus,
    SessionStore,
    SqliteSessionStore,
)
from qgactor.bot.settings import BotSettings, SettingsError, load_settings

__all__ = [
    "Bot",
    "BotSettings",
    "SettingsError",
    "load_settings",
    "ServiceCall",
    "InboundEvent",
    # handler context objects
    "EventContext",
    "MessageContext",
    "JobContext",
    "NoReplyTarget",
    "NotInBotThread",
    # components
    "Command",
    "CommandMatch",
    "ComponentRegistry",
    "ComponentNotFound",
    "EventHandler",
    "Preprocessor",
    "Job",
    "CronSchedule",
    "CronError",
    "parse_cron",
    # conversations
    "Conversation",
    "ConversationError",
    "ConversationTimeout",
    "ConversationEnded",
    # sessions
    "Scope",
    "Session",
    "SessionId",
    "SessionStatus",
    "SessionRecord",
    "SessionManager",
    "SessionStore",
    "MemorySessionStore",
    "SqliteSessionStore",
    "SessionHandle",
    "SessionHelper",
    "SessionError",
    "SessionExists",
    "SessionNotFound",
]
