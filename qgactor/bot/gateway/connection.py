"""The connection actor of one shard: websocket I/O around the sans-I/O gateway machine.

It opens the websocket (:mod:`qgactor.qq.websocket`) and reads it in its own task: each read
of the socket returns every frame that arrived, and each frame goes to the shard's
:class:`~qgactor.qq.gateway.GatewayMachine`, whose outputs it acts on: sends Identify/Resume
(fetching the token, pacing Identifies with the shared :class:`IdentifyGate`), hands
dispatches to the sink as :class:`~qgactor.bot.inbound.InboundEvent` (queued at once while
the sink's mailbox has room; when it is full, ``await sink.tell(...)`` waits for room before
anything more is read, so a slow sink slows reading the socket), logs bad frames with their
raw text, and reconnects after the machine's backoff. Heartbeats
are sent by the sibling :class:`~qgactor.bot.gateway.heartbeat.HeartbeatActor`, never by this
reader; frames read after the machine decided to close the connection are not fed to it (the
next Resume replays any dispatch among them).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import trio

from qgactor.bot.gateway.link import ShardFatal, ShardLink
from qgactor.bot.gateway.shards import IdentifyGate
from qgactor.bot.inbound import InboundEvent
from qgactor.qq.errors import AuthError
from qgactor.qq.gateway_events import (
    BadFrame,
    CloseConnection,
    Dispatch,
    Duplicate,
    Fatal,
    GatewayFatalError,
    GatewayOutput,
    GatewayState,
    NeedToken,
    Reconnect,
    SendFrame,
    SessionStarted,
)
from qgactor.qq.websocket import WebSocket, WebSocketClosed, WebSocketHandshakeError, connect_websocket
from qgactor.runtime import Actor, ActorRef

__all__ = ["ConnectionActor", "WS_MAX_MESSAGE"]

log = logging.getLogger(__name__)

#: The websocket's own message limit; larger than the machine's so that oversized frames reach
#: the machine (and become BadFrame) instead of closing the socket with 1009.
WS_MAX_MESSAGE = 16 << 20
_STOP_CLOSE_TIMEOUT = 0.05
_CLOSING = GatewayState.CLOSING


class _Closed(Exception):
    """Internal: the socket closed with ``code`` (``None`` if unknown)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


def _inbound(out: Dispatch, shard: tuple[int, int], now: float) -> InboundEvent:
    return InboundEvent(out.name, out.data, out.event_id, out.seq, shard, "websocket", now)


async def _close_socket(ws: WebSocket, timeout: float | None) -> None:
    """Close ``ws``: a close handshake of up to ``timeout`` seconds after a normal end (a stop
    still cancels it), or, with ``timeout=None`` (this actor is being stopped or failed), send
    the close frame shielded for at most ``_STOP_CLOSE_TIMEOUT`` and don't wait for the answer:
    nobody is left to read it."""
    if timeout is not None:
        await ws.aclose(timeout=timeout)
        return
    with trio.CancelScope(shield=True):
        await ws.aclose(timeout=_STOP_CLOSE_TIMEOUT, wait_for_reply=False)


class ConnectionActor(Actor):
    """Runs one shard's websocket connection until a fatal close code (see module docstring).

    When the platform forbids reconnecting (4001, 4002, 4010-4014, 4914, 4915) it logs the reason,
    tells ``report_to`` a :class:`~qgactor.bot.gateway.link.ShardFatal` and stops normally (or,
    without ``report_to``, crashes with :class:`~qgactor.qq.gateway_events.GatewayFatalError`).
    Credentials rejected by the token endpoint (:class:`~qgactor.qq.errors.AuthError`) are
    treated the same way. Both messages say what to fix. ``ask("status")`` returns the shard's status dict.
    """

    def __init__(
        self,
        link: ShardLink,
        *,
        url: str,
        credentials: Any,
        sink: ActorRef,
        gate: IdentifyGate,
        connect_timeout: float = 10.0,
        report_to: ActorRef | None = None,
    ) -> None:
        """``credentials`` is a ``TokenSource``/``LegacyToken`` (``header()``, ``invalidate()``).

        ``report_to``: the gateway actor, told :class:`ShardFatal` on a fatal close code (this
        actor then stops normally instead of crashing); without it the actor crashes.
        """
        self.link = link
        self.url = url
        self.credentials = credentials
        self.sink = sink
        self.gate = gate
        self.connect_timeout = connect_timeout
        self.report_to = report_to
        self._last_token: str | None = None
        self._gated = False  # an Identify slot of the gate is held for the current connection
        self._ssl: ssl.SSLContext | None = None  # made on the first wss:// connection, then kept
        self._sink_room = 0  # the sink's mailbox capacity (read at each connection)

    def __repr__(self) -> str:
        return f"<ConnectionActor shard={self.link.shard} url={self.url!r}>"

    async def on_start(self) -> None:
        """Start the connect/read/reconnect loop."""
        self.ctx.start_soon(self._run)

    async def receive(self, msg: Any) -> Any:
        """``"status"`` → the shard's status dict; anything else is ignored (returns ``None``)."""
        if msg == "status":
            return self.link.status()
        return None

    async def _run(self) -> None:
        try:
            await self._loop()
        except GatewayFatalError as exc:
            if self.report_to is None:
                raise
            await self.report_to.tell(ShardFatal(self.link.shard, exc.code, str(exc)))
            self.ctx.stop()

    async def _loop(self) -> None:
        machine = self.link.machine
        while True:
            if machine.fatal is not None:
                raise GatewayFatalError(machine.fatal.code, machine.fatal.message)
            reconnect = await self._one_connection()
            if reconnect is None:
                continue
            log.info("shard %s: reconnecting in %.2fs (%s): %s", self.link.shard, reconnect.delay,
                     "resume" if reconnect.resume else "identify", reconnect.reason)
            await trio.sleep(reconnect.delay)

    async def _one_connection(self) -> Reconnect | None:
        # Wait for an Identify slot before opening the socket, not after Hello: a socket held
        # open without Identify (and so without heartbeats) while other shards take their turn
        # may be closed by the platform.
        self._gated = False
        if not self.link.machine.can_resume:
            await self.gate.wait()
            self._gated = True
        try:
            return await self._connection_in_nursery()
        except BaseExceptionGroup as group:
            # the websocket's nursery wraps what the body raised; surface the one real error
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def _connection_in_nursery(self) -> Reconnect | None:
        machine = self.link.machine
        if self._ssl is None and self.url.startswith("wss:"):
            self._ssl = ssl.create_default_context()
        try:
            with trio.fail_after(self.connect_timeout):
                ws = await connect_websocket(self.url, max_message_size=WS_MAX_MESSAGE, ssl_context=self._ssl)
        except (OSError, trio.TooSlowError, WebSocketHandshakeError) as exc:
            return self._outcome(machine.connect_failed(trio.current_time(), f"connect failed: {exc!r}"))
        self._sink_room = self.sink.snapshot().mailbox_capacity
        try:
            async with trio.open_nursery() as nursery:  # runs the closes ShardLink.close starts
                self.link.ws, self.link.nursery = ws, nursery
                ended = False
                try:
                    await self._act(machine.connection_opened(trio.current_time()))
                    self.link.changed()
                    code, reason = await self._read(ws)
                    ended = True
                finally:
                    self.link.ws = self.link.nursery = None
                    self.link.reading_blocked = False
                    await _close_socket(ws, self.link.close_timeout if ended else None)
                    nursery.cancel_scope.cancel()
        finally:
            self.link.changed()
        return self._outcome(machine.connection_closed(code, trio.current_time(), reason))

    async def _read(self, ws: WebSocket) -> tuple[int | None, str]:
        link = self.link
        machine = link.machine
        receive = machine.receive
        sink = self.sink
        room = self._sink_room
        try:
            while True:
                frames = await ws.receive_messages()
                now = trio.current_time()  # when these frames were read
                for raw in frames:
                    if machine.state is _CLOSING:  # a close is under way: drop the rest
                        break
                    outs = receive(raw, now)
                    if len(outs) == 1:  # the common case, without a coroutine per frame: one
                        out = outs[0]  # dispatch and room in the sink's mailbox (see _act)
                        if (out.__class__ is Dispatch and sink.mailbox_depth < room
                                and sink.tell_nowait(_inbound(out, link.shard, now))):
                            continue
                    await self._act(outs, now)
        except WebSocketClosed as exc:
            return exc.code, exc.reason
        except _Closed as exc:
            return exc.code, exc.reason

    def _outcome(self, outs: list[GatewayOutput]) -> Reconnect | None:
        for out in outs:
            if isinstance(out, Reconnect):
                return out
            if isinstance(out, Fatal):
                log.error("shard %s: %s", self.link.shard, out.message)
                raise GatewayFatalError(out.code, out.message)
        return None

    async def _act(self, outs: list[GatewayOutput], now: float | None = None) -> None:
        link = self.link
        for out in outs:
            if isinstance(out, Dispatch):
                event = _inbound(out, link.shard, trio.current_time() if now is None else now)
                sink = self.sink
                # room in the mailbox: queue without a scheduler pass per event (the next read
                # of the socket is the checkpoint); full: wait for room before reading more
                if sink.mailbox_depth < self._sink_room and sink.tell_nowait(event):
                    continue
                link.reading_blocked = True
                try:
                    await sink.tell(event)
                except BaseException:  # stopped while waiting: let the next Resume replay it
                    link.machine.undelivered(out)
                    raise
                finally:
                    link.reading_blocked = False
            elif isinstance(out, SendFrame):
                await link.send(out)
            elif isinstance(out, NeedToken):
                await self._send_auth(out)
            elif isinstance(out, SessionStarted):
                log.info("shard %s: session %s %s", link.shard, out.session_id,
                         "resumed" if out.resumed else "ready")
                link.connected_once.set()
                link.changed()
            elif isinstance(out, CloseConnection):
                link.close(out)
            elif isinstance(out, BadFrame):
                log.warning("shard %s: bad frame (%s): %s", link.shard, out.reason, out.raw)
            elif isinstance(out, Duplicate):
                log.debug("shard %s: duplicate %s s=%s suppressed (%s)", link.shard, out.name, out.seq, out.key)
            elif isinstance(out, Fatal):
                raise GatewayFatalError(out.code, out.message)

    async def _send_auth(self, need: NeedToken) -> None:
        link = self.link
        creds = self.credentials
        if need.identify and not self._gated:
            await self.gate.wait()
        self._gated = False
        try:
            if need.refresh:
                log.warning("shard %s: the platform rejected the token (4004); fetching a new one", link.shard)
                await creds.invalidate(self._last_token)
            token = await creds.header()
        except AuthError as exc:
            fatal = link.machine.stop(f"the platform rejected the bot's credentials: {exc}")[0]
            assert isinstance(fatal, Fatal)
            log.error("shard %s: %s", link.shard, fatal.message)
            raise GatewayFatalError(None, fatal.message) from exc
        except Exception as exc:  # transient token failure: drop this socket, back off, retry
            log.warning("shard %s: could not get an access token: %r; reconnecting", link.shard, exc)
            raise _Closed(None, f"token fetch failed: {exc!r}") from exc
        self._last_token = token
        await self._act(link.machine.token_available(token))
        link.changed()
