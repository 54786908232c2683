"""The bot's own actors: token refresher, sessions owner, dispatcher, scheduler."""

from __future__ import annotations

import logging
from typing import Any

import trio

from qgactor.bot.context import JobContext
from qgactor.bot.dispatch import DispatchCore, call_handler
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.registry import Job
from qgactor.bot.scheduler import Scheduler
from qgactor.bot.services import BotServices
from qgactor.bot.sessions import SessionManager
from qgactor.bot.slots import HandlerSlot, current_slot
from qgactor.runtime import Actor, ExitReason

__all__ = ["TokenActor", "SessionsActor", "DispatcherActor", "SchedulerActor"]

log = logging.getLogger(__name__)


class TokenActor(Actor):
    """Refreshes the app access token before it expires (nothing to do for legacy tokens).

    A failed refresh crashes the actor; its supervisor restarts it with backoff, and requests
    meanwhile fetch a token on demand.
    """

    def __init__(self, credentials: Any, *, min_interval: float = 1.0) -> None:
        self.credentials = credentials
        self.min_interval = min_interval

    async def on_start(self) -> None:
        if hasattr(self.credentials, "seconds_until_refresh") and hasattr(self.credentials, "refresh"):
            self.ctx.start_soon(self._loop)

    async def _loop(self) -> None:
        await self.credentials.get()
        while True:
            await trio.sleep(max(self.min_interval, self.credentials.seconds_until_refresh()))
            await self.credentials.refresh()
            log.debug("access token refreshed")

    async def receive(self, msg: Any) -> Any:
        if msg == "status":
            return {"credentials": repr(self.credentials)}
        return None


class SessionsActor(Actor):
    """Owns the session manager: loads the store on start, runs its writer, timer and GC."""

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    async def on_start(self) -> None:
        await self.manager.open()
        self.ctx.start_soon(self.manager.serve)

    async def receive(self, msg: Any) -> Any:
        if msg == "status":
            return self.manager.stats()
        if msg == "flush":
            await self.manager.store.flush()
            return True
        return None


class DispatcherActor(Actor):
    """Turns each :class:`InboundEvent` into a task running the dispatch chain.

    At most ``max_concurrent`` events are processed at once; when all slots are busy,
    ``receive`` waits, the (backpressure) mailbox fills, and the transports slow down. A
    handler waiting for a user in a conversation does not count (``qgactor.bot.slots``).
    ``ask("status")`` answers the dispatcher's counters.

    Stopping is graceful, and no event is lost silently. Spawned with ``drain_on_stop=grace``
    (the bot does), the dispatcher first takes the events still queued in its mailbox - the
    transports stopped before it (reverse start order), so nothing new arrives - and starts
    them as usual. One grace period of ``grace`` seconds, from the stop request, covers that
    and the handlers in flight: a reply half sent is not cut off; once the mailbox is empty,
    handlers waiting in a conversation are woken with ``ConversationEnded`` (not earlier: a
    queued event may be the answer they wait for); whatever still runs at the deadline is
    cancelled and counted in a warning; events the kernel could not hand over by then are
    logged with a count and recorded as dead letters. (Spawn it with a ``shutdown`` timeout
    above ``grace``.)
    """

    def __init__(self, services: BotServices, core: DispatchCore, max_concurrent: int, *,
                 grace: float = 5.0) -> None:
        self.services = services
        self.core = core
        self.slots = trio.Semaphore(max_concurrent)
        self.in_flight = 0
        self.grace = grace
        self.cut_off = 0
        self._nursery: trio.Nursery | None = None
        self._grace_deadline: float | None = None
        self._ready = trio.Event()
        self._stopping = trio.Event()
        self._shield = trio.CancelScope(shield=True)

    async def on_start(self) -> None:
        self.ctx.start_soon(self._host)
        self.ctx.start_soon(self._wind_down)
        await self._ready.wait()

    async def _host(self) -> None:
        """Owns the nursery of the handler tasks, shielded so that stopping the actor does not
        cut them off: the grace period gives the shield a deadline instead. (One nursery for
        all events: a task per event costs no cancel scope of its own.)"""
        with self._shield:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._ready.set()
                await self._stopping.wait()
        if self.cut_off:
            log.warning("dispatcher: %d event(s) cancelled after the %.1f s shutdown grace period",
                        self.cut_off, self.grace)

    def _start_grace(self) -> float:
        """Start the grace period (once) and return its deadline: the shield of the handler
        tasks is cancelled then."""
        deadline = self._grace_deadline
        if deadline is None:
            deadline = self._grace_deadline = trio.current_time() + self.grace
            self._shield.deadline = deadline
        return deadline

    async def _wind_down(self) -> None:
        """Sleeps until the actor's message loop ended (its helper tasks are cancelled after the
        mailbox was drained), then closes the handler nursery within the grace period and wakes
        handlers waiting in conversations."""
        try:
            await trio.sleep_forever()
        finally:
            self._start_grace()
            self._stopping.set()
            conversations = self.services.conversations
            if self.in_flight and conversations is not None:
                conversations.end_waits()

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, InboundEvent):
            if self.ctx.stopping:  # draining the mailbox: the grace period runs from now on
                self._start_grace()
            slot = HandlerSlot(self.slots)
            if not slot.try_acquire():  # a free slot costs no checkpoint (the kernel's loop yields)
                await slot.acquire()
            self.in_flight += 1
            assert self._nursery is not None
            # a fixed task name: trio would format one per event
            self._nursery.start_soon(self._one, msg, slot, name="qgactor.bot.dispatch")
            return None
        if msg == "status":
            stats = self.core.stats
            return {
                "events": stats.events, "bad_events": stats.bad_events,
                "duplicates": stats.duplicates, "handler_calls": stats.handler_calls,
                "handler_errors": stats.handler_errors, "commands_run": stats.commands_run,
                "conversation_deliveries": stats.conversation_deliveries,
                "stopped_by_preprocessor": stats.stopped_by_preprocessor,
                "last_error": stats.last_error, "in_flight": self.in_flight,
                "by_event": dict(stats.by_event),
            }
        log.warning("dispatcher ignored an unknown message %r", type(msg).__name__)
        return None

    async def _one(self, event: InboundEvent, slot: HandlerSlot) -> None:
        current_slot.set(slot)  # a handler waiting in a conversation steps out of it
        core = self.core
        try:
            chain = core.begin(event)  # the chain runs in this frame (no process() frame)
            if chain is not None:
                await chain
        except trio.Cancelled:
            self.cut_off += 1
            raise
        except Exception:
            # the chain catches handler errors itself; this is a bug in the chain: log, go on
            log.exception("dispatching %s %s failed", event.name, event.event_id)
        finally:
            core.complete()
            self.in_flight -= 1
            slot.release()

    async def on_stop(self, reason: ExitReason) -> None:
        if self.in_flight:
            log.info("dispatcher stopping with %d event(s) in flight (%r)", self.in_flight, reason)


class SchedulerActor(Actor):
    """Runs the bot's jobs (start, interval, cron; stop jobs when it stops)."""

    def __init__(self, services: BotServices, **options: Any) -> None:
        self.services = services
        self.scheduler = Scheduler(services.registry, self._run_job, **options)

    async def _run_job(self, job: Job) -> None:
        try:
            await call_handler(self.services, job.fn, JobContext(job, self.services))
        except Exception:
            log.exception("job %s (%s) failed", job.name, job.kind)

    async def on_start(self) -> None:
        self.ctx.start_soon(self.scheduler.run)

    async def receive(self, msg: Any) -> Any:
        if msg == "status":
            return {"runs": self.scheduler.runs, "jobs": len(self.services.registry.jobs)}
        return None
