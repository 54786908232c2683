"""The dialog API of a handler: ``msg.conversation()`` → :class:`Conversation`.

``ask``/``wait_for`` register a :class:`~qgactor.bot.conversations.Waiter` with the
conversation actor of the key (see :mod:`qgactor.bot.conversations`) and wait for the message
the dispatcher offers to it, with a timeout (and optional timeout reply).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import trio

from qgactor.bot.bridge import dual, in_trio_thread, run_blocking
from qgactor.bot.conversations import (
    ConversationManager,
    ConversationTimeout,
    Wait,
    Waiter,
    withdraw_waiter,
)
from qgactor.bot.slots import step_out

if TYPE_CHECKING:
    from qgactor.bot.context import MessageContext

__all__ = ["Conversation"]

log = logging.getLogger(__name__)


class Conversation:
    """A dialog with one user (or anyone) in one place, opened by ``msg.conversation()``.

    Use ``async with msg.conversation(timeout=60) as conv:`` in async handlers, ``with`` in
    ``def`` handlers; ``ask``/``wait_for``/``say`` are awaitable in the former and blocking in
    the latter. ``conv.latest`` is the most recent message of the dialog; ``say`` replies to it
    (a fresh passive-reply id).
    """

    __slots__ = ("origin", "latest", "timeout", "scope", "timeout_reply", "key", "_ref", "_open")

    def __init__(self, origin: "MessageContext", *, timeout: float = 60.0, scope: str = "user",
                 timeout_reply: str | None = None) -> None:
        if timeout <= 0:
            raise ValueError(f"conversation timeout must be positive seconds, got {timeout!r}")
        if origin.services.conversations is None:
            raise RuntimeError("conversations are not running (is the bot running?)")
        self.origin = origin
        self.latest = origin
        self.timeout = timeout
        self.scope = scope
        self.timeout_reply = timeout_reply
        self.key = ConversationManager.key_for(origin, scope)
        self._ref: Any = None
        self._open = False

    def __repr__(self) -> str:
        return f"<Conversation {self.key}>"

    @property
    def _token(self) -> Any:
        return self.origin.services.token

    @property
    def _manager(self) -> ConversationManager:
        manager = self.origin.services.conversations
        assert manager is not None
        return manager

    async def __aenter__(self) -> "Conversation":
        self._ref = await self._manager.actor_for(self.key)
        self._open = True
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._open = False

    def __enter__(self) -> "Conversation":
        if in_trio_thread():
            raise RuntimeError("use 'async with msg.conversation()' in async handlers")
        return run_blocking(self._token, self.__aenter__)

    def __exit__(self, *exc: Any) -> None:
        run_blocking(self._token, self.__aexit__)

    @dual
    async def say(self, *parts: Any) -> Any:
        """Reply to the latest message of the conversation (strings or ``qgactor.qq`` builders)."""
        return await self.latest.reply(*parts)

    async def _register(self, check: Callable[[Any], bool] | None) -> tuple[Waiter, Any]:
        if not self._open:
            raise RuntimeError("use the conversation inside 'async with msg.conversation() as conv:'")
        waiter = Waiter(check)
        ref = self._ref
        if not ref.alive:
            ref = self._ref = await self._manager.actor_for(self.key)
        # index first: an offer for this key now queues behind the Wait in the actor's mailbox
        self._manager.waiting[self.key] = ref
        await ref.tell(Wait(waiter))
        return waiter, ref

    async def _turn(self, prompt: tuple[Any, ...], timeout: float | None,
                    check: Callable[[Any], bool] | None) -> "MessageContext":
        """One turn of the dialog: register a waiter, send ``prompt`` (if any), wait for the
        answer outside the dispatcher's handler slot."""
        limit = self.timeout if timeout is None else timeout
        waiter, ref = await self._register(check)
        slot = None
        try:
            if prompt:
                await self.latest.reply(*prompt)
            slot = step_out()
            # Waiter.park inlined: one coroutine frame less per waiting conversation
            if not waiter.done and limit > 0:
                if limit != math.inf:
                    self._manager.time_out_at(trio.current_time() + limit, limit, waiter)
                waiter.task = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(waiter._abort)
            else:
                await trio.lowlevel.checkpoint()
        finally:
            # timed out, the prompt failed or the handler was cancelled: withdraw the waiter so
            # that the next message is not taken by a waiter nobody listens to
            if not waiter.done:
                withdraw_waiter(ref, waiter)
            if slot is not None:
                await slot.acquire()  # raises Cancelled (holding nothing) if cancelled
        if waiter.done:
            if waiter.error is not None:
                raise waiter.error
            value = waiter.value
            waiter.value = None  # the timer may hold the waiter until its deadline
            self.latest = value
            return value
        if self.timeout_reply:
            try:
                await self.latest.reply(self.timeout_reply)
            except Exception:
                log.exception("could not send the conversation timeout reply")
        raise ConversationTimeout(f"no answer in conversation {self.key} within {limit:g} s")

    # wait_for and ask return the _turn coroutine itself (awaitable in async handlers; dual
    # blocks on it in def handlers): no wrapper coroutine per waiting conversation
    @dual
    def wait_for(self, *, timeout: float | None = None,
                 check: Callable[[Any], bool] | None = None) -> Awaitable["MessageContext"]:
        """Wait for the next message of this conversation (matching ``check`` if given).

        Raises:
            ConversationTimeout: nothing arrived in ``timeout`` (default: the conversation's);
                the timeout reply, if any, was sent first.
            ConversationEnded: the conversation actor stopped.
            RuntimeError: used outside the ``async with`` block.
        """
        return self._turn((), timeout, check)

    @dual
    def ask(self, *prompt: Any, timeout: float | None = None,
            check: Callable[[Any], bool] | None = None) -> Awaitable["MessageContext"]:
        """Send ``prompt`` (strings/builders, a reply to the latest message) and wait for the answer.

        The waiter is registered before the prompt is sent, so a fast answer is never missed.

        Raises:
            ConversationTimeout, ConversationEnded: as for :meth:`wait_for`.
        """
        return self._turn(prompt, timeout, check)
