"""An unmodified qg-botsdk 4.x echo bot, pointed at the emulator by URL rewrites only.

qg-botsdk hard-codes ``https://api.sgroup.qq.com`` (``BOT.bot_url``, passed to its API object at
construction) and ``https://bots.qq.com/app/getAppAccessToken``. The minimal patch swaps the
``ClientSession`` class its HTTP module uses for one that rewrites those two prefixes; the
gateway URL comes from ``GET /gateway/bot``.
Usage: python qg_echo.py API_BASE TOKEN_URL APPID SECRET
"""

import sys
import warnings

import aiohttp

warnings.simplefilter("ignore", DeprecationWarning)

import qg_botsdk.http  # noqa: E402
from qg_botsdk import BOT, Model  # noqa: E402

API_BASE, TOKEN_URL, APPID, SECRET = sys.argv[1:5]
REWRITES = {"https://bots.qq.com/app/getAppAccessToken": TOKEN_URL, "https://api.sgroup.qq.com": API_BASE}


class RewritingSession(aiohttp.ClientSession):
    def _request(self, method, str_or_url, *args, **kwargs):
        url = str(str_or_url)
        for old, new in REWRITES.items():
            if url.startswith(old):
                url = new + url[len(old):]
        return super()._request(method, url, *args, **kwargs)


qg_botsdk.http.ClientSession = RewritingSession

bot = BOT(bot_id=APPID, bot_secret=SECRET, is_private=False, is_sandbox=False)


@bot.bind_group_msg()
def on_group(data: Model.GROUP_MESSAGE):
    data.reply(f"echo:{data.treated_msg.strip()}")


@bot.bind_friend_msg()
def on_friend(data: Model.C2C_MESSAGE):
    data.reply(f"echo:{data.treated_msg.strip()}")


@bot.bind_msg()
def on_guild(data: Model.MESSAGE):
    data.reply(f"echo:{data.treated_msg.strip()}")


print("QG STARTING", flush=True)
bot.start()
