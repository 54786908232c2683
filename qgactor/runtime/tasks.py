"""Tasks tied to an actor incarnation: ``ctx.start_soon`` helpers and ``ctx.spawn`` children.

Helpers run in the system's nursery inside their own cancel scope; the incarnation keeps the
set of scopes, cancels them when it ends and waits for them. A helper that raises crashes its
actor (after exception groups are unwrapped), never the nursery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from qgactor.runtime.errors import ActorDead
from qgactor.runtime.messages import classify
from qgactor.runtime.ref import EXITED, STOPPING, ActorRef

if TYPE_CHECKING:
    from qgactor.runtime.engine import Supervision

__all__ = ["crash_incarnation", "start_helper", "linked_children", "stop_helpers"]


def crash_incarnation(ref: ActorRef, incarnation: int, error: BaseException) -> None:
    """Crash the given incarnation from outside its task (a helper task or linked child failed)."""
    if ref._incarnation != incarnation or ref._state >= EXITED:
        return
    if ref._crash_exc is None:
        ref._crash_exc = error
    ref._run = None
    if ref._scope is not None:
        ref._scope.cancel()
    elif ref._hib:
        ref._hib = False
        ref._system._activate(ref)


async def _helper(ref: ActorRef, incarnation: int, helpers: set[trio.CancelScope],
                  scope: trio.CancelScope, fn: Callable[..., Awaitable[Any]],
                  args: tuple[Any, ...]) -> None:
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
        elif kind == "fatal":
            assert err is not None
            ref._system._fail(err)
        else:
            raise
    finally:
        helpers.discard(scope)
        if not helpers and ref._helpers is helpers:
            done = ref._helpers_done
            if done is not None:
                ref._helpers_done = None
                done.set()


def start_helper(ref: ActorRef, incarnation: int, fn: Callable[..., Awaitable[Any]],
                 args: tuple[Any, ...], name: str | None) -> None:
    """Start ``fn(*args)`` as a task tied to ``ref``'s current incarnation (``ctx.start_soon``)."""
    if ref._incarnation != incarnation or ref._state >= STOPPING:
        raise ActorDead(
            f"actor {ref.name!r}: this incarnation has ended, cannot start_soon({fn!r}); start "
            "tasks from on_start or receive of the running actor"
        )
    helpers = ref._helpers
    if helpers is None:
        helpers = ref._helpers = set()
    scope = trio.CancelScope()
    helpers.add(scope)
    ref._system._nursery.start_soon(
        _helper, ref, incarnation, helpers, scope, fn, args,
        name=name or f"{ref.name}:{getattr(fn, '__name__', 'task')}",
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


async def stop_helpers(ref: ActorRef) -> None:
    """Cancel this incarnation's helper tasks and wait until they have all ended."""
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
