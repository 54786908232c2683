"""Chaos: 20,000 events streamed while >= 200 faults of every resumable kind hit the connection.

Every event must be dispatched exactly once and in order per channel. Faults: abrupt drop
(no close frame), close 4009, op 7 Reconnect, and stopped heartbeat ACKs (zombie detection).
Every 97th message is also re-pushed by the platform (same event id and message id, new
``s``): those must be suppressed as duplicates.
Events are published in batches straight into the emulator's platform (in-process: its
control API has no batch endpoint), the faults go through the control API.
"""

from __future__ import annotations

import time
from collections import defaultdict

import trio

from gw_helpers import FAST, gateway_env
from qgactor.emulator import ControlError

EVENTS = 20_000
FAULTS_PER_KIND = 200
CHANNELS = [f"ch{i}" for i in range(8)]
GUILD = "18700000000001"
REPUSH_EVERY = 97


async def test_chaos_every_event_exactly_once_in_order_per_channel() -> None:
    t0 = time.perf_counter()
    async with gateway_env(heartbeat_interval_ms=20, heartbeat_timeout=1.0, replay_buffer=50_000,
                           resume_window=60.0, reconnect_close_after=5.0, sink_capacity=2000) as env:
        control, platform = env.emu.control, env.emu.platform
        await env.start_gateway(options=FAST)
        await env.wait_status(lambda s: s["connected"] == 1)
        counts: dict[str, int] = defaultdict(int)

        async def connected() -> None:
            await env.wait_status(lambda s: s["connected"] == 1, timeout=10.0)

        async def stop_acks() -> None:
            # stop ACKs until the client declares the connection a zombie, then ACK again
            await connected()
            before = (await env.status())["zombies"]
            await control.stop_acks()
            try:
                await env.wait_status(lambda s: s["zombies"] > before, timeout=10.0)
            finally:
                await control.resume_acks()
            counts["stop_acks"] += 1

        async def fault(kind: str) -> None:
            if kind == "stop_acks":
                await stop_acks()
                return
            while True:
                await connected()
                try:
                    if kind == "drop":
                        hit = await control.drop()
                    elif kind == "close4009":
                        hit = await control.close(4009)
                    else:
                        hit = await control.reconnect()
                except ControlError:
                    # emulator race: op 7 aimed at a connection that is already closing
                    # answers 500 ("Nursery is closed to new arrivals"); aim again
                    counts["emulator_errors"] += 1
                    await trio.sleep(0.01)
                    continue
                if hit["connections"]:
                    counts[kind] += 1
                    return

        kinds = ["drop", "close4009", "op7", "stop_acks"]
        batches = len(kinds) * FAULTS_PER_KIND
        per_batch = EVENTS // batches
        for n in range(EVENTS):
            ch = CHANNELS[n % len(CHANNELS)]
            data = {"id": f"msg-{n}", "channel_id": ch, "guild_id": GUILD, "content": f"{ch}:{n}",
                    "author": {"id": "144115218181000001", "username": "alice"}}
            await platform.publish("AT_MESSAGE_CREATE", data, shard_key=GUILD, event_id=f"AT_MESSAGE_CREATE:{n}")
            if n % REPUSH_EVERY == 0:  # the platform re-pushes a message ("相同的 msg_id ... 重复推送")
                await platform.publish("AT_MESSAGE_CREATE", data, shard_key=GUILD, event_id=f"AT_MESSAGE_CREATE:{n}")
                counts["repushed"] += 1
            if n % per_batch == per_batch - 1:
                await fault(kinds[(n // per_batch) % len(kinds)])

        # count the messages themselves: READY and every RESUMED are events in the box too
        await env.box.wait_for(lambda evs: sum(e.name == "AT_MESSAGE_CREATE" for e in evs) >= EVENTS, timeout=60.0)
        await trio.sleep(0.2)  # a window for any late duplicate to show up (none may)
        st = await env.status()
        got = env.box.named("AT_MESSAGE_CREATE")
        ids = [e.data["id"] for e in got]
        assert len(ids) == EVENTS, (len(ids), len(set(ids)))
        assert len(set(ids)) == EVENTS
        per_channel: dict[str, list[int]] = defaultdict(list)
        for e in got:
            ch, n = e.data["content"].split(":")
            per_channel[ch].append(int(n))
        for ch, seq in per_channel.items():
            assert seq == sorted(seq), f"out of order in {ch}"
        assert all(counts[k] >= FAULTS_PER_KIND for k in ("drop", "close4009", "op7", "stop_acks")), counts
        shard = st["shards"][0]
        assert shard["identifies"] == 1  # every fault was recovered by Resume
        assert shard["resumes"] >= 4 * FAULTS_PER_KIND and shard["zombies"] >= FAULTS_PER_KIND
        assert st["duplicates"] == counts["repushed"] > 200
        assert [e.name for e in env.box.events].count("READY") == 1
        print(f"\nchaos: {EVENTS} events, faults {dict(counts)}, resumes {shard['resumes']}, "
              f"duplicates suppressed {st['duplicates']}, zombies {shard['zombies']}, "
              f"{time.perf_counter() - t0:.1f}s")
