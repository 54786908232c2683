"""``qgactor status``: the live actor tree of the bot running in this project."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import trio

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project

__all__ = ["add_parser", "run", "render_tree"]

HELP = """\
Ask the running bot (started with `qgactor run` in this project) for its live actor tree:
each actor's state, mailbox depth, processed messages, restarts and last error.

The bot serves this on 127.0.0.1 only; the port and a random token are in
.qgactor/management.json (readable by you only), which this command reads.
"""


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor status`` and its options."""
    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the raw JSON tree instead of the table")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="how long to wait for the bot (default 5)")
    parser.set_defaults(handler=run)


def _field(node: dict[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if name in node and node[name] is not None:
            return node[name]
    return default


def render_tree(tree: Any) -> str:
    """Render a status tree (as returned by the management endpoint) as an indented table."""
    rows: list[tuple[str, str, str, str, str, str]] = []

    def walk(node: dict[str, Any], prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└── " if last else "├── ")
        name = str(_field(node, "name", default="?"))
        state = str(_field(node, "state", "status", default="?"))
        depth = _field(node, "mailbox_depth", "mailbox", "queued", default="")
        capacity = _field(node, "mailbox_capacity", "capacity", default=None)
        mailbox = f"{depth}/{capacity}" if capacity not in (None, "", 0) else ("-" if depth in (0, "") else str(depth))
        processed = str(_field(node, "processed", "messages_processed", default=""))
        restarts = str(_field(node, "restarts", "restart_count", default=""))
        error = _field(node, "last_error", "error", default="") or ""
        rows.append((prefix + branch + name, state, mailbox, processed, restarts, str(error)))
        children = _field(node, "children", default=[]) or []
        child_prefix = prefix + ("" if root else ("    " if last else "│   "))
        for index, child in enumerate(children):
            if isinstance(child, dict):
                walk(child, child_prefix, index == len(children) - 1, False)

    if isinstance(tree, list):
        for item in tree:
            if isinstance(item, dict):
                walk(item, "", True, True)
    elif isinstance(tree, dict):
        walk(tree, "", True, True)
    header = ("ACTOR", "STATE", "MAILBOX", "PROCESSED", "RESTARTS", "LAST ERROR")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = []
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(5)]
        lines.append("  ".join(cells + [row[5]]).rstrip())
    return "\n".join(lines)


def read_management_file(project: Project) -> tuple[int, str, int | None]:
    """Return (port, token, pid) of the bot running in ``project``; raises :class:`CliError`."""
    path = project.management_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["port"]), str(data["token"]), data.get("pid")
    except FileNotFoundError:
        raise CliError(
            f"no running bot found in {project.root} ({path} does not exist)",
            hint="start the bot with `qgactor run` in that directory, or pass -C DIR",
            code=ExitCode.UNREACHABLE,
        ) from None
    except PermissionError:
        raise CliError(
            f"cannot read {path}: permission denied", hint="run as the user who started the bot", code=ExitCode.AUTH
        ) from None
    except (ValueError, KeyError, TypeError):
        raise CliError(
            f"{path} is damaged (not a management document)",
            hint="restart the bot with `qgactor run`; it rewrites the file",
            code=ExitCode.UNREACHABLE,
        ) from None


def run(args: argparse.Namespace) -> int:
    """Fetch and print the tree; exit 4 if no bot answers, 5 if the token is rejected."""
    from qgactor.cli.management import ManagementAuthError, ManagementError, fetch_status

    project = Project(args.project)
    port, token, pid = read_management_file(project)
    try:
        tree = trio.run(lambda: fetch_status(port, token, timeout=args.timeout))
    except ManagementAuthError:
        raise CliError(
            "the bot rejected the management token",
            hint=f"{project.management_file} belongs to another run; restart the bot or wait for it to rewrite the file",
            code=ExitCode.AUTH,
        ) from None
    except ManagementError as exc:
        raise CliError(
            f"the bot in {project.root} (pid {pid}) does not answer: {exc}",
            hint="it has probably stopped; start it with `qgactor run`",
            code=ExitCode.UNREACHABLE,
        ) from None
    if args.json:
        sys.stdout.write(json.dumps(tree, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_tree(tree) + "\n")
    return ExitCode.OK
