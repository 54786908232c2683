"""qgactor bot of the end-to-end benchmark: async or sync (``def``) handlers.

    python qgactor_bot.py SCENARIO MODE API_BASE TOKEN_URL APPID SECRET [HANDLERS]

SCENARIO: ``echo`` (reply with the mention-stripped text; texts starting with ``slow``
first do 10 ms of I/O), ``conv`` (``/guess`` opens a conversation, asks, the answer is replied to).
MODE: ``async`` (``async def`` handlers in the actor) or ``sync`` (``def`` handlers in
worker threads, ``time.sleep`` for the I/O). HANDLERS (optional; default: the
``BotSettings`` defaults, 64 handlers in flight and 64 worker threads) sets both
``max_concurrent_handlers`` and ``handler_threads``: a handler waiting in a conversation keeps
its dispatcher slot (and, sync, its thread), so U open conversations need U slots.
"""

from __future__ import annotations

import logging
import sys
import time

import trio

from qgactor.bot import Bot


def build(scenario: str, mode: str, api: str, token_url: str, appid: str, secret: str,
          handlers: int | None = None) -> Bot:
    """The bot for ``scenario`` with ``mode`` handlers; ``handlers`` (default: the settings'
    defaults) sets both ``max_concurrent_handlers`` and ``handler_threads``."""
    limits = {} if handlers is None else {"max_concurrent_handlers": handlers, "handler_threads": handlers}
    bot = Bot(appid=appid, secret=secret, environment="custom", api_url=api, token_url=token_url,
              session_store=":memory:", conversation_idle_timeout=600.0, **limits)
    scenes = ["guild", "group"]
    if scenario == "echo":
        if mode == "async":
            @bot.on_message(scenes=scenes)
            async def echo(msg):  # type: ignore[no-untyped-def]
                text = msg.text
                if text.startswith("slow"):
                    await trio.sleep(0.01)
                await msg.reply(text)
        else:
            @bot.on_message(scenes=scenes)
            def echo_sync(msg):  # type: ignore[no-untyped-def]
                text = msg.text
                if text.startswith("slow"):
                    time.sleep(0.01)
                msg.reply(text)
    elif scenario == "conv":
        if mode == "async":
            @bot.on_command("guess", scenes=scenes)
            async def guess(msg):  # type: ignore[no-untyped-def]
                async with msg.conversation(timeout=300) as conv:
                    answer = await conv.ask("pick a number")
                    await answer.reply(f"you picked {answer.text}")
        else:
            @bot.on_command("guess", scenes=scenes)
            def guess_sync(msg):  # type: ignore[no-untyped-def]
                with msg.conversation(timeout=300) as conv:
                    answer = conv.ask("pick a number")
                    answer.reply(f"you picked {answer.text}")
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    return bot


def main() -> None:
    scenario, mode, api, token_url, appid, secret = sys.argv[1:7]
    handlers = int(sys.argv[7]) if len(sys.argv) > 7 else None
    logging.basicConfig(level=logging.WARNING)
    build(scenario, mode, api, token_url, appid, secret, handlers).run()


if __name__ == "__main__":
    main()
