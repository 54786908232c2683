"""The emulator process of the end-to-end benchmark (``benchmarks/e2e.py`` starts it).

The stock emulator (``qgactor.emulator``: world, config, server), configured for throughput
runs: proactive sends allowed, an outbox big enough for the run (the platform's 5 messages/s
per guild channel stays enforced),
``--users N`` extra users in the world (for the 1,000-conversation scenario) and
``--channels C`` extra text channels (guild traffic is spread over channels: the platform
allows 5 messages/s per channel, and qgactor's client keeps to that). Nothing is
changed in the emulator itself; the garbage collector is tuned for serving, as
``python -m qgactor.emulator`` does. Prints ``EMULATOR <base_url>`` once listening.

    python benchmarks/e2e_emulator.py [--users 1000] [--channels 1000] [--outbox 200000]
    E2E_EMULATOR_PROFILE=/tmp/emu.prof python benchmarks/e2e.py --only "qgactor async"
        # the emulator under cProfile (CPU time), stats written when e2e.py stops it
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import signal
import time
from functools import partial

import trio

from qgactor.emulator import EmulatorConfig, Platform, World, serve_emulator, tune_gc_for_serving
from qgactor.emulator.world import User

#: first id of the generated benchmark users (guild-side ids; openids are derived from it)
BENCH_USER_BASE = 144115218190000000
#: first id of the generated text channels (in the first guild of the world)
BENCH_CHANNEL_BASE = 700000


def bench_user_id(i: int) -> str:
    """The guild-side user id of generated user ``i`` (0-based)."""
    return str(BENCH_USER_BASE + i)


def bench_channel_id(i: int) -> str:
    """The id of generated text channel ``i`` (0-based)."""
    return str(BENCH_CHANNEL_BASE + i)


def make_world(users: int, channels: int) -> World:
    """The packaged default world plus ``users`` generated users ``bench0..`` and ``channels``
    text channels ``bench-0..`` in its first guild."""
    world = World.load(None)
    for i in range(users):
        uid = bench_user_id(i)
        world.users[uid] = User(id=uid, username=f"bench{i}", openid=f"BE{i:030d}",
                                union_openid=f"UB{i:030d}")
    guild = next(iter(world.guilds.values()))
    template = world.first_text_channel(guild)
    assert template is not None
    for i in range(channels):
        cid = bench_channel_id(i)
        guild.channels[cid] = template | {"id": cid, "name": f"bench-{i}", "position": 1000 + i}
    return world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=0, help="extra users in the world")
    parser.add_argument("--channels", type=int, default=0, help="extra text channels in the first guild")
    parser.add_argument("--outbox", type=int, default=200_000, help="outbox entries kept")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = EmulatorConfig(port=0, proactive="allow", outbox_limit=args.outbox)
    platform = Platform(config, make_world(args.users, args.channels))
    tune_gc_for_serving()  # like ``python -m qgactor.emulator``: this process only serves

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            base = await nursery.start(partial(serve_emulator, platform))
            print(f"EMULATOR {base}", flush=True)
            with trio.open_signal_receiver(signal.SIGTERM) as signals:  # e2e.py stops children so
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    return

    # E2E_EMULATOR_PROFILE=path: cProfile (CPU time) of the emulator for the whole run, written
    # when it stops (the emulator's share of an e2e run: python benchmarks/e2e.py --only ...)
    profile_path = os.environ.get("E2E_EMULATOR_PROFILE")
    profiler = cProfile.Profile(time.process_time) if profile_path else None
    if profiler is not None:
        profiler.enable()
    try:
        trio.run(run)
    except* KeyboardInterrupt:  # Ctrl+C arrives inside the server's task group: a clean stop
        pass
    finally:
        if profiler is not None and profile_path:
            profiler.disable()
            profiler.dump_stats(profile_path)


if __name__ == "__main__":
    main()
