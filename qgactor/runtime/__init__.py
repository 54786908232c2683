"""qgactor.runtime: the actor kernel (trio only).

Actors (:class:`Actor`) run under supervisors in an actor system opened with
:func:`open_actor_nursery`; they are addressed through :class:`ActorRef` and restarted per
OTP-style :class:`ChildSpec`/:class:`Strategy`/:class:`Restart` rules with :class:`Backoff`::

    async with open_actor_nursery(strategy=Strategy.ONE_FOR_ONE, max_restarts=3, within=5.0,
                                  backoff=Backoff()) as an:
        ref = await an.spawn(Counter, name="counter", restart=Restart.PERMANENT, shutdown=5.0,
                             mailbox=Mailbox(capacity=1000, overflow=Overflow.BACKPRESSURE))
        await ref.tell("inc")                  # waits only if the mailbox is full (BACKPRESSURE)
        n = await ref.ask("get", timeout=1)    # receive()'s return value
        dyn = await an.spawn(DynamicSupervisor, name="conversations")
        conv = await dyn.get_or_start(key, Conversation, key, idle_timeout=300)

Semantics in brief:

* ``spawn`` returns once ``on_start`` finished; a factory/``on_start`` that raises is a crash.
* A ref survives restarts; messages sent meanwhile wait in the bounded mailbox; the message
  being handled at a crash becomes a dead letter (``an.dead_letters``) and an asker of it gets
  :class:`ActorError`. ``tell``/``ask`` to a stopped actor raise :class:`ActorDead`; an ``ask``
  still queued when its target stops fails with ``ActorDead`` at once.
* Restart types: PERMANENT (always, also after ``ctx.stop()``), TRANSIENT (after a crash),
  TEMPORARY (never). Strategies act only when the failed child is due to restart. More than
  ``max_restarts`` in ``within`` seconds: children stopped in reverse order, the supervisor
  crashes with :class:`RestartIntensityExceeded` (the root raises it from ``open_actor_nursery``).
* Shutdown: reverse start order, each child gets its ``shutdown`` seconds, then is cancelled;
  ``on_stop`` runs shielded. Linked children (``ctx.spawn``) stop before their parent. A child
  spawned with ``drain_on_stop=SECONDS`` first handles what is queued in its mailbox (bounded
  by that and its ``shutdown``); what is left is logged with a count and dead-lettered.
* Long-running loops belong in ``ctx.start_soon`` tasks started from ``on_start``.
* ``ctx.watch(ref)`` delivers :class:`Down` once the ref is dead for good (not on restarts).
* Idle actors hibernate without a trio task; this is invisible to them.
"""

from qgactor.runtime.actor import Actor, ActorContext
from qgactor.runtime.errors import (
    ActorDead,
    ActorError,
    AskTimeout,
    DuplicateName,
    KernelError,
    MailboxFull,
    RestartIntensityExceeded,
    TooManyChildren,
)
from qgactor.runtime.gctuning import THROUGHPUT_GC_THRESHOLDS, tune_gc_for_throughput
from qgactor.runtime.messages import DeadLetter, Down, ExitKind, ExitReason
from qgactor.runtime.ref import ActorRef
from qgactor.runtime.snapshot import ActorSnapshot, snapshot
from qgactor.runtime.spec import Backoff, ChildSpec, Mailbox, Overflow, Restart, Strategy
from qgactor.runtime.supervisor import DynamicSupervisor, DynamicSupervisorRef, Supervisor
from qgactor.runtime.system import ActorNursery, open_actor_nursery

__all__ = [
    "open_actor_nursery",
    "ActorNursery",
    "Actor",
    "ActorContext",
    "ActorRef",
    "Supervisor",
    "DynamicSupervisor",
    "DynamicSupervisorRef",
    "ChildSpec",
    "Restart",
    "Strategy",
    "Backoff",
    "Mailbox",
    "Overflow",
    "Down",
    "ExitKind",
    "ExitReason",
    "DeadLetter",
    "ActorSnapshot",
    "snapshot",
    "KernelError",
    "ActorDead",
    "AskTimeout",
    "MailboxFull",
    "RestartIntensityExceeded",
    "ActorError",
    "DuplicateName",
    "TooManyChildren",
    "tune_gc_for_throughput",
    "THROUGHPUT_GC_THRESHOLDS",
]
