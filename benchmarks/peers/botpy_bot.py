"""qq-botpy 1.x bot of the end-to-end benchmark (unmodified SDK; URLs rewritten by ``_rewrite``).

    python botpy_bot.py SCENARIO MODE API_BASE TOKEN_URL APPID SECRET

SCENARIO: ``echo`` (texts starting with ``slow`` first ``await asyncio.sleep(0.01)``) or ``conv``. botpy has
no conversation API: ``conv`` keeps a dict of users waiting for an answer (the usual
hand-written state machine). MODE is accepted for symmetry and ignored (botpy handlers are
``async def``). ``ext_handlers=False``: no log file in the working directory. ``timeout=60``: botpy's request timeout (documented ``Client`` argument;
the default 5 s drops replies that queue longer under a burst).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rewrite  # noqa: E402

SCENARIO, MODE, API_BASE, TOKEN_URL, APPID, SECRET = sys.argv[1:7]
_rewrite.install(API_BASE, TOKEN_URL)

import botpy  # noqa: E402


def _text(content: str) -> str:
    # guild content starts with "<@!botid> "; group content with " "
    return content.split("> ", 1)[-1].strip() if content.startswith("<@") else content.strip()


class EchoClient(botpy.Client):
    waiting: set[str] = set()

    async def _answer(self, message, key: str) -> None:  # type: ignore[no-untyped-def]
        text = _text(message.content or "")
        if SCENARIO == "conv":
            if key in self.waiting:
                self.waiting.discard(key)
                await message.reply(content=f"you picked {text}")
            elif text.startswith("/guess"):
                self.waiting.add(key)
                await message.reply(content="pick a number")
            return
        if text.startswith("slow"):
            await asyncio.sleep(0.01)
        await message.reply(content=text)

    async def on_at_message_create(self, message):  # type: ignore[no-untyped-def]
        await self._answer(message, f"{message.channel_id}:{message.author.id}")

    async def on_group_at_message_create(self, message):  # type: ignore[no-untyped-def]
        await self._answer(message, f"{message.group_openid}:{message.author.member_openid}")


logging.getLogger().setLevel(logging.WARNING)
intents = botpy.Intents(public_messages=True, public_guild_messages=True)
EchoClient(intents=intents, timeout=60, log_level=logging.WARNING,
           ext_handlers=False).run(appid=APPID, secret=SECRET)
