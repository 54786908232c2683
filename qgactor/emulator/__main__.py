"""``python -m qgactor.emulator``: serve the emulator until interrupted."""

from __future__ import annotations

import argparse
import logging
import sys
from functools import partial

import trio

from .config import EmulatorConfig
from .platform import Platform
from .server import bind_sockets, serve_emulator, tune_gc_for_serving
from .world import World, WorldError


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, print the URLs and credentials, serve until Ctrl+C."""
    parser = argparse.ArgumentParser(prog="python -m qgactor.emulator",
                                     description="Local emulator of the QQ Open Platform")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (default 8080)")
    parser.add_argument("--world", help="world TOML file (default: the packaged default world)")
    parser.add_argument("--heartbeat-interval", type=int, default=45000, help="ms (default 45000)")
    parser.add_argument("--webhook", help="also deliver events to this bot callback URL")
    parser.add_argument("--proactive", choices=("quota", "allow", "deny"), default="quota",
                        help="proactive (non-reply) send policy (default: documented quotas)")
    parser.add_argument("--channel-rate-limit", type=int, default=5,
                        help="guild channel messages per second (0 disables; default 5)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = EmulatorConfig(host=args.host, port=args.port, world=args.world,
                            heartbeat_interval_ms=args.heartbeat_interval, webhook_url=args.webhook,
                            proactive=args.proactive, channel_rate_limit=args.channel_rate_limit or None)
    try:
        world = World.load(config.world)
    except (WorldError, OSError) as exc:
        print(f"error: cannot load the world: {exc}", file=sys.stderr)
        return 2
    platform = Platform(config, world)
    try:
        bound = bind_sockets(config)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    tune_gc_for_serving()  # this process only serves the emulator

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            base = await nursery.start(partial(serve_emulator, platform, bound=bound))
            print(f"QQ Open Platform emulator at {base}", flush=True)
            print(f"  api base     {base}")
            print(f"  token url    {base}/app/getAppAccessToken")
            print(f"  gateway      {platform.gateway_url}")
            print(f"  control API  {base}/_emulator/info")
            print(f"  appid        {world.appid}")
            print(f"  secret       {world.secret}")
            print("Ctrl+C to stop.", flush=True)

    try:
        trio.run(run)
    except* KeyboardInterrupt:  # Ctrl+C arrives inside the server's task group: a clean stop
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
