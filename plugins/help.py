"""help: lists every loaded plugin's commands (``/help``, or ``/help PLUGIN``)."""

from qgactor.plugins import Manifest, Plugin, command

__plugin__ = Manifest(
    version="1.0.0",
    description="Lists every plugin's commands",
    author="qgactor",
)


class Help(Plugin):
    """Answers /help with the commands of every loaded plugin."""

    @command("help")
    async def help(self, msg):
        """`/help [plugin]`: the commands of every plugin (or of one)."""
        wanted = msg.rest.strip()
        lines = []
        for info in self.plugins():
            if info.state != "loaded" or not info.commands:
                continue
            if wanted and info.name != wanted:
                continue
            lines.append(f"[{info.name} {info.version}] {info.description}".rstrip())
            for cmd in info.commands:
                how = " ".join("/" + w for w in cmd.words) or " ".join(cmd.patterns)
                lines.append(f"  {how}  {cmd.description}".rstrip())
        if not lines:
            lines = [f"no plugin named {wanted!r} is loaded" if wanted else "no commands"]
        await msg.reply("\n".join(lines))
