"""hello: greets, echoes, and answers anything no other plugin handled with a hint.

Try it in the chat console of `qgactor run`: `/hello`, `/echo some text`, or any other message.
"""

from qgactor.plugins import Manifest, Plugin, command, on_event

__plugin__ = Manifest(
    version="1.0.0",
    description="Greets, echoes, and points lost users to /help",
    author="qgactor",
)


class Hello(Plugin):
    """A greeting, an echo, and a fallback for messages that no command matched."""

    @command("hello")
    async def hello(self, msg):
        """`/hello`: a greeting."""
        await msg.reply(f"Hello! I am a qgactor bot. You are in a {msg.scene.value} chat.")

    @command("echo")
    def echo(self, msg):
        """`/echo TEXT`: says TEXT back (a plain `def` handler: it runs in a worker thread)."""
        msg.reply(msg.rest or "(nothing to echo)")

    @on_event(family="message")
    async def fallback(self, msg):
        """Any message that no command handled: a hint (messages run after commands)."""
        await msg.reply(f"I don't know {msg.text!r}. Type /help for what I can do.")
