"""One incarnation of an actor: build it, start it, run its message loop, end it.

``run_incarnation`` is the body of the single trio task behind each running actor. It catches
everything the actor raises (so nothing reaches the trio nursery and no sibling is cancelled),
unwraps exception groups, classifies the exit, stops linked children and helper tasks, runs
``on_stop`` shielded and reports the exit to the supervisor.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import outcome
import trio
from trio.lowlevel import Abort, current_task, wait_task_rescheduled

from qgactor.runtime.actor import Actor, ActorContext
from qgactor.runtime.errors import ActorDead
from qgactor.runtime.messages import ExitReason
from qgactor.runtime.ref import DEAD, EXITED, RUNNING, STARTING, STOPPING, ActorRef, _Ask

if TYPE_CHECKING:
    from qgactor.runtime.engine import Supervision

__all__ = ["run_incarnation", "start_helper", "request_stop", "linked_children", "classify"]

log = logging.getLogger("qgactor.runtime")

_BURST = 128  # messages handled back to back before the loop yields to other tasks


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        out: list[BaseException] = []
        for sub in exc.exceptions:
            out.extend(_leaves(sub))
        return out
    return [exc]


def classify(error: BaseException) -> tuple[str, BaseException | None]:
    """Classify an exception that escaped an actor, after unwrapping exception groups.

    Returns ``("cancelled", None)`` when every leaf is ``trio.Cancelled`` (an outer
    cancellation), ``("fatal", exc)`` for KeyboardInterrupt/SystemExit-like leaves that must
    propagate, otherwise ``("crash", error)`` where ``error`` is the single non-Cancelled leaf (or
    a group of them).
    """
    leaves = _leaves(error)
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if not real:
        return "cancelled", None
    fatal = [e for e in real if not isinstance(e, Exception)]
    if fatal:
        return "fatal", fatal[0]
    if len(real) == 1:
        return "crash", real[0]
    return "crash", ExceptionGroup("several errors", real)  # type: ignore[arg-type]


def _make_actor(ref: ActorRef, incarnation: int) -> Actor:
    spec = ref._spec
    actor = spec.factory(*spec.args, **spec.kwargs)
    if not isinstance(actor, Actor):
        raise TypeError(
            f"factory {spec.factory!r} of actor {ref.name!r} returned {type(actor).__name__}, "
            "not an Actor; pass an Actor subclass (or a callable returning an Actor instance)"
        )
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


async def message_loop(ref: ActorRef, actor: Actor) -> None:
    """Hand queued messages to ``actor.receive`` one at a time until a stop is requested."""
    q = ref._q
    receive = actor.receive
    idle = ref._spec.idle_timeout
    Value = outcome.Value
    item: Any = None
    burst = 0
    try:
        while not ref._stopping:
            if not q:
                burst = 0
                ref._getter = current_task()
                if idle is None:
                    await wait_task_rescheduled(_abort_getter(ref))
                else:
                    with trio.CancelScope(deadline=trio.current_time() + idle) as cs:
                        await wait_task_rescheduled(_abort_getter(ref))
                    if cs.cancelled_caught and not q:
                        ref._idle_stop = True
                        return
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


def request_stop(ref: ActorRef) -> None:
    """Ask the current incarnation to stop after its current message (graceful)."""
    ref._stopping = True
    g = ref._getter
    if g is not None:
        ref._getter = None
        trio.lowlevel.reschedule(g)
    eng = ref._children
    if eng is not None:
        eng.wake()


def crash_incarnation(ref: ActorRef, incarnation: int, error: BaseException) -> None:
    """Crash the given incarnation from outside its task (a helper task or linked child failed)."""
    if ref._incarnation != incarnation or ref._scope is None or ref._state >= EXITED:
        return
    if ref._crash_exc is None:
        ref._crash_exc = error
    ref._scope.cancel()


async def _helper(ref: ActorRef, incarnation: int, scope: trio.CancelScope,
                  fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
    helpers = ref._helpers
    try:
        with scope:
            if ref._incarnation != incarnation or ref._state >= STOPPING:
                return
            await fn(*args)
    except BaseException as exc:
        kind, err = classify(exc)
        if kind == "crash":
            assert err is not None
            crash_incarnation(ref, incarnation, err)
        else:
            raise
    finally:
        if helpers is not None:
            helpers.discard(scope)
            if not helpers:
                done = ref._helpers_done
                if done is not None:
                    ref._helpers_done = None
                    done.set()


def start_helper(ref: ActorRef, incarnation: int, fn: Callable[..., Awaitable[Any]],
                 args: tuple[Any, ...], name: str | None) -> None:
    """Start ``fn(*args)`` as a task tied to ``ref``'s current incarnation (``ctx.start_soon``)."""
    if ref._incarnation != incarnation or ref._state >= STOPPING or ref._scope is None:
        raise ActorDead(
            f"actor {ref.name!r}: this incarnation has ended, cannot start_soon({fn!r}); start "
            "tasks from on_start or receive of the running actor"
        )
    if ref._helpers is None:
        ref._helpers = set()
    scope = trio.CancelScope()
    ref._helpers.add(scope)
    ref._system._nursery.start_soon(
        _helper, ref, incarnation, scope, fn, args, name=name or f"{ref.name}:{getattr(fn, '__name__', 'task')}"
    )


def linked_children(ref: ActorRef, incarnation: int) -> Supervision:
    """The supervision engine for children spawned via ``ctx.spawn`` (created on first use)."""
    if ref._incarnation != incarnation or ref._state >= STOPPING:
        raise ActorDead(f"actor {ref.name!r}: this incarnation has ended, cannot spawn children")
    eng = ref._children
    if eng is None:
        from qgactor.runtime.engine import Supervision

        eng = Supervision(ref._system, ref.name, owner=ref)
        ref._children = eng
        start_helper(ref, incarnation, eng.manage, (), f"{ref.name}:supervision")
    return eng


async def _stop_helpers(ref: ActorRef) -> None:
    helpers = ref._helpers
    if not helpers:
        return
    for scope in list(helpers):
        scope.cancel()
    # Wait (bounded by the caller's deadline) until every helper has unwound.
    if helpers:
        done = trio.Event()
        ref._helpers_done = done
        await done.wait()


async def run_incarnation(ref: ActorRef) -> None:
    """Task body for one incarnation of ``ref``'s actor; reports its exit to ``ref._sup``."""
    sup = ref._sup
    ref._incarnation += 1
    inc = ref._incarnation
    ref._state = STARTING
    ref._stopping = False
    ref._crash_exc = None
    ref._inflight = None
    ref._idle_stop = False
    ref._helpers = None
    ref._children = None
    scope = trio.CancelScope()
    ref._scope = scope
    actor: Actor | None = None
    started = False
    error: BaseException | None = None
    try:
        with scope:
            ref._started_at = trio.current_time()
            actor = _make_actor(ref, inc)
            await actor.on_start()
            started = True
            if ref._state == STARTING:
                ref._state = RUNNING
            _signal_started(ref)
            serve = getattr(actor, "_kernel_serve", None)
            if serve is None:
                await message_loop(ref, actor)
            else:
                await serve()
    except BaseException as exc:
        error = exc
    finally:
        _signal_started(ref)
    if ref._scope is not scope:
        return  # detached by a fast stop: the supervisor already finalised this slot
    reraise: BaseException | None = None
    if ref._crash_exc is not None:
        reason = ExitReason.crash(ref._crash_exc)
    elif error is not None:
        kind, err = classify(error)
        if kind == "crash":
            assert err is not None
            reason = ExitReason.crash(err)
        else:
            reason = ExitReason.shutdown()
            reraise = error
    elif scope.cancelled_caught or ref._terminating:
        reason = ExitReason.shutdown()
    else:
        reason = ExitReason.normal()
    ref._state = STOPPING
    ref._getter = None
    shutdown = ref._spec.shutdown
    deadline = math.inf if shutdown is None else trio.current_time() + shutdown
    with trio.CancelScope(shield=True, deadline=deadline):
        try:
            children = ref._children
            if children is not None:
                await children.close()
            await _stop_helpers(ref)
        except BaseException as exc:  # pragma: no cover - defensive
            log.exception("actor %r: error while stopping its children/tasks", ref.name)
            if reason.error is None and isinstance(exc, Exception):
                reason = ExitReason.crash(exc)
        if started and actor is not None and type(actor).on_stop is not Actor.on_stop:
            try:
                await actor.on_stop(reason)
            except Exception:
                log.exception("actor %r: on_stop(%r) raised", ref.name, reason)
    if ref._helpers:
        for s in list(ref._helpers):
            s.cancel()
    ref._actor = None
    ref._ctx = None
    ref._scope = None
    ref._reason = reason
    if reason.error is not None:
        ref._last_error = reason.error
    ref._fail_inflight(reason)
    ref._state = EXITED
    ev = ref._exit_event
    if ev is not None:
        ref._exit_event = None
        ev.set()
    sup.child_exited(ref, inc, reason)
    if reraise is not None:
        raise reraise


__all__ += ["message_loop", "crash_incarnation", "DEAD"]
