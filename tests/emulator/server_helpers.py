"""Helpers shared by the emulator server's test modules: a raw connection, an h11 reader of
answers, reading to EOF, and a tiny application for the server alone."""

from __future__ import annotations

from typing import Any

import h11
import trio

from qgactor.emulator.http import Request, Response, json_response
from qgactor.emulator.httpd import ServerWebSocket

H = b"Host: emu\r\n"


async def connect(url: str) -> trio.SocketStream:
    host, port = url.removeprefix("http://").split(":")
    return await trio.open_tcp_stream(host, int(port))


async def read_responses(stream: trio.SocketStream, count: int, *, methods: tuple[bytes, ...] = (),
                         timeout: float = 5.0) -> list[tuple[h11.Response, bytes]]:
    """Parse ``count`` responses with an h11 client (bodies joined); ``methods`` are the
    request methods in order (default GET: h11 frames a HEAD answer differently)."""
    client = h11.Connection(h11.CLIENT)
    out: list[tuple[h11.Response, bytes]] = []
    with trio.fail_after(timeout):
        while len(out) < count:
            method = methods[len(out)] if len(out) < len(methods) else b"GET"
            client.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
            client.send(h11.EndOfMessage())
            head, body = None, b""
            while True:
                event = client.next_event()
                if event is h11.NEED_DATA:
                    client.receive_data(await stream.receive_some(65536))
                elif isinstance(event, h11.Response):
                    head = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.InformationalResponse):
                    continue
                else:
                    raise AssertionError(event)
            assert head is not None
            out.append((head, body))
            if client.our_state is h11.MUST_CLOSE or client.their_state is h11.MUST_CLOSE:
                break
            client.start_next_cycle()
    return out


async def read_to_eof(stream: trio.SocketStream, timeout: float = 5.0) -> bytes:
    data = b""
    with trio.fail_after(timeout):
        while True:
            try:
                chunk = await stream.receive_some(65536)
            except trio.BrokenResourceError:
                return data
            if not chunk:
                return data
            data += chunk


def header(resp: h11.Response, name: bytes) -> bytes | None:
    return next((v for k, v in resp.headers if k == name.lower()), None)


class _App:
    """A tiny application: /boom crashes, /ws websockets echo."""

    async def http(self, request: Request) -> Response:
        if request.path == "/boom":
            raise RuntimeError("handler bug")
        return json_response({"path": request.path, "query": request.query, "body": request.body.decode()})

    def websocket(self, request: Request) -> Any:
        if request.path != "/ws":
            return None

        async def echo(ws: ServerWebSocket) -> None:
            while (message := await ws.receive()) is not None:
                if message == "crash":
                    raise RuntimeError("websocket handler bug")
                await ws.send_texts([f"echo {message}", "second"])
        return echo

    def refusal(self, status: int, message: str) -> Response:
        return json_response({"refused": message}, status)
