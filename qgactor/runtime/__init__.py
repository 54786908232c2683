"""qgactor.runtime: the actor kernel (trio only).

Actors (:class:`Actor`) run under supervisors in an actor system opened with
:func:`open_actor_nursery`; they are addressed through :class:`ActorRef` and restarted per
OTP-style :class:`ChildSpec`/:class:`Strategy`/:class:`Restart` rules with :class:`Backoff`.
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
]
