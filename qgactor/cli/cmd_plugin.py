"""``qgactor plugin new NAME`` and ``qgactor plugin list``."""

from __future__ import annotations

import argparse
import keyword
import sys
from pathlib import Path
from typing import Any

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project
from qgactor.cli.templates import PLUGIN_TEMPLATE, PLUGIN_TEST_TEMPLATE

__all__ = ["add_parser", "run_new", "run_list", "discover_plugins"]

HELP = """\
Manage the plugins of this project (the plugins directory of qgactor.toml, default plugins/).

  qgactor plugin new NAME    write plugins/NAME.py, a plugin with one command (/NAME)
  qgactor plugin list        list the plugins found, with version and description

A running bot (`qgactor run`) loads new plugins and reloads changed ones by itself.
"""


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor plugin`` with its ``new`` and ``list`` subcommands."""
    from qgactor.cli.main import QgactorArgumentParser

    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    actions = parser.add_subparsers(dest="plugin_command", metavar="ACTION", parser_class=QgactorArgumentParser)
    new = actions.add_parser("new", help="create a plugin from a template", parents=parents)
    new.add_argument("name", metavar="NAME", help="plugin name: letters, digits, underscores (e.g. weather)")
    new.add_argument("--description", default="", help="one line for the manifest")
    new.add_argument("--test", action="store_true", help="also write tests/test_NAME.py")
    new.add_argument("--force", action="store_true", help="overwrite existing files")
    new.set_defaults(handler=run_new)
    listing = actions.add_parser("list", help="list the plugins of this project", parents=parents)
    listing.set_defaults(handler=run_list)
    parser.set_defaults(handler=lambda args: _missing_action(parser))


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    sys.stderr.write("qgactor plugin: error: an action is required: new NAME, or list\n")
    return ExitCode.USAGE


def _plugins_dir(project: Project) -> Path:
    from qgactor.cli.appconfig import plugins_dir_of

    return plugins_dir_of(project)


def run_new(args: argparse.Namespace) -> int:
    """Write ``plugins/NAME.py`` (and optionally a test); exit 2 on a bad name, 6 if it exists."""
    name: str = args.name
    if not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name) or not name.isascii():
        raise CliError(
            f"{name!r} is not a valid plugin name",
            hint="use ASCII letters, digits and underscores, starting with a letter (e.g. weather)",
            code=ExitCode.USAGE,
        )
    project = Project(args.project)
    plugins_dir = _plugins_dir(project)
    target = plugins_dir / f"{name}.py"
    package = plugins_dir / name
    test = project.root / "tests" / f"test_{name}.py"
    clashes = [p for p in (target, package) if p.exists()] + ([test] if args.test and test.exists() else [])
    if clashes and not args.force:
        raise CliError(
            f"plugin {name!r} already exists: {', '.join(map(str, clashes))}",
            hint="pick another name or pass --force to overwrite",
            code=ExitCode.CONFLICT,
        )
    class_name = "".join(part.capitalize() for part in name.split("_") if part) or "Plugin"
    text = PLUGIN_TEMPLATE.format(
        name=name,
        title=name.replace("_", " ").capitalize(),
        class_name=class_name,
        command=name.lower(),
        description=(args.description or f"The {name} plugin").replace('"', "'"),
    )
    plugins_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    sys.stdout.write(f"Created {target}\n")
    if args.test:
        test.parent.mkdir(parents=True, exist_ok=True)
        test.write_text(PLUGIN_TEST_TEMPLATE.format(name=name, command=name.lower()), encoding="utf-8")
        sys.stdout.write(f"Created {test}\n")
    sys.stdout.write(f"Try it: qgactor run, then type /{name.lower()}\n")
    return ExitCode.OK


def discover_plugins(plugins_dir: Path) -> list[tuple[str, str, str, str]]:
    """Return (name, version, description, problem) for every plugin file/package in the dir."""
    from qgactor.plugins.manifest import ManifestError, read_manifest

    rows = []
    if not plugins_dir.is_dir():
        return rows
    for path in sorted(plugins_dir.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if not ((path.is_file() and path.suffix == ".py") or (path.is_dir() and (path / "__init__.py").exists())):
            continue
        name = path.stem if path.is_file() else path.name
        try:
            manifest = read_manifest(path)
        except ManifestError as exc:
            rows.append((name, "?", "", str(exc)))
            continue
        rows.append((manifest.name, manifest.version, manifest.description, ""))
    return rows


def run_list(args: argparse.Namespace) -> int:
    """Print the plugins table; exit 3 if a manifest is invalid (the row says why)."""
    project = Project(args.project)
    plugins_dir = _plugins_dir(project)
    rows = discover_plugins(plugins_dir)
    if not rows:
        sys.stdout.write(f"no plugins in {plugins_dir} (create one with `qgactor plugin new NAME`)\n")
        return ExitCode.OK
    width = max(len(r[0]) for r in rows + [("NAME", "", "", "")])
    vwidth = max(len(r[1]) for r in rows + [("", "VERSION", "", "")])
    sys.stdout.write(f"{'NAME'.ljust(width)}  {'VERSION'.ljust(vwidth)}  DESCRIPTION\n")
    broken = False
    for name, version, description, problem in rows:
        text = f"INVALID: {problem}" if problem else description
        broken = broken or bool(problem)
        sys.stdout.write(f"{name.ljust(width)}  {version.ljust(vwidth)}  {text}\n")
    return ExitCode.CONFIG if broken else ExitCode.OK
