"""An unmodified qq-botpy 1.x echo bot, pointed at the emulator by URL patches only.

The minimal patch (qq-botpy hard-codes https and the production hosts):
  * ``botpy.http.Route.SCHEME = "http"`` and ``Route.DOMAIN = "<host:port>"`` (the API base),
  * the token URL ``https://bots.qq.com/app/getAppAccessToken`` in ``botpy.robot`` is
    rewritten to the emulator's token URL.
The gateway URL needs no patch: botpy takes it from ``GET /gateway/bot``.
Usage: python botpy_echo.py API_BASE TOKEN_URL APPID SECRET
"""

import sys
import types

import aiohttp
import botpy
import botpy.http
import botpy.robot

API_BASE, TOKEN_URL, APPID, SECRET = sys.argv[1:5]
OFFICIAL_TOKEN_URL = "https://bots.qq.com/app/getAppAccessToken"

scheme, _, host = API_BASE.partition("://")
botpy.http.Route.SCHEME = scheme
botpy.http.Route.DOMAIN = host


def _session(*args, **kwargs):
    session = aiohttp.ClientSession(*args, **kwargs)
    post = session.post
    session.post = lambda url, **kw: post(TOKEN_URL if url == OFFICIAL_TOKEN_URL else url, **kw)
    return session


botpy.robot.aiohttp = types.SimpleNamespace(ClientSession=_session, ClientTimeout=aiohttp.ClientTimeout)


class EchoClient(botpy.Client):
    async def on_ready(self):
        print("BOTPY READY", flush=True)

    async def on_group_at_message_create(self, message):
        await message.reply(content=f"echo:{message.content.strip()}")

    async def on_c2c_message_create(self, message):
        await message.reply(content=f"echo:{message.content}")

    async def on_at_message_create(self, message):
        await message.reply(content=f"echo:{message.content.split('> ', 1)[-1]}")


intents = botpy.Intents(public_messages=True, public_guild_messages=True)
EchoClient(intents=intents, timeout=5).run(appid=APPID, secret=SECRET)
