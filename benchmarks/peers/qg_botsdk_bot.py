"""qg-botsdk 4.x bot of the end-to-end benchmark (unmodified SDK; URLs rewritten by ``_rewrite``).

    python qg_botsdk_bot.py SCENARIO MODE API_BASE TOKEN_URL APPID SECRET

SCENARIO: ``echo`` (texts starting with ``slow`` first do 10 ms of I/O) or ``conv`` (``/guess`` then
``bot.api.wait_for(Scope.USER, ...)``, qg-botsdk's own multi-turn API). MODE: ``async``
(``BOT(is_async=True)``, ``async def`` handlers, ``asyncio.sleep``) or ``sync`` (the SDK's
default: handlers in a thread pool, ``time.sleep``). ``api_timeout=60`` (documented ``BOT``
argument; the default 20 s could drop replies queued behind a long burst).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rewrite  # noqa: E402

SCENARIO, MODE, API_BASE, TOKEN_URL, APPID, SECRET = sys.argv[1:7]
_rewrite.install(API_BASE, TOKEN_URL)
warnings.simplefilter("ignore", DeprecationWarning)

from qg_botsdk import BOT, BotCommandObject, CommandValidScenes, Scope  # noqa: E402

IS_ASYNC = MODE == "async"
SCENES = CommandValidScenes.GUILD | CommandValidScenes.GROUP

bot = BOT(bot_id=APPID, bot_secret=SECRET, is_private=False, is_sandbox=False, is_async=IS_ASYNC,
          api_timeout=60, max_workers=1100 if SCENARIO == "conv" else 32)

if SCENARIO == "echo":
    if IS_ASYNC:
        async def echo(data):  # type: ignore[no-untyped-def]
            text = data.treated_msg.strip()
            if text.startswith("slow"):
                await asyncio.sleep(0.01)
            await data.reply(text)
    else:
        def echo(data):  # type: ignore[no-untyped-def]
            text = data.treated_msg.strip()
            if text.startswith("slow"):
                time.sleep(0.01)
            data.reply(text)
    bot.bind_msg(echo)
    bot.bind_group_msg(echo)
else:
    # with a regex, qg-botsdk sets treated_msg to the match groups
    ANSWER = BotCommandObject(regex=r"(\d+)", valid_scenes=SCENES)
    if IS_ASYNC:
        @bot.on_command(command="/guess", valid_scenes=SCENES)
        async def guess(data):  # type: ignore[no-untyped-def]
            await data.reply("pick a number")
            answer = await bot.api.wait_for(Scope.USER, ANSWER, timeout=300)
            await answer.reply(f"you picked {answer.treated_msg[0]}")
    else:
        @bot.on_command(command="/guess", valid_scenes=SCENES)
        def guess(data):  # type: ignore[no-untyped-def]
            data.reply("pick a number")
            answer = bot.api.wait_for(Scope.USER, ANSWER, timeout=300)
            answer.reply(f"you picked {answer.treated_msg[0]}")

logging.getLogger().setLevel(logging.WARNING)
bot.logger.setLevel(logging.WARNING) if hasattr(bot.logger, "setLevel") else None
bot.start()
