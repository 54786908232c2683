"""The webhook receiver actor: an HTTP server (hypercorn on trio) for HTTP-callback delivery.

Every POST to ``path`` goes through :class:`~qgactor.qq.webhook.WebhookHandler` (Ed25519
signature over timestamp + body, stale-timestamp window, op 13 validation, duplicate
suppression). A verified event is told to the sink as an
:class:`~qgactor.bot.inbound.InboundEvent` (``transport="webhook"``) *before* the op 12
acknowledgement is sent, so an acknowledged event is in the dispatcher's mailbox. Requests with
a bad or missing signature get 401/403 and are never dispatched.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import attrs
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve

from qgactor.bot.inbound import InboundEvent
from qgactor.qq.webhook import WebhookHandler, encode_body
from qgactor.runtime import Actor, ActorDead, ActorRef, ChildSpec, Restart

__all__ = ["WebhookActor", "webhook_spec"]

log = logging.getLogger(__name__)

_JSON = [(b"content-type", b"application/json")]


class WebhookActor(Actor):
    """Serves the webhook endpoint (see the module docstring).

    ``ask("status")`` returns ``{"url", "requests", "dispatched", "duplicates", "bad_frames",
    "unsigned", "forged", "stale", "validations", "wrong_appid"}``. ``url`` is the bound address
    (useful with ``port=0``). Raises ``ValueError`` at construction for an empty secret and
    ``OSError`` at start when the port cannot be bound.
    """

    def __init__(
        self,
        *,
        secret: str | None = None,
        handler: WebhookHandler | None = None,
        appid: str,
        sink: ActorRef,
        host: str = "127.0.0.1",
        port: int = 8080,
        path: str = "/qq/webhook",
        max_skew: float = 300.0,
        max_body: int = 1 << 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """See :func:`webhook_spec`. Give the ``secret``, or a ``handler`` built from it (then
        ``max_skew``/``max_body`` are the handler's): :func:`webhook_spec` shares one handler
        between incarnations so that the duplicate window survives restarts. Raises
        ``ValueError`` for an empty secret and ``TypeError`` when neither is given."""
        if handler is None:
            if secret is None:
                raise TypeError("WebhookActor needs the bot secret (or a WebhookHandler built from it)")
            handler = WebhookHandler(secret, max_skew=max_skew, max_body=max_body)
        self.handler = handler
        self.appid = str(appid)
        self.sink = sink
        self.host = host
        self.port = port
        self.path = "/" + path.strip("/") if path.strip("/") else "/"
        self.clock = clock
        self.url: str | None = None
        self.wrong_appid = 0
        self._bound = trio.Event()
        self._shutdown = trio.Event()

    def __repr__(self) -> str:
        return f"<WebhookActor {self.host}:{self.port}{self.path} appid={self.appid}>"

    async def on_start(self) -> None:
        """Start hypercorn and wait until the port is bound."""
        self.ctx.start_soon(self._serve)
        await self._bound.wait()

    async def on_stop(self, reason: Any) -> None:
        """Ask hypercorn to shut down gracefully."""
        self._shutdown.set()

    async def receive(self, msg: Any) -> Any:
        """``"status"`` → counters and the bound URL; other messages are ignored."""
        if msg == "status":
            return {"url": self.url, "wrong_appid": self.wrong_appid, **attrs.asdict(self.handler.stats)}
        return None

    async def _serve(self) -> None:
        config = HypercornConfig()
        config.bind = [f"{self.host}:{self.port}"]
        config.accesslog = None
        config.errorlog = log
        config.graceful_timeout = 1.0
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(self._run_server, config)
            bound = binds[0] if binds else f"http://{self.host}:{self.port}"
            self.url = bound.rstrip("/") + self.path
            log.info("webhook receiver listening on %s", self.url)
            self._bound.set()

    async def _run_server(self, config: HypercornConfig, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await serve(self._app, config, shutdown_trigger=self._shutdown.wait, task_status=task_status)  # type: ignore[arg-type]

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope.get("path", "/")
        if path.rstrip("/") != self.path.rstrip("/"):
            await _respond(send, 404, {"error": f"no webhook at {path}; it is served at {self.path}"})
            return
        if scope.get("method") != "POST":
            await _respond(send, 405, {"error": "the webhook only accepts POST"})
            return
        body = bytearray()
        limit = self.handler.max_body
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > limit:
                await _respond(send, 413, {"error": f"body larger than {limit} bytes"})
                return
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        appid = next((v for k, v in headers.items() if k.lower() == "x-bot-appid"), None)
        if appid is not None and appid != self.appid:
            self.wrong_appid += 1
            log.warning("webhook: request for appid %s rejected (this bot is %s)", appid, self.appid)
            await _respond(send, 403, {"error": "X-Bot-Appid does not match this bot"})
            return
        resp = self.handler.handle(headers, bytes(body), self.clock())
        if resp.bad_frame is not None:
            log.warning("webhook: bad request (%s): %s", resp.bad_frame.reason, resp.bad_frame.raw)
        elif resp.status >= 400:
            log.warning("webhook: rejected request with %s: %s", resp.status, resp.reason)
        if resp.dispatch is not None:
            d = resp.dispatch
            event = InboundEvent(d.name, d.data, d.event_id, d.seq, None, "webhook", trio.current_time())
            try:
                await self.sink.tell(event)
            except ActorDead:
                # not acknowledged, so the platform retries; forget it so the retry is dispatched
                self.handler.forget(resp)
                log.error("webhook: the dispatcher %r has stopped; answering 503 to %s", self.sink, d.name)
                await _respond(send, 503, {"error": "the bot's dispatcher is not running; retry later"})
                return
            except BaseException:  # cancelled (shutting down) before the event was queued
                self.handler.forget(resp)
                raise
        await _respond(send, resp.status, resp.body)


async def _respond(send: Any, status: int, body: Any) -> None:
    payload = encode_body(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON, (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def webhook_spec(
    *,
    secret: str,
    appid: str,
    sink: ActorRef,
    host: str = "127.0.0.1",
    port: int = 8080,
    path: str = "/qq/webhook",
    max_skew: float = 300.0,
    max_body: int = 1 << 20,
    name: str = "webhook",
    clock: Callable[[], float] = time.time,
) -> ChildSpec:
    """The child spec of the webhook receiver actor.

    ``secret``/``appid``: the bot's credentials (the Ed25519 key is derived from the secret);
    ``host``/``port``/``path``: where to listen (``port=0`` picks a free port; read it from
    ``ask("status")["url"]``); ``max_skew``: accepted seconds between the signature timestamp
    and now; ``sink``: where events go (the dispatcher). The request checker (and with it the
    duplicate window) is built here and shared by every incarnation of the actor. Raises
    ``ValueError`` for an empty secret.
    """
    handler = WebhookHandler(secret, max_skew=max_skew, max_body=max_body)  # no secret in the spec's repr
    return ChildSpec(
        WebhookActor,
        kwargs=dict(handler=handler, appid=appid, sink=sink, host=host, port=port, path=path, clock=clock),
        name=name,
        restart=Restart.PERMANENT,
        shutdown=5.0,
    )
