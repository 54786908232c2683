"""One incarnation of an actor: build it, start it, run its message loop, end it.

``run_activation`` is the body of the trio task behind a running actor. It catches everything
the actor raises (so nothing reaches the trio nursery and no sibling is cancelled), unwraps
exception groups, classifies the exit, stops linked children and helper tasks, runs ``on_stop``
shielded and reports the exit to the supervisor.

Idle actors are cheap: an actor without ``on_start`` has no task until its first message, and
the system's sweeper retires the task of a plain actor idle for a couple of seconds (it
*hibernates*); the next message starts a new task for the same incarnation. Hibernation is
invisible to the actor (no hooks run).
"""

from __future__ import annotations

import inspect
import logging
import math
import weakref
from collections.abc import Callable
from typing import Any

import outcome
import trio
from trio.lowlevel import Abort, current_task, wait_task_rescheduled

from qgactor.runtime.actor import Actor, ActorContext
from qgactor.runtime.draining import drain_mailbox, should_drain
from qgactor.runtime.messages import ExitReason, classify
from qgactor.runtime.ref import DEAD, EXITED, RUNNING, STARTING, STOPPING, ActorRef
from qgactor.runtime.requests import _Ask
from qgactor.runtime.tasks import stop_helpers

__all__ = ["start_incarnation", "run_activation", "request_stop", "retire", "message_loop",
           "enter_hibernation", "idle_expired"]

log = logging.getLogger("qgactor.runtime")

_BURST = 128  # messages handled back to back before the loop yields to other tasks


_CHECKED: weakref.WeakSet[type] = weakref.WeakSet()  # classes whose hooks were validated


def _make_actor(ref: ActorRef, incarnation: int) -> Actor:
    spec = ref._spec
    actor = spec.factory(*spec.args, **spec.kwargs)
    if not isinstance(actor, Actor):
        raise TypeError(
            f"factory {spec.factory!r} of actor {ref.name!r} returned {type(actor).__name__}, "
            "not an Actor; pass an Actor subclass (or a callable returning an Actor instance)"
        )
    cls = type(actor)
    if cls not in _CHECKED:
        for hook in ("on_start", "receive", "on_stop"):
            if not inspect.iscoroutinefunction(getattr(cls, hook)):
                raise TypeError(
                    f"{cls.__name__}.{hook} must be an async def method (the kernel awaits it); "
                    "for blocking work run it in a thread with trio.to_thread.run_sync"
                )
        _CHECKED.add(cls)
    ctx = ActorContext(ref, incarnation)
    actor.ref = ref
    actor.ctx = ctx
    ref._actor = actor
    ref._ctx = ctx
    return actor


def _signal_started(ref: ActorRef) -> None:
    ev = ref._start_waiter
    if ev is not None:
        ref._start_waiter = None
        ev.set()


def _abort_getter(ref: ActorRef) -> Callable[[object], Abort]:
    def abort(_raise_cancel: object) -> Abort:
        ref._getter = None
        return Abort.SUCCEEDED

    return abort


_RETIRE = object()  # rescheduled into a parked loop by the sweeper: hibernate


async def message_loop(ref: ActorRef, actor: Actor, token: object) -> bool:
    """Hand queued messages to ``actor.receive`` one at a time while ``ref._run is token``.

    Returns True when the sweeper retired the (long idle) task: the actor hibernates without a
    task until its next message. Returns False when a stop was requested.
    """
    q = ref._q
    receive = actor.receive
    idle = ref._spec.idle_timeout
    system = ref._system
    Value = outcome.Value
    item: Any = None
    burst = 0
    try:
        while ref._run is token:
            if not q:
                burst = 0
                if idle is None:
                    ep = system._epoch
                    if ref._park_epoch != ep:
                        ref._park_epoch = ep
                        system._parked(ref)
                    ref._getter = current_task()
                    if await wait_task_rescheduled(_abort_getter(ref)) is _RETIRE:
                        return True
                    q = ref._q  # allocated by the sender if the mailbox had none
                else:
                    deadline = ref._idle_deadline = trio.current_time() + idle
                    ep = system._epoch
                    if ref._park_epoch != ep:
                        ref._park_epoch = ep
                        system._parked(ref)
                    ref._getter = current_task()
                    woken: object = None
                    with trio.CancelScope(deadline=deadline) as cs:
                        woken = await wait_task_rescheduled(_abort_getter(ref))
                    if woken is _RETIRE:
                        return True
                    q = ref._q
                    if cs.cancelled_caught and not q and ref._run is token:
                        ref._idle_stop = True
                        return False
                continue
            item = q.popleft()
            if ref._putters:
                ref._handoff()
            if type(item) is _Ask:
                item.reply(Value(await receive(item.msg)))
            else:
                await receive(item)
            item = None
            ref._processed += 1
            burst += 1
            if burst >= _BURST:
                burst = 0
                await trio.lowlevel.checkpoint()
    except BaseException:
        ref._inflight = item
        raise
    return False


def retire(ref: ActorRef) -> bool:
    """Sweeper: end the task of a long-idle plain actor (it hibernates). True if retired."""
    g = ref._getter
    if g is None or ref._helpers or ref._children is not None or ref._run is None:
        return False
    ref._getter = None
    trio.lowlevel.reschedule(g, outcome.Value(_RETIRE))
    return True


def enter_hibernation(ref: ActorRef) -> None:
    """Mark a running actor without a task as hibernating (giving back its empty mailbox
    deque); its idle timeout keeps counting."""
    ref._hib = True
    ref._close_mailbox()
    ref._hib_count += 1
    if ref._spec.idle_timeout is not None:
        ref._system._idle_watch(ref, ref._idle_deadline, ref._hib_count)


def idle_expired(ref: ActorRef, token: int) -> None:
    """The idle deadline of a hibernating actor passed: stop it normally (as its loop would)."""
    if ref._hib and ref._hib_count == token and ref._state == RUNNING and not ref._q:
        ref._idle_stop = True
        request_stop(ref)


def request_stop(ref: ActorRef) -> None:
    """Ask the current incarnation to stop after its current message (graceful)."""
    ref._stopping = True
    ref._run = None
    g = ref._getter
    if g is not None:
        ref._getter = None
        trio.lowlevel.reschedule(g)
    elif ref._hib:
        ref._hib = False
        ref._system._activate(ref)
    eng = ref._children
    if eng is not None:
        eng.wake()


async def start_incarnation(ref: ActorRef) -> None:
    """Build a new incarnation of ``ref``'s actor (in the caller's task) and start it.

    An actor without ``on_start`` starts hibernated: it gets a task only when its first message
    arrives. Otherwise a task runs ``on_start``; this waits until it finished or failed. A
    factory or ``on_start`` that raises counts as a crash, reported to the supervisor.
    """
    ref._incarnation += 1
    inc = ref._incarnation
    ref._state = STARTING
    ref._stopping = False
    ref._run = None
    ref._hib = False
    ref._crash_exc = None
    ref._inflight = None
    ref._idle_stop = False
    ref._helpers = None
    ref._children = None
    ref._scope = None
    ref._started_at = trio.current_time()
    try:
        actor = _make_actor(ref, inc)
    except Exception as exc:
        _signal_started(ref)
        _finish(ref, inc, ExitReason.crash(exc))
        await trio.lowlevel.checkpoint()
        return
    if type(actor).on_start is Actor.on_start and not ref._q:
        ref._state = RUNNING
        if ref._spec.idle_timeout is not None:
            ref._idle_deadline = ref._started_at + ref._spec.idle_timeout
        enter_hibernation(ref)
        _signal_started(ref)
        await trio.lowlevel.checkpoint()
        return
    ev = ref._start_waiter
    if ev is None:
        ev = ref._start_waiter = trio.Event()
    ref._system._activate(ref, first=True)
    await ev.wait()


def _finish(ref: ActorRef, inc: int, reason: ExitReason) -> None:
    if ref._incarnation != inc or ref._state == DEAD:
        # an abandoned task ending late: its supervisor already moved the slot on (removed it
        # or started a new incarnation); only an ask it was handling still needs its answer
        if ref._incarnation == inc:
            ref._fail_inflight(reason)
        return
    ref._actor = None
    ref._ctx = None
    ref._scope = None
    ref._run = None
    ref._hib = False
    ref._reason = reason
    if reason.error is not None:
        ref._last_error = reason.error
    ref._fail_inflight(reason)
    ref._state = EXITED
    ev = ref._exit_event
    if ev is not None:
        ref._exit_event = None
        ev.set()
    ref._sup.child_exited(ref, inc, reason)


async def run_activation(ref: ActorRef, inc: int, first: bool) -> None:
    """Task body running ``ref``'s actor: ``on_start`` (first activation), then the message
    loop; ends the incarnation unless the actor hibernates."""
    actor = ref._actor
    if ref._incarnation != inc or ref._scope is not None or actor is None or ref._state >= STOPPING:
        if first:
            _signal_started(ref)
        return
    scope = trio.CancelScope()
    ref._scope = scope
    ref._run = None if ref._stopping else scope
    ref._task = current_task()
    started = not first
    hibernate = False
    error: BaseException | None = None
    try:
        with scope:
            if first:
                await actor.on_start()
                started = True
                if ref._state == STARTING:
                    ref._state = RUNNING
                _signal_started(ref)
            if ref._crash_exc is None:
                hibernate = await message_loop(ref, actor, scope)
                if not hibernate and should_drain(ref):
                    await drain_mailbox(ref, actor)
    except BaseException as exc:
        error = exc
    finally:
        if first:
            _signal_started(ref)
    if ref._scope is not scope:
        return  # detached by a fast stop: the supervisor already finalised this slot
    ref._task = None
    if hibernate:
        ref._scope = None
        ref._run = None
        if ref._q or ref._stopping or ref._crash_exc is not None:  # a message raced the sweeper
            ref._system._activate(ref)
        else:
            enter_hibernation(ref)
        return
    reraise: BaseException | None = None
    fatal: BaseException | None = None
    if ref._crash_exc is not None:
        reason = ExitReason.crash(ref._crash_exc)
    elif error is not None:
        kind, err = classify(error)
        if kind == "crash":
            assert err is not None
            reason = ExitReason.crash(err)
        else:
            reason = ExitReason.shutdown()
            if kind == "fatal":  # SystemExit/KeyboardInterrupt: shut the whole system down
                assert err is not None
                fatal = err
            else:
                reraise = error  # an outer cancellation: let it reach its scope
    elif scope.cancelled_caught or ref._terminating:
        reason = ExitReason.shutdown()
    else:
        reason = ExitReason.normal()
    if ref._state != DEAD:  # DEAD: released by an owner that gave up waiting (abandon)
        ref._state = STOPPING
    ref._getter = None
    shutdown = ref._spec.shutdown
    deadline = math.inf if shutdown is None else trio.current_time() + shutdown
    with trio.CancelScope(shield=True, deadline=deadline) as stopping:
        try:
            children = ref._children
            if children is not None:
                await children.close()
            await stop_helpers(ref)
        except Exception as exc:  # pragma: no cover - defensive
            log.exception("actor %r: error while stopping its children/tasks", ref.name)
            if reason.error is None:
                reason = ExitReason.crash(exc)
    if stopping.cancelled_caught:
        # its tasks/children were cancelled and still did not end within the shutdown timeout
        # (something shields them): give up on them, release their names, go on stopping
        log.warning("actor %r: its tasks or children did not end within its shutdown timeout of "
                    "%ss; abandoning them", ref.name, shutdown)
        if ref._children is not None:
            ref._children.abandon()
    if started and actor is not None and type(actor).on_stop is not Actor.on_stop:
        with trio.CancelScope(shield=True, deadline=deadline) as hook:
            try:
                await actor.on_stop(reason)
            except Exception:
                log.exception("actor %r: on_stop(%r) raised", ref.name, reason)
        if hook.cancelled_caught:
            log.warning("actor %r: on_stop did not finish within its shutdown timeout of %ss; "
                        "cancelled", ref.name, shutdown)
    if ref._helpers:
        for h in list(ref._helpers):
            h.cancel()
    _finish(ref, inc, reason)
    if fatal is not None:
        ref._system._fail(fatal)
    if reraise is not None:
        raise reraise
