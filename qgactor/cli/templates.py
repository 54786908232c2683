"""The files ``qgactor init`` and ``qgactor plugin new`` write.

Most are kept as text here; the example actor is a real module,
:mod:`qgactor.cli.examples.reminder`, whose source is read as package data. ``{name}`` placeholders are filled with :meth:`str.format`; literal braces are doubled.
``qgactor.toml`` is not here: it is generated from the config schema, with comments, by
``qgactor.config`` (the same code that creates it on a first ``qgactor run``).
"""

from __future__ import annotations

from importlib import resources

__all__ = ["PROJECT_FILES", "PLUGIN_TEMPLATE", "PLUGIN_TEST_TEMPLATE", "REMINDER_ACTOR", "ACTORS_CONFIG"]

PLUGIN_TEMPLATE = '''\
"""{title}: an example plugin (edit me; the bot reloads this file when you save it)."""

from qgactor.plugins import Manifest, Plugin, command

__plugin__ = Manifest(version="0.1.0", description="{description}")


class {class_name}(Plugin):
    """{title}."""

    @command("{command}")
    async def {command}(self, msg):
        """Reply to `/{command}` with a greeting."""
        await msg.reply("Hello from {name}!")
'''
"""A new single-file plugin (``plugins/NAME.py``)."""

HELLO_PLUGIN = '''\
"""hello: the example plugin of a new qgactor project.

Try it with `qgactor run`, then type `/hello` or `/echo some text`.
Edit this file while the bot runs: it is reloaded when you save.
"""

from qgactor.plugins import Manifest, Plugin, command

__plugin__ = Manifest(version="0.1.0", description="Greets and echoes")


class Hello(Plugin):
    """Greets users and echoes text."""

    @command("hello")
    async def hello(self, msg):
        """`/hello`: a greeting."""
        await msg.reply("Hello! I am a qgactor bot.")

    @command("echo")
    def echo(self, msg):
        """`/echo TEXT`: says TEXT back (a plain `def` handler runs in a worker thread)."""
        msg.reply(msg.rest or "(nothing to echo)")
'''

PROJECT_TEST = '''\
"""Tests of this bot, using qgactor's testing kit (a pytest plugin installed with qgactor).

The `qq_project` fixture starts a local QQ platform emulator and this project's bot (the same
qgactor.toml, plugins/ and actors/ that `qgactor run` uses), connected over real websockets.
`say()` sends a message as a user and waits for the bot's reply (default: 5 seconds).
Run with: pytest
"""


async def test_hello_replies(qq_project):
    reply = await qq_project.say("/hello")
    assert "Hello" in reply.text


async def test_echo_in_a_group(qq_project):
    reply = await qq_project.say("/echo ping", scene="group")
    assert reply.text == "ping"


async def test_the_reminder_actor(qq_project):
    reply = await qq_project.say("/remind 0.2 tea", scene="c2c")
    assert reply.text == "OK, in 0.2 s"
    reminder = await qq_project.expect_reply(timeout=5)
    assert reminder.text == "⏰ tea"
'''

PLUGIN_TEST_TEMPLATE = '''\
"""Tests of the {name} plugin (qgactor testing kit: see the README of qgactor)."""


async def test_{name}_answers(qq_project):
    reply = await qq_project.say("/{command}")
    assert "Hello from {name}" in reply.text
'''
"""A test for a plugin created with ``qgactor plugin new --test``."""

PYTEST_INI = """\
[pytest]
# qgactor's testing kit fixtures are trio coroutines: run every async test under trio
trio_mode = true
testpaths = tests
timeout = 60
"""

GITIGNORE = """\
# qgactor runtime state (management token, emulator info) and session data
.qgactor/
*.sqlite3
*.sqlite3-*
__pycache__/
"""

PROJECT_README = """\
# {name}

A QQ bot built with [qgactor](https://pypi.org/project/qgactor/).

- `qgactor run` runs the bot. With no credentials in `qgactor.toml` it starts a local QQ
  platform emulator and a chat console: type `/hello` and press Enter.
  Put your AppID and AppSecret into `qgactor.toml` (or `QGACTOR_APPID` / `QGACTOR_SECRET`)
  to connect to the real platform.
- `pytest` runs the tests in `tests/` against the emulator.
- `qgactor plugin new NAME` adds a plugin to `plugins/`; `qgactor plugin list` lists them.
- `qgactor config check` validates `qgactor.toml`; `qgactor status` shows the running bot's
  actor tree.
"""

ACTORS_README = """\
# actors/

Application actors that `qgactor run` starts beside the bot, under its supervisor. Each one is
listed in `qgactor.toml` under `[[actors]]` with the module (a file in this folder), the class
and its options; the constructor receives the bot first, then the options as keywords.
`reminder.py` is an example: `/remind 10 drink water`.
"""

REMINDER_ACTOR = (resources.files("qgactor.cli.examples") / "reminder.py").read_text(encoding="utf-8")
"""The example application actor: the source of :mod:`qgactor.cli.examples.reminder` (which the
repository's ``actors/reminder.py`` imports)."""

ACTORS_CONFIG = """
[[actors]]
module = "reminder"
class = "Reminder"
name = "reminder"

[actors.options]
max_delay = 300
"""
"""The ``[[actors]]`` entry ``qgactor init`` appends to the generated ``qgactor.toml``."""

PROJECT_FILES: dict[str, str] = {
    "actors/reminder.py": REMINDER_ACTOR,
    "plugins/hello.py": HELLO_PLUGIN,
    "tests/test_bot.py": PROJECT_TEST,
    "pytest.ini": PYTEST_INI,
    ".gitignore": GITIGNORE,
    "README.md": PROJECT_README,
    "actors/README.md": ACTORS_README,
}
"""Relative path -> text of every file ``qgactor init`` writes besides ``qgactor.toml``."""
