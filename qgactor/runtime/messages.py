"""Records the kernel hands to actors and observers: exit reasons, ``Down`` and dead letters."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import attrs
import trio

if TYPE_CHECKING:
    from qgactor.runtime.ref import ActorRef

__all__ = ["ExitKind", "ExitReason", "Down", "DeadLetter", "describe_error", "classify"]


class ExitKind(enum.Enum):
    """Why an actor incarnation ended."""

    NORMAL = "normal"
    """The actor stopped itself (``ctx.stop()``, an idle timeout, or its loop returned)."""
    SHUTDOWN = "shutdown"
    """Its supervisor (or the system) stopped it: a graceful stop or a cancellation."""
    CRASH = "crash"
    """``on_start``, ``receive``, a ``ctx.start_soon`` task or a linked child raised."""


def describe_error(error: BaseException | None, limit: int = 300) -> str | None:
    """A short, single-line description of ``error`` (type and message, truncated).

    Used for snapshots and logs; the message text is the exception's own ``str()`` (the kernel
    never puts message payloads into it).
    """
    if error is None:
        return None
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@attrs.frozen(repr=False)
class ExitReason:
    """Why an actor incarnation ended: ``kind`` plus the ``error`` for crashes.

    Passed to ``Actor.on_stop`` and carried by :class:`Down`. Build them with
    :meth:`normal`, :meth:`shutdown` or :meth:`crash`.
    """

    kind: ExitKind
    error: BaseException | None = None

    @classmethod
    def normal(cls) -> ExitReason:
        """The actor stopped by itself."""
        return _NORMAL

    @classmethod
    def shutdown(cls) -> ExitReason:
        """The actor was stopped from outside."""
        return _SHUTDOWN

    @classmethod
    def crash(cls, error: BaseException) -> ExitReason:
        """The actor failed with ``error``."""
        return cls(ExitKind.CRASH, error)

    @property
    def is_crash(self) -> bool:
        """True when the incarnation ended with an error."""
        return self.kind is ExitKind.CRASH

    @property
    def is_normal(self) -> bool:
        """True when the actor stopped by itself."""
        return self.kind is ExitKind.NORMAL

    @property
    def is_shutdown(self) -> bool:
        """True when the actor was stopped from outside."""
        return self.kind is ExitKind.SHUTDOWN

    def __repr__(self) -> str:
        if self.error is None:
            return f"ExitReason.{self.kind.name}"
        return f"ExitReason.CRASH({describe_error(self.error)!r})"


_NORMAL = ExitReason(ExitKind.NORMAL)
_SHUTDOWN = ExitReason(ExitKind.SHUTDOWN)


@attrs.frozen
class Down:
    """Delivered to a watcher's ``receive`` when a watched actor stops for good.

    Restarts are invisible to watchers (the ref stays valid); ``Down`` arrives once, when the
    ref becomes dead. Watching an already dead ref delivers ``Down`` at once.
    """

    ref: ActorRef
    reason: ExitReason


@attrs.frozen(repr=False)
class DeadLetter:
    """A message that could not be handled.

    ``reason`` is one of ``"crash"`` (the message being handled when the actor crashed; ``error``
    is the exception), ``"dropped"`` (evicted or refused by the overflow policy) or ``"stopped"``
    (still queued when the actor stopped for good). The repr shows only the message type, never
    its content.
    """

    recipient: str
    message: Any
    reason: str
    error: BaseException | None = None

    def __repr__(self) -> str:
        err = f", error={describe_error(self.error)!r}" if self.error is not None else ""
        return (
            f"DeadLetter(recipient={self.recipient!r}, message_type="
            f"{type(self.message).__name__}, reason={self.reason!r}{err})"
        )


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
