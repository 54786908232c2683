"""``qgactor emulator``: serve the local QQ Open Platform emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import trio

from qgactor.cli.errors import CliError, ExitCode
from qgactor.cli.project import Project, write_private

__all__ = ["add_parser", "run", "emulator_info"]

log = logging.getLogger(__name__)

HELP = """\
Serve the emulator of the QQ Open Platform (token endpoint, REST API, websocket gateway,
webhook delivery, control API under /_emulator/) on HOST:PORT, print the base URL, the app id
and the secret, and serve until Ctrl-C. Point any QQ bot SDK at it (base URL, token URL and
gateway URL), and talk to the bot with `qgactor chat` in another terminal.

The URLs and credentials are also written to .qgactor/emulator.json (mode 0600) in the
project directory, which is where `qgactor chat` looks for a running emulator.
"""


def add_parser(subparsers: Any, *, name: str, help: str, parents: list[argparse.ArgumentParser]) -> None:
    """Declare ``qgactor emulator`` and its options."""
    parser = subparsers.add_parser(
        name, help=help, description=HELP, parents=parents, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8790, help="TCP port (default 8790; 0 picks a free port)")
    parser.add_argument("--world", type=Path, default=None, metavar="FILE", help="TOML file seeding guilds, groups and users")
    parser.add_argument("--webhook-url", default=None, metavar="URL", help="also deliver events to this webhook URL")
    parser.add_argument("--heartbeat-ms", type=int, default=None, metavar="MS", help="heartbeat_interval sent in Hello")
    parser.add_argument("--no-state-file", action="store_true", help="do not write .qgactor/emulator.json")
    parser.add_argument("--json", action="store_true", help="print the connection details as one JSON line")
    parser.set_defaults(handler=run)


def emulator_info(emu: Any) -> dict[str, Any]:
    """The connection details of a running emulator as a JSON-able dict (includes the secret)."""
    return {
        "base_url": emu.base_url,
        "api_url": emu.api_url,
        "token_url": emu.token_url,
        "gateway_url": emu.gateway_url,
        "appid": emu.appid,
        "secret": emu.secret,
        "pid": os.getpid(),
    }


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; exit 4 if the port cannot be bound, 3 on a bad world file."""
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port} is not a TCP port", hint="use 0..65535 (0 picks a free port)", code=ExitCode.USAGE)
    if args.world is not None and not args.world.is_file():
        raise CliError(f"world file {args.world} does not exist", hint="pass an existing TOML file to --world", code=ExitCode.CONFIG)
    trio.run(_serve, args)
    return ExitCode.OK


async def _serve(args: argparse.Namespace) -> None:
    from qgactor.emulator import EmulatorConfig, WorldError, open_emulator

    options: dict[str, Any] = {"host": args.host, "port": args.port}
    if args.world is not None:
        options["world"] = args.world
    if args.webhook_url:
        options["webhook_url"] = args.webhook_url
    if args.heartbeat_ms:
        options["heartbeat_interval_ms"] = args.heartbeat_ms
    try:
        config = EmulatorConfig(**options)
    except (TypeError, ValueError) as exc:
        raise CliError(f"invalid emulator option: {exc}", code=ExitCode.USAGE) from None
    project = Project(args.project)
    state_file: Path | None = None
    try:
        async with open_emulator(config=config) as emu:
            info = emulator_info(emu)
            if not args.no_state_file:
                try:
                    project.ensure_state_dir()
                    write_private(project.emulator_file, json.dumps(info))
                    state_file = project.emulator_file
                except OSError as exc:
                    log.warning("cannot write %s (%s); `qgactor chat` will need --url", project.emulator_file, exc)
            _announce(info, as_json=args.json)
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    break
            log.info("emulator stopping")
    except WorldError as exc:
        raise CliError(f"invalid world file: {exc}", hint="fix the key named above (see the default world in qgactor/emulator/default_world.toml)", code=ExitCode.CONFIG) from None
    except OSError as exc:
        raise CliError(
            f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
            hint="the port is probably in use: pick another with --port (0 = any free port)",
            code=ExitCode.UNREACHABLE,
        ) from None
    finally:
        if state_file is not None:
            state_file.unlink(missing_ok=True)


def _announce(info: dict[str, Any], *, as_json: bool) -> None:
    out = sys.stdout
    if as_json:
        out.write(json.dumps(info) + "\n")
    else:
        out.write(
            "qgactor emulator of the QQ Open Platform is serving\n"
            f"  base URL     {info['base_url']}\n"
            f"  API URL      {info['api_url']}\n"
            f"  token URL    {info['token_url']}\n"
            f"  gateway URL  {info['gateway_url']}\n"
            f"  app id       {info['appid']}\n"
            f"  secret       {info['secret']}\n"
            "Chat with your bot: `qgactor chat` in another terminal.  Stop: Ctrl-C.\n"
        )
    out.flush()
