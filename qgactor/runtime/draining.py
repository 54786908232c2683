"""Draining: a graceful stop that first handles the messages already in the mailbox.

By default a graceful stop ends an actor after its current message; what is still queued
becomes dead letters when the slot is released (asks fail with ``ActorDead``). A child spawned
with ``drain_on_stop=SECONDS`` instead keeps handling its mailbox after the stop request, in
order, until it is empty (messages arriving meanwhile are handled too), for at most ``SECONDS``
and never past its ``shutdown`` timeout (``drain_on_stop=True`` means: bounded only by the
shutdown timeout). This is for actors fed by producers that stop before them - the reverse
start order stops the bot's transports before its dispatcher, so at that point nothing new
arrives and the dispatcher can handle the events already queued.

When the drain period runs out, the message being handled is cancelled (recorded as a dead
letter) and the rest stays queued: a restarting actor handles it in its next incarnation, an
actor stopped for good records it as dead letters and logs how many (never silently). A crash
while draining is a crash like any other. Draining runs no hooks of its own: ``receive`` sees
the messages as usual and may check ``self.ctx.stopping``.
"""

from __future__ import annotations

import logging
from typing import Any

import outcome
import trio

from qgactor.runtime.actor import Actor
from qgactor.runtime.ref import ActorRef
from qgactor.runtime.requests import _Ask

__all__ = ["should_drain", "drain_mailbox"]

log = logging.getLogger("qgactor.runtime")

_BURST = 128  # messages handled back to back before yielding (as in the message loop)


def should_drain(ref: ActorRef) -> bool:
    """True if ``ref``'s incarnation, whose message loop just ended, is to drain its mailbox:
    a graceful stop was requested, it declared ``drain_on_stop``, it did not crash, and
    messages are queued."""
    return (ref._stopping and ref._crash_exc is None and bool(ref._q)
            and ref._spec.drain_on_stop is not None)


async def drain_mailbox(ref: ActorRef, actor: Actor) -> None:
    """Hand the queued messages to ``actor.receive`` until the mailbox is empty or the drain
    period (``ref._spec.drain_on_stop`` seconds) ran out; see the module docstring.

    Raises what ``receive`` raises (a crash), and ``Cancelled`` when the actor itself is
    cancelled (its shutdown timeout ran out).
    """
    seconds = ref._spec.drain_on_stop
    assert seconds is not None
    q = ref._q
    receive = actor.receive
    Value = outcome.Value
    handled = 0
    item: Any = None
    with trio.CancelScope(deadline=trio.current_time() + seconds) as period:
        try:
            while q and ref._crash_exc is None:
                item = q.popleft()
                if ref._putters:
                    ref._handoff()
                if type(item) is _Ask:
                    item.reply(Value(await receive(item.msg)))
                else:
                    await receive(item)
                item = None
                ref._processed += 1
                handled += 1
                if handled % _BURST == 0:
                    await trio.lowlevel.checkpoint()
        except BaseException:
            ref._inflight = item  # a dead letter when the incarnation ends
            raise
    if period.cancelled_caught:
        left = len(ref._q) + (ref._inflight is not None)
        log.warning("actor %r: its drain period of %gs ran out after %d message(s) with %d "
                    "unhandled (the one being handled was cancelled)", ref.name, seconds,
                    handled, left)
    elif handled:
        log.debug("actor %r: handled %d queued message(s) before stopping", ref.name, handled)
