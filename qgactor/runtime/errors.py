"""The kernel's exception hierarchy.

Every error the kernel raises on purpose derives from :class:`KernelError`. Messages say what went
wrong and what to do next; they never contain message payloads (which may carry secrets), only
actor names and types.
"""

from __future__ import annotations

__all__ = [
    "KernelError",
    "ActorDead",
    "AskTimeout",
    "MailboxFull",
    "RestartIntensityExceeded",
    "ActorError",
    "DuplicateName",
    "TooManyChildren",
]


class KernelError(Exception):
    """Base class of every error raised by :mod:`qgactor.runtime`."""


class ActorDead(KernelError):
    """The target actor has stopped for good (or its system has shut down).

    Raised by ``tell``/``tell_nowait``/``ask`` on a stopped ref, and delivered to an ``ask`` that
    was still waiting when its target stopped. A ref whose actor is only *restarting* never raises
    this: messages wait in the mailbox. Spawn a new actor (or use
    ``DynamicSupervisorRef.get_or_start``) to talk to that role again.
    """


class AskTimeout(KernelError, TimeoutError):
    """``ask`` got no reply within its timeout.

    The request stays in the target's mailbox and may still be handled; its late reply is
    dropped. Raise the timeout or make the target answer faster.
    """


class MailboxFull(KernelError):
    """The target's mailbox is full and its overflow policy refuses the message.

    Raised for ``Overflow.FAIL`` (by ``tell``, ``tell_nowait`` and ``ask``) and for an ``ask`` that
    hits a full ``Overflow.DROP_NEWEST`` mailbox (an ask is never dropped silently). Also given to
    an asker whose request was evicted by ``Overflow.DROP_OLDEST``.
    """


class RestartIntensityExceeded(KernelError):
    """A supervisor saw more than ``max_restarts`` restarts within ``within`` seconds.

    The supervisor has stopped its children (in reverse start order) and fails to its parent,
    which applies its own strategy; the root raises this out of ``open_actor_nursery``. The
    ``__cause__`` is the last child error. Fix the crashing child or loosen the limits.
    """

    def __init__(self, supervisor: str, max_restarts: int, within: float, last_child: str | None):
        self.supervisor = supervisor
        self.max_restarts = max_restarts
        self.within = within
        self.last_child = last_child
        super().__init__(
            f"supervisor {supervisor!r} exceeded its restart intensity: more than {max_restarts} "
            f"restart(s) within {within:g}s (last failing child: {last_child!r}); its children "
            "were stopped. Fix the crashing child (see the chained exception) or raise "
            "max_restarts/within."
        )


class ActorError(KernelError):
    """The target's ``receive`` raised while handling your ``ask``.

    ``error`` (also ``__cause__``) is the original exception. The target itself crashed and is
    handled by its supervisor as usual (restarted or stopped per its restart type).
    """

    def __init__(self, actor: str, error: BaseException):
        self.actor = actor
        self.error = error
        super().__init__(
            f"actor {actor!r} raised {type(error).__name__} while handling this ask: {error}"
        )


class DuplicateName(KernelError, ValueError):
    """An actor with this name is already registered in the system.

    Names are unique per system (``open_actor_nursery``). Pick another name, look the existing
    actor up with ``lookup(name)``, or stop it first.
    """


class TooManyChildren(KernelError):
    """A ``DynamicSupervisor`` already runs ``max_children`` children.

    Terminate some children (or let idle ones time out) or raise ``max_children``.
    """
