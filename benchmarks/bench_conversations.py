"""Benchmark: conversation actors at scale and dispatch throughput of the bot layer.

Measures, in one process and without the network (events are told to the dispatcher actor
directly, as the transports do):

- resident memory per *known* (started, then stopped when idle) conversation key;
- resident memory per *active* conversation (actor alive with a waiting ``wait_for``; with and
  without the waiting handler task counted; and as a bot really holds it: the handler started
  by the dispatcher for a command event, with its dispatch frames and message);
- delivery throughput of messages into waiting conversations;
- dispatch throughput: command events through parse → preprocessors → conversations check →
  command match → async handler; and through a plain ``def`` handler (worker threads).

Run: ``python benchmarks/bench_conversations.py`` (100,000 keys / 10,000 active) or with
``--quick`` (10,000 / 1,000, a few seconds).

``--echo N`` measures instead the CPU per echo of the bot's own code on the echo path: N group
@-messages told to the dispatcher (as the gateway does), parsed, matched to an ``async def``
(then a plain ``def``) message handler that calls ``msg.reply(text)``, down through the REST
layers (``ApiClient.send`` → ``HttpCore.request`` → ``ApiTransport``) to the connection
pool, which here answers at once with a canned 200 (one trio checkpoint, no socket): the
transport's h11 work and the gateway's websocket read are *not* included (see
``e2e_profile.py`` for the whole process). ``--profile`` prints a cProfile of the async run.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from typing import Any

import psutil
import trio

from qgactor.bot import Bot
from qgactor.bot.actors import DispatcherActor
from qgactor.bot.conversations import ConversationManager
from qgactor.bot.dispatch import DispatchCore
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.services import BotServices
from qgactor.runtime import Actor, DynamicSupervisor, Mailbox, Overflow, open_actor_nursery


class _Background(Actor):
    """Runs a task handed to it (here: the conversation sweeper) for as long as it lives."""

    async def receive(self, msg: Any) -> Any:
        self.ctx.start_soon(msg)


#: Seconds to wait before measuring waiting conversations (longer than the kernel's
#: ``hibernate_after``, so that idle actors are measured as they stay, not as they start).
SETTLE = 3.0


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def traced() -> int:
    """Bytes currently allocated by Python objects (tracemalloc): what is really retained,
    unlike RSS, which keeps freed arenas."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def c2c_event(i: int, text: str) -> InboundEvent:
    openid = f"U{i:031d}"
    return InboundEvent(
        "C2C_MESSAGE_CREATE",
        {"author": {"user_openid": openid, "id": openid}, "content": text, "id": f"M{i}-{text}",
         "timestamp": "2026-11-21T13:37:18+08:00"},
        event_id=None,
    )


async def bench(known: int, active: int, dispatch_n: int, thread_n: int) -> dict[str, Any]:
    bot = Bot(appid="1", secret="s", session_store=":memory:")
    hits = {"n": 0}

    @bot.on_command("ping")
    async def ping(msg):
        hits["n"] += 1

    @bot.on_command("tping")
    def tping(msg):
        hits["n"] += 1

    talking = {"n": 0, "all": trio.Event(), "want": 0}

    @bot.on_command("talk")
    async def talk(msg):
        async with msg.conversation(timeout=3600) as conv:
            talking["n"] += 1
            if talking["n"] == talking["want"]:
                talking["all"].set()
            await conv.wait_for()

    results: dict[str, Any] = {"known": known, "active": active}
    async with open_actor_nursery(name="bench") as system:
        services = BotServices(bot=bot, settings=bot.settings, registry=bot.registry,
                               sessions=bot.sessions, token=trio.lowlevel.current_trio_token(),
                               thread_limiter=trio.CapacityLimiter(16))
        sup = await system.spawn(DynamicSupervisor, name="conversations")
        manager = ConversationManager(sup, idle_timeout=0.2)
        services.conversations = manager
        background = await system.spawn(_Background, name="background")
        await background.ask(manager.sweep)
        core = DispatchCore(services)
        dispatcher = await system.spawn(DispatcherActor, services, core, 256, name="dispatcher",
                                        mailbox=Mailbox(capacity=1000, overflow=Overflow.BACKPRESSURE))

        # -- active conversations: an actor with a waiting handler per key ------------------------
        # (measured first, in a fresh process, so that RSS is not masked by freed memory)
        manager.idle_timeout = 3600.0

        async def open_waiters(first: int, count: int, nursery: trio.Nursery) -> dict[str, Any]:
            state: dict[str, Any] = {"n": 0, "done": 0, "ready": trio.Event(), "all_done": trio.Event()}

            async def waiter(ctx: Any) -> None:
                async with ctx.conversation(timeout=3600) as conv:
                    state["n"] += 1
                    if state["n"] == count:
                        state["ready"].set()
                    await conv.wait_for()
                state["done"] += 1
                if state["done"] == count:
                    state["all_done"].set()

            for i in range(first, first + count):
                nursery.start_soon(waiter, core.parse(c2c_event(i, "start")))
            with trio.fail_after(120):
                await state["ready"].wait()
                while sum(1 for k in manager.waiting if k[1] >= f"U{first:031d}") < count:  # noqa
                    await trio.sleep(0.01)
            # steady state: the kernel retires the tasks of actors idle for hibernate_after (2 s)
            await trio.sleep(SETTLE)
            return state

        # RSS first, without tracemalloc (which needs memory of its own)
        before_active = rss()
        async with trio.open_nursery() as nursery:
            await open_waiters(0, active, nursery)
            results["rss_bytes_per_active_with_handler"] = (rss() - before_active) / active
            nursery.cancel_scope.cancel()
        with trio.fail_after(30):
            while manager.waiting:
                await trio.sleep(0.01)
        for ref in list(sup.children()):
            await sup.terminate_child(ref)
        # then what Python objects are really retained, with tracemalloc, on fresh keys
        tracemalloc.start()
        before_active_t = traced()
        async with trio.open_nursery() as nursery:
            await open_waiters(active, active, nursery)
            results["traced_bytes_per_active_with_handler"] = (traced() - before_active_t) / active
            nursery.cancel_scope.cancel()  # handlers gone; their actors stay alive (idle 3600 s)
        with trio.fail_after(30):
            while manager.waiting:
                await trio.sleep(0.01)
        await trio.sleep(SETTLE)
        results["traced_bytes_per_active_actor_only"] = (traced() - before_active_t) / active
        for ref in list(sup.children()):
            await sup.terminate_child(ref)
        tracemalloc.stop()


        # the same, as a bot holds it: "talk" command events through the dispatcher (its handler
        # task, dispatch frames, message context and model), fresh keys again
        tracemalloc.start()
        talking["want"] = active
        before_dispatched = traced()
        for i in range(2 * active, 3 * active):
            await dispatcher.tell(c2c_event(i, "talk"))
        with trio.fail_after(120):
            await talking["all"].wait()
            while len(manager.waiting) < active:
                await trio.sleep(0.01)
        await trio.sleep(SETTLE)
        results["traced_bytes_per_active_via_dispatcher"] = (traced() - before_dispatched) / active
        tracemalloc.stop()
        manager.end_waits()
        with trio.fail_after(30):
            while manager.waiting:
                await trio.sleep(0.01)
        for ref in list(sup.children()):
            await sup.terminate_child(ref)

        # -- known keys: start an actor per key, let it stop when idle ----------------------------
        tracemalloc.start()
        manager.idle_timeout = 0.2
        base_t = traced()
        base = rss()
        t0 = time.perf_counter()
        for i in range(3 * active, 3 * active + known):  # keys not used by the phases above
            await manager.actor_for(("c2c", f"U{i:031d}", f"U{i:031d}"))
        started = time.perf_counter() - t0
        with trio.fail_after(120):
            while len(sup) > 0:
                await trio.sleep(0.05)
        after_known = rss()
        results["actor_starts_per_s (under tracemalloc)"] = known / started
        results["rss_bytes_per_known_key"] = (after_known - base) / known
        results["traced_bytes_per_known_key"] = (traced() - base_t) / known
        results["known_records"] = len(manager.known)
        tracemalloc.stop()
        manager.idle_timeout = 3600.0


        # -- delivery into waiting conversations through the dispatcher ---------------------------
        async with trio.open_nursery() as nursery:
            state = await open_waiters(known + 3 * active, active, nursery)
            t0 = time.perf_counter()
            for i in range(known + 3 * active, known + 4 * active):
                await dispatcher.tell(c2c_event(i, "answer"))
            with trio.fail_after(120):
                await state["all_done"].wait()
            results["conversation_deliveries_per_s"] = active / (time.perf_counter() - t0)

        # -- dispatch throughput ---------------------------------------------------------------
        start_completed = core.stats.completed
        t0 = time.perf_counter()
        for i in range(dispatch_n):
            await dispatcher.tell(c2c_event(i % 5000, "ping"))
        with trio.fail_after(300):
            await core.wait_completed(start_completed + dispatch_n)
        results["dispatch_async_per_s"] = dispatch_n / (time.perf_counter() - t0)

        start_completed = core.stats.completed
        t0 = time.perf_counter()
        for i in range(thread_n):
            await dispatcher.tell(c2c_event(i % 5000, "tping"))
        with trio.fail_after(300):
            await core.wait_completed(start_completed + thread_n)
        results["dispatch_sync_thread_per_s"] = thread_n / (time.perf_counter() - t0)
        results["handler_calls"] = hits["n"]
        assert hits["n"] == dispatch_n + thread_n, hits
    return results


def group_event(i: int, text: str) -> InboundEvent:
    """A group @-message shaped as the benchmark emulator sends it."""
    member = f"M{i % 1000:031d}"
    idx = f"REFIDX_{i:024d}"
    return InboundEvent(
        "GROUP_AT_MESSAGE_CREATE",
        {"id": f"ROBOT1.0_{i:040d}", "content": " " + text, "timestamp": "2026-11-21T13:37:18+08:00",
         "message_scene": {"source": "default", "ext": [f"msg_idx={idx}"]}, "message_type": 0,
         "msg_idx": idx, "group_id": "G" * 32, "group_openid": "G" * 32,
         "author": {"id": member, "member_openid": member, "union_openid": "U" + member,
                    "username": "user", "bot": False, "member_role": "member"},
         "mentions": [{"scope": "single", "bot": True, "id": "1234", "is_you": True,
                       "member_openid": "B" * 32, "username": "bot"}]},
        event_id=f"GROUP_AT_MESSAGE_CREATE:{i:032d}", seq=i + 1,
    )


class CannedPool:
    """Stands in for ``qgactor.qq.transport.ConnectionPool`` at its ``request`` call: one
    checkpoint (as a real answer needs at least one wait), then the emulator's 200 answer to a
    group send. Counts the requests and keeps the last one for a sanity check."""

    def __init__(self) -> None:
        from qgactor.qq.transport import Response

        self._response = Response
        self.count = 0
        self.last: Any = None

    async def request(self, method: str, target: str, headers: Any, body: bytes = b"", **kw: Any) -> Any:
        self.count += 1
        self.last = (method, target, headers, body)
        await trio.lowlevel.checkpoint()
        return self._response(200, {"content-type": "application/json", "content-length": "44",
                                    "x-tps-trace-id": "0f3c2b8e5d6a4f1e9c7b"},
                              b'{"id":"ROBOT1.0_reply000000001","timestamp":1}')

    async def aclose(self) -> None:
        pass


async def echo_bench(n: int, profile: bool, modes: tuple[str, ...] = ("async", "sync"),
                     reply: bool = True) -> dict[str, Any]:
    """CPU per echo of the bot's own code (see the module docstring); ``reply=False``: the
    handler only reads ``msg.text`` (the dispatch part alone)."""
    import cProfile
    import math
    import pstats

    from qgactor.qq import ApiClient, TokenSource

    results: dict[str, Any] = {}
    seen: list[str] = []
    for mode in modes:
        bot = Bot(appid="102000001", secret="s" * 32, session_store=":memory:")
        if mode == "async":
            @bot.on_message(scenes=["group"])
            async def echo(msg):  # type: ignore[no-untyped-def]
                if reply:
                    await msg.reply(msg.text)
                else:
                    seen.append(msg.text)
        else:
            @bot.on_message(scenes=["group"])
            def echo_sync(msg):  # type: ignore[no-untyped-def]
                if reply:
                    msg.reply(msg.text)
                else:
                    seen.append(msg.text)
        tokens = TokenSource("102000001", "s" * 32, token_url="http://127.0.0.1:9/token")
        tokens._token, tokens._expires_at, tokens._lifetime = "T" * 40, math.inf, 7200.0  # a fetched token
        pool = CannedPool()
        async with ApiClient(tokens, base_url="http://127.0.0.1:9") as api, \
                open_actor_nursery(name="echo-bench") as system:
            api._base_client.pool = pool  # the transport's pool: answered in-process
            s = bot.settings
            services = BotServices(bot=bot, settings=s, registry=bot.registry, sessions=bot.sessions,
                                   api=api, token=trio.lowlevel.current_trio_token(),
                                   thread_limiter=trio.CapacityLimiter(s.handler_threads), bot_id="1234")
            sup = await system.spawn(DynamicSupervisor, name="conversations")
            services.conversations = ConversationManager(sup, idle_timeout=60.0)
            core = DispatchCore(services)
            dispatcher = await system.spawn(
                DispatcherActor, services, core, s.max_concurrent_handlers, name="dispatcher",
                mailbox=Mailbox(capacity=s.dispatcher_mailbox, overflow=Overflow.BACKPRESSURE))
            warm = 200
            for i in range(warm):
                await dispatcher.tell(group_event(i, f"warm {i}"))
            with trio.fail_after(60):
                await core.wait_completed(warm)
            prof = cProfile.Profile(time.process_time) if profile and mode == "async" else None
            c0, t0 = time.process_time(), time.perf_counter()
            if prof is not None:
                prof.enable()
            for i in range(warm, warm + n):
                await dispatcher.tell(group_event(i, f"echo {i}"))
            with trio.fail_after(300):
                await core.wait_completed(warm + n)
            if prof is not None:
                prof.disable()
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            if reply:
                assert pool.count == warm + n, (pool.count, core.stats)
                method, target, headers, body = pool.last
                assert method == "POST" and target == "/v2/groups/" + "G" * 32 + "/messages", pool.last
                assert b'"msg_seq":1' in body and b'"content":"echo ' in body, body
            else:
                assert len(seen) == warm + n and pool.count == 0, (len(seen), pool.count)
                seen.clear()
            label = "echo" if reply else "dispatch_only"
            results[f"{label}_{mode}_cpu_us_per_event" + (" (profiled)" if prof else "")] = cpu * 1e6 / n
            results[f"{label}_{mode}_per_s"] = n / wall
            await system.stop(dispatcher)
            if prof is not None:
                stats = pstats.Stats(prof)
                stats.sort_stats("tottime").print_stats(40)
                stats.sort_stats("cumulative").print_stats(40)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 keys / 1,000 active (seconds)")
    parser.add_argument("--echo", type=int, metavar="N", help="measure CPU per echo over N events instead")
    parser.add_argument("--profile", action="store_true", help="with --echo: cProfile the async run")
    parser.add_argument("--mode", choices=("async", "sync", "both"), default="both",
                        help="with --echo: which handler kind to measure")
    parser.add_argument("--no-reply", action="store_true",
                        help="with --echo: the handler reads msg.text and does not reply (dispatch alone)")
    args = parser.parse_args()
    if args.echo:
        modes = ("async", "sync") if args.mode == "both" else (args.mode,)
        res = trio.run(echo_bench, args.echo, args.profile, modes, not args.no_reply)
        for k, v in res.items():
            print(f"{k:<40}  {v:,.1f}")
        return
    if args.quick:
        known, active, dispatch_n, thread_n = 10_000, 1_000, 5_000, 1_000
    else:
        known, active, dispatch_n, thread_n = 100_000, 10_000, 50_000, 5_000
    res = trio.run(bench, known, active, dispatch_n, thread_n)
    width = max(map(len, res))
    for k, v in res.items():
        print(f"{k:<{width}}  {v:,.0f}" if isinstance(v, float) else f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
