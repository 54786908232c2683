"""``qgactor init [DIR]``: create a new bot project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project
from qgactor.cli.templates import ACTORS_CONFIG, PROJECT_FILES

__all__ = ["add_parser", "run", "create_project"]

HELP = """\
Create a bot project in DIR (default: the current directory):

  qgactor.toml       the config, with a comment on every key (no credentials yet: the bot
                     runs against the embedded emulator until you add them)
  plugins/hello.py   an example plugin (/hello and /echo)
  actors/reminder.py an example application actor (/remind 10 drink water), listed
                     under [[actors]] in qgactor.toml
  tests/test_bot.py  a test using qgactor's testing kit; run it with `pytest`
  pytest.ini, .gitignore, README.md

Existing files are never overwritten unless --force is given (exit code 6 otherwise).
"""


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor init`` and its options."""
    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR", help="project directory (created if missing)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(handler=run)


def create_project(root: Path, *, force: bool = False) -> list[Path]:
    """Write a new project into ``root`` and return the files written.

    Raises :class:`CliError` (exit 6) listing the files that already exist unless ``force``,
    and (exit 1) if the directory cannot be written.
    """
    from qgactor.cli.appconfig import write_default_config

    project = Project(root)
    targets = [project.root / rel for rel in PROJECT_FILES] + [project.config_path]
    if project.root.exists() and not project.root.is_dir():
        raise CliError(f"{project.root} exists and is not a directory", hint="choose another DIR", code=ExitCode.USAGE)
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = ", ".join(str(p.relative_to(project.root)) for p in existing)
        raise CliError(
            f"{project.root} already has {names}",
            hint="choose an empty directory, or pass --force to overwrite these files",
            code=ExitCode.CONFLICT,
        )
    name = project.root.name or "bot"
    written = []
    try:
        for rel, text in PROJECT_FILES.items():
            path = project.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.format(name=name) if rel == "README.md" else text, encoding="utf-8")
            written.append(path)
        if force and project.config_path.exists():
            project.config_path.unlink()
        write_default_config(project)
        with project.config_path.open("a", encoding="utf-8") as fh:
            fh.write(ACTORS_CONFIG)
        written.append(project.config_path)
    except OSError as exc:
        raise CliError(
            f"cannot write the project into {project.root}: {exc.strerror or exc}",
            hint="check the directory's permissions and free space",
            code=ExitCode.ERROR,
        ) from None
    return written


def run(args: argparse.Namespace) -> int:
    """Create the project and print what to do next."""
    root = args.dir if args.dir is not None else args.project
    written = create_project(root, force=args.force)
    project = Project(root)
    out = sys.stdout
    out.write(f"Created a qgactor bot project in {project.root}:\n")
    for path in sorted(written):
        out.write(f"  {path.relative_to(project.root)}\n")
    cd = "" if project.root == Path.cwd().resolve() else f"cd {root} && "
    out.write(
        "\nNext:\n"
        f"  {cd}qgactor run      talk to your bot (local emulator + chat console; type /hello)\n"
        f"  {cd}pytest           run tests/test_bot.py with qgactor's testing kit:\n"
        "\n"
        "      async def test_hello_replies(qq_project):\n"
        "          reply = await qq_project.say(\"/hello\")\n"
        "          assert \"Hello\" in reply.text\n"
        "\n"
        "  qgactor plugin new NAME   add a plugin;  qgactor config check   validate qgactor.toml\n"
    )
    return ExitCode.OK
