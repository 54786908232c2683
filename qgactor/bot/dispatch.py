"""Processing one inbound event: parse → preprocessors → waiting conversations → commands →
handlers (the qg-botsdk short-circuit order). The dispatcher actor runs this per event.

Handlers run here: ``async def`` ones in the calling task, plain ``def`` ones in a worker
thread (``bridge.run_in_worker``, bounded by the bot's thread limiter). A handler that
raises is logged with its traceback and counted; the other handlers of the event still run.
"""

from __future__ import annotations

import collections
import functools
import inspect
import logging
from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any, Awaitable, Callable

import attrs
import trio

from qgactor.bot.bridge import run_in_worker
from qgactor.bot.commands import match_commands
from qgactor.bot.context import EventContext, MessageContext
from qgactor.bot.conversations import ConversationEnded, ConversationTimeout
from qgactor.bot.inbound import InboundEvent
from qgactor.bot.scenes import MESSAGE_EVENTS
from qgactor.bot.services import BotServices
from qgactor.bot.slots import ThreadsOutsideSlot
from qgactor.qq.errors import EventParseError
from qgactor.qq.models.parse import parse_event

__all__ = ["DispatchCore", "DispatchStats", "is_async_callable", "call_handler"]

log = logging.getLogger(__name__)


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True if calling ``fn`` returns a coroutine (``async def`` functions, methods, partials and
    objects whose ``__call__`` is ``async def``)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)


@attrs.define(slots=True)
class DispatchStats:
    """Counters of the dispatcher (shown in ``bot.snapshot()`` and status pages)."""

    events: int = 0
    bad_events: int = 0
    duplicates: int = 0
    handler_calls: int = 0
    handler_errors: int = 0
    commands_run: int = 0
    conversation_deliveries: int = 0
    stopped_by_preprocessor: int = 0
    completed: int = 0
    last_error: str | None = None
    by_event: dict[str, int] = attrs.Factory(dict)


def call_handler(services: BotServices, fn: Callable[..., Any], arg: Any) -> Awaitable[Any]:
    """Call a handler; await the result: ``async def`` handlers run in the awaiting task (their
    own coroutine is returned, no wrapper), plain ``def`` ones in a worker thread (on
    cancellation the thread is waited for, never abandoned: see ``bridge.run_in_worker``).

    Raises (when awaited) whatever the handler raises.
    """
    if (fn.__class__ is FunctionType and fn.__code__.co_flags & CO_COROUTINE) or is_async_callable(fn):
        return fn(arg)  # type: ignore[no-any-return]
    return _call_in_thread(services, fn, arg)


async def _call_in_thread(services: BotServices, fn: Callable[..., Any], arg: Any) -> Any:
    limiter = services.thread_limiter
    result = await run_in_worker(services.token, fn, arg,
                                 ThreadsOutsideSlot(limiter) if limiter is not None else None)
    if inspect.isawaitable(result):  # a def returning a coroutine (e.g. a lambda)
        return await result
    return result


class DispatchCore:
    """Runs the processing chain of the module docstring for one bot."""

    def __init__(self, services: BotServices, *, dedup_size: int = 4096) -> None:
        self.services = services
        self.stats = DispatchStats()
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._dedup_size = dedup_size
        self._completion_waiters: list[tuple[int, trio.Event]] = []

    # -- helpers --------------------------------------------------------------------------------
    def _first_time(self, message_id: str | None) -> bool:
        """AT_MESSAGE_CREATE and MESSAGE_CREATE (and the group pair) deliver one message twice
        to bots subscribed to both: handle each message id once."""
        if not message_id:
            return True
        if message_id in self._seen:
            self.stats.duplicates += 1
            return False
        self._seen[message_id] = None
        if len(self._seen) > self._dedup_size:
            self._seen.popitem(last=False)
        return True

    async def _call(self, what: str, fn: Callable[..., Any], ctx: Any) -> tuple[bool, Any]:
        self.stats.handler_calls += 1
        try:
            return True, await call_handler(self.services, fn, ctx)
        except Exception as exc:
            return self._failed(what, fn, ctx, exc)

    def _failed(self, what: str, fn: Callable[..., Any], ctx: Any, exc: Exception) -> tuple[bool, Any]:
        """A handler raised ``exc``: log it (with its traceback unless it is a conversation
        timeout/end) and count it. Returns ``(False, None)``, the result of a failed call."""
        if isinstance(exc, (ConversationTimeout, ConversationEnded)):
            # a user walking away, or the bot stopping; a crash of the conversation actor
            # itself is logged by its supervisor
            log.info("%s %s: %s", what, _name(fn), exc)
            return False, None
        self.stats.handler_errors += 1
        self.stats.last_error = f"{what} {_name(fn)}: {type(exc).__name__}: {exc}"
        log.exception("%s %s failed on %r", what, _name(fn), ctx, exc_info=exc)
        return False, None

    def parse(self, inbound: InboundEvent) -> EventContext | None:
        """Parse the event into its model and wrap it in a context (None if unparseable)."""
        try:
            event = parse_event(inbound.name, inbound.data, event_id=inbound.event_id,
                                bot_id=self.services.bot_id)
        except EventParseError as exc:
            self.stats.bad_events += 1
            log.warning("dropping unparseable %s event %s: %s", inbound.name, inbound.event_id, exc)
            return None
        if inbound.name in MESSAGE_EVENTS:
            return MessageContext(event, inbound, self.services)
        return EventContext(event, inbound, self.services)

    # -- the chain ------------------------------------------------------------------------------
    async def wait_completed(self, count: int) -> None:
        """Wait until ``count`` events in total have been processed completely (tests, tools)."""
        if self.stats.completed >= count:
            return
        event = trio.Event()
        self._completion_waiters.append((count, event))
        await event.wait()

    def _complete(self) -> None:
        self.stats.completed += 1
        if self._completion_waiters:
            done = self.stats.completed
            keep = []
            for n, ev in self._completion_waiters:
                if done >= n:
                    ev.set()
                else:
                    keep.append((n, ev))
            self._completion_waiters = keep

    async def process(self, inbound: InboundEvent) -> None:
        """Process one event completely (never raises for handler errors)."""
        try:
            chain = self.begin(inbound)
            if chain is not None:
                await chain
        finally:
            self._complete()

    def begin(self, inbound: InboundEvent) -> Awaitable[None] | None:
        """Count and parse one event and return the coroutine that runs its chain (None if
        there is nothing to run). The caller awaits it, then calls :meth:`complete` - also when
        it failed. (``process`` does both; the dispatcher actor does it in its own task frame,
        one frame less per waiting handler.)"""
        stats = self.stats
        stats.events += 1
        stats.by_event[inbound.name] = stats.by_event.get(inbound.name, 0) + 1
        if inbound.name == "READY":
            self._learn_bot_id(inbound.data)
        ctx = self.parse(inbound)
        if ctx is None:
            return None
        if isinstance(ctx, MessageContext):
            return self._process_message(ctx)
        return self._process_event(ctx)

    def complete(self) -> None:
        """Count one event as completely processed (wakes :meth:`wait_completed`)."""
        self._complete()

    def _learn_bot_id(self, data: Any) -> None:
        if isinstance(data, dict):
            user = data.get("user")
            if isinstance(user, dict) and isinstance(user.get("id"), str):
                self.services.bot_id = user["id"]

    async def _process_event(self, ctx: EventContext) -> None:
        for h in self.services.registry.handlers_for(ctx.name):
            if not h.enabled:
                continue
            if h.ignore_self_delete and _deleted_own_message(ctx.event):
                continue
            await self._call("handler", h.fn, ctx)

    async def _process_message(self, ctx: MessageContext) -> None:
        services = self.services
        registry = services.registry
        if not self._first_time(ctx.id):
            return
        # 1. preprocessors: an explicit False stops everything (one that raises is logged and
        #    does not stop the message: a bug in a filter must not silence the bot)
        for pre in registry.preprocessors:
            if not pre.enabled:
                continue
            ok, result = await self._call("preprocessor", pre.fn, ctx)
            if ok and result is False:
                self.stats.stopped_by_preprocessor += 1
                return
        # 2. a conversation waiting for this user here takes the message
        conversations = services.conversations
        if conversations is not None and conversations.waiting and await conversations.offer(ctx):
            self.stats.conversation_deliveries += 1
            return
        # 3. commands, longest match first
        scene = ctx.scene
        stop = False
        commands = registry.commands
        matches = match_commands(commands, ctx.text, services.settings.command_prefix) if commands else ()
        for cmd, match in matches:
            if scene not in cmd.scenes:
                continue
            if cmd.require_at and not ctx.at_bot:
                continue
            cctx = MessageContext(ctx.event, ctx.inbound, services, match)
            if cmd.admin_only and not cctx.is_admin:
                if cmd.admin_refusal:
                    try:
                        await cctx.reply(cmd.admin_refusal)
                    except Exception:
                        log.exception("could not send the admin refusal of command %s", cmd.name)
                if cmd.short_circuit or cmd.custom_short_circuit:
                    stop = True
                    break
                continue
            self.stats.commands_run += 1
            # _call inlined: a command waiting in a conversation holds one frame less
            self.stats.handler_calls += 1
            try:
                ok, result = True, await call_handler(services, cmd.handler, cctx)
            except Exception as exc:
                ok, result = self._failed("command", cmd.handler, cctx, exc)
            if cmd.custom_short_circuit:
                if ok and result:
                    stop = True
                    break
            elif cmd.short_circuit:
                stop = True
                break
        # 4. handlers: message handlers only when no command short-circuited; on_event ones always
        #    (_call inlined: the handler waits in one frame less; an ``async def`` function is
        #    called directly)
        stats = self.stats
        for h in registry.handlers_for(ctx.name):
            if not h.enabled or scene not in h.scenes:
                continue
            if stop and h.is_message_handler:
                continue
            stats.handler_calls += 1
            fn = h.fn
            try:
                if fn.__class__ is FunctionType and fn.__code__.co_flags & CO_COROUTINE:
                    await fn(ctx)
                else:
                    await call_handler(services, fn, ctx)
            except Exception as exc:
                self._failed("handler", fn, ctx, exc)


def _deleted_own_message(event: Any) -> bool:
    msg = getattr(event, "message", None)
    author = getattr(getattr(msg, "author", None), "id", None)
    op = getattr(getattr(event, "op_user", None), "id", None)
    return author is not None and author == op


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


