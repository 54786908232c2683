"""The chat console: type as a QQ user, see the bot's replies as they arrive.

Two modes, chosen by whether stdin is a terminal:

* **interactive**: a prompt shows where you type (``guild #general alice>``); replies are printed
  as they arrive, by a task that runs beside the input reader.
* **scripted** (stdin piped): each line is a message; after each one the console waits for the
  bot's first reply (``reply_timeout``) and then until no new reply came for ``settle`` seconds,
  so the output is in order and a test can read it. At end of input it waits for replies to
  settle once more and returns.

Lines starting with ``/`` are console commands when the word is one of ``scene``, ``user``,
``at``, ``where``, ``quit``/``exit`` or ``console``; every other line (``/hello`` too) goes to
the bot. ``//text`` sends ``/text``.
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO

import attrs
import trio

from qgactor.console.link import SCENES, ChatLink, Place, Reply, WorldUser

__all__ = ["ConsoleOptions", "ConsoleError", "ChatConsole", "run_console"]

CONSOLE_WORDS = ("scene", "user", "at", "where", "quit", "exit", "console")

CONSOLE_HELP = """\
console commands:
  /scene guild|dm|group|c2c [N]  switch where you type (N picks the Nth channel or group)
  /user NAME                     speak as another user
  /at on|off                     @-mention the bot in guild channels and groups
  /where                         show where you type and as whom
  /quit                          leave (or Ctrl-D)
  //text                         send "/text" to the bot
anything else is sent to the bot (e.g. /hello, /help)."""


class ConsoleError(Exception):
    """The console cannot start (e.g. an unknown user or scene in its options)."""


@attrs.frozen
class ConsoleOptions:
    """How the console starts and, with piped input, how long it waits for replies."""

    scene: str = "guild"
    """Initial scene: guild, dm, group or c2c."""
    user: str | None = None
    """Initial user name (``None``: the first user of the world)."""
    at_bot: bool = True
    """@-mention the bot in guild channels and groups."""
    reply_timeout: float = 5.0
    """Scripted mode: seconds to wait for the first reply to a line."""
    settle: float = 0.3
    """Scripted mode: a burst of replies is over after this many quiet seconds."""
    interactive: bool | None = None
    """Force interactive (True) or scripted (False) mode; ``None``: stdin is a terminal."""


@attrs.define
class ChatConsole:
    """The console's state and its line handling (usable without a terminal, e.g. in tests)."""

    link: ChatLink
    options: ConsoleOptions
    out: TextIO = attrs.field(factory=lambda: sys.stdout)
    user: WorldUser = attrs.field(init=False)
    place: Place = attrs.field(init=False)
    at_bot: bool = attrs.field(init=False)
    done: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        users = self.link.users()
        if not users:
            raise ConsoleError("the platform world has no users to speak as")
        if self.options.user is None:
            self.user = users[0]
        else:
            self.user = self._find_user(self.options.user)
        if self.options.scene not in SCENES:
            raise ConsoleError(f"unknown scene {self.options.scene!r}: use one of {', '.join(SCENES)}")
        self.place = self.link.default_place(self.options.scene)
        self.at_bot = self.options.at_bot

    def _find_user(self, name: str) -> WorldUser:
        for user in self.link.users():
            if name in (user.name, user.id):
                return user
        known = ", ".join(u.name for u in self.link.users())
        raise ConsoleError(f"no user {name!r} in the emulator world (known: {known})")

    # -- output -------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Print a console line (not a bot reply)."""
        self.out.write(text + "\n")
        self.out.flush()

    def show_reply(self, reply: Reply) -> None:
        """Print one bot reply; the destination is shown when it is not where the user types."""
        here = reply.scene == self.place.scene
        prefix = "bot> " if here else f"bot [{reply.scene} {reply.where}]> "
        pad = " " * len(prefix)
        for index, line in enumerate(reply.lines):
            self.out.write((prefix if index == 0 else pad) + line + "\n")
        self.out.flush()

    def prompt(self) -> str:
        """The prompt text: scene, place and user."""
        where = self.place.label or self.place.target or ""
        at = "" if self.place.scene in ("dm", "c2c") or self.at_bot else " (no @)"
        return f"{self.place.scene} {where} {self.user.name}{at}> ".replace("  ", " ")

    # -- input --------------------------------------------------------------------------
    async def handle_line(self, line: str) -> bool:
        """Handle one input line; return True if a message was sent to the bot."""
        text = line.rstrip("\r\n")
        if not text.strip():
            return False
        if text.startswith("//"):
            return await self._send(text[1:])
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            if word in CONSOLE_WORDS:
                self._command(word, rest.strip())
                return False
        return await self._send(text)

    async def _send(self, text: str) -> bool:
        try:
            await self.link.send(self.place, self.user, text, at_bot=self.at_bot)
        except Exception as exc:  # the platform refused: show it and keep going
            self.say(f"! could not send: {exc}")
            return False
        return True

    def _command(self, word: str, rest: str) -> None:
        if word in ("quit", "exit"):
            self.done = True
        elif word == "console":
            self.say(CONSOLE_HELP)
        elif word == "where":
            self.say(f"you are {self.user.name} in {self.place.scene} {self.place.label or ''}".rstrip())
        elif word == "at":
            if rest not in ("on", "off"):
                self.say("usage: /at on|off")
            else:
                self.at_bot = rest == "on"
                self.say(f"@-mention of the bot: {rest}")
        elif word == "user":
            try:
                self.user = self._find_user(rest)
                self.say(f"you are now {self.user.name}")
            except ConsoleError as exc:
                self.say(f"! {exc}")
        elif word == "scene":
            scene, _, index = rest.partition(" ")
            if scene not in SCENES:
                self.say(f"usage: /scene {'|'.join(SCENES)} [N]")
                return
            places = self.link.places(scene)
            place = self.link.default_place(scene)
            if index.strip():
                try:
                    place = places[int(index) - 1]
                except (ValueError, IndexError):
                    self.say(f"! {scene} has {len(places)} place(s): " + ", ".join(
                        f"{i + 1}={p.label or p.target}" for i, p in enumerate(places)))
                    return
            self.place = place
            self.say(f"now typing in {scene} {place.label or ''}".rstrip())

    # -- scripted mode ------------------------------------------------------------------
    async def settle(self, first_timeout: float) -> int:
        """Print replies until none arrived for ``options.settle`` seconds; return how many.

        Waits up to ``first_timeout`` for the first one.
        """
        count = 0
        timeout = first_timeout
        while True:
            replies = await self.link.wait_replies(timeout)
            if not replies:
                return count
            for reply in replies:
                self.show_reply(reply)
            count += len(replies)
            timeout = self.options.settle


async def _read_line(stream: TextIO) -> str:
    return await trio.to_thread.run_sync(stream.readline, abandon_on_cancel=True)


async def run_console(
    link: ChatLink,
    options: ConsoleOptions = ConsoleOptions(),
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    banner: Callable[[ChatConsole], str] | None = None,
) -> None:
    """Run the console on ``stdin``/``stdout`` (default: the process's) until /quit or EOF.

    Raises :class:`ConsoleError` if the options name an unknown user or scene.
    """
    stdin = stdin if stdin is not None else sys.stdin
    console = ChatConsole(link, options, out=stdout if stdout is not None else sys.stdout)
    interactive = options.interactive
    if interactive is None:
        interactive = bool(getattr(stdin, "isatty", lambda: False)())
    if interactive:
        console.say(banner(console) if banner else "chat console: type a message; /console for commands, Ctrl-D to leave")
        await _interactive(console, stdin)
    else:
        await _scripted(console, stdin)


async def _scripted(console: ChatConsole, stdin: TextIO) -> None:
    while not console.done:
        line = await _read_line(stdin)
        if line == "":
            break
        if await console.handle_line(line):
            await console.settle(console.options.reply_timeout)
    await console.settle(console.options.settle)


async def _interactive(console: ChatConsole, stdin: TextIO) -> None:
    async with trio.open_nursery() as nursery:

        async def print_replies() -> None:
            while True:
                for reply in await console.link.wait_replies(1.0):
                    console.out.write("\r")
                    console.show_reply(reply)
                    console.out.write(console.prompt())
                    console.out.flush()

        nursery.start_soon(print_replies)
        while not console.done:
            console.out.write(console.prompt())
            console.out.flush()
            line = await _read_line(stdin)
            if line == "":
                console.out.write("\n")
                break
            await console.handle_line(line)
        nursery.cancel_scope.cancel()
