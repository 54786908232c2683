"""The websocket client (qgactor.qq.websocket) against real servers on 127.0.0.1.

Servers: trio-websocket (an independent implementation) for the ordinary paths, and a tiny
scripted wsproto server (``ws_server`` below) for what a library server will not do on
request: fragmented and oversized messages, pings, bare closes, drops, refused upgrades,
garbage instead of a handshake, and a server that never answers a close.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
import trio
import trio_websocket
from wsproto.connection import Connection, ConnectionType
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Message, Ping, Pong, RejectConnection, \
    Request, TextMessage
from wsproto.handshake import H11Handshake

from qgactor.qq.websocket import WebSocket, WebSocketClosed, connect_websocket

# --------------------------------------------------------------------------- scripted server


class Peer:
    """The server side of one scripted connection."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.request: Request | None = None
        self.conn: Connection | None = None
        self.events: list[Any] = []

    async def handshake(self, reject: int | None = None, hello: str | None = None) -> None:
        hs = H11Handshake(ConnectionType.SERVER)
        while self.request is None:
            hs.receive_data(await self.stream.receive_some(65536))
            for ev in hs.events():
                if isinstance(ev, Request):
                    self.request = ev
        if reject is not None:
            await self.stream.send_all(hs.send(RejectConnection(status_code=reject)))
            return
        accept = hs.send(AcceptConnection())
        self.conn = hs.connection
        await self.stream.send_all(accept + (self.frame(TextMessage(data=hello)) if hello is not None else b""))

    def frame(self, event: Any) -> bytes:
        assert self.conn is not None
        return self.conn.send(event)

    async def send(self, *events: Any) -> None:
        """Send ``events`` (wsproto events or text) in one write."""
        await self.stream.send_all(b"".join(self.frame(TextMessage(data=e) if isinstance(e, str) else e)
                                            for e in events))

    async def next_event(self) -> Any:
        """The next event from the client (messages are returned whole)."""
        assert self.conn is not None
        parts: list[Any] = []
        while True:
            for ev in self.conn.events():
                if isinstance(ev, Message):
                    parts.append(ev.data)
                    if not ev.message_finished:
                        continue
                    data = "".join(parts) if isinstance(ev, TextMessage) else b"".join(parts)
                    return type(ev)(data=data)
                return ev
            data = await self.stream.receive_some(65536)
            self.conn.receive_data(data or None)


Script = Callable[[Peer], Awaitable[None]]


@asynccontextmanager
async def ws_server(script: Script, *, reject: int | None = None, raw: bytes | None = None,
                    hello: str | None = None, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """Serve ``script`` (after the handshake) on 127.0.0.1; yields the ws:// (or wss://) URL.

    ``reject``: refuse the upgrade with this HTTP status; ``raw``: answer the request with
    these bytes instead of a handshake, then close; ``hello``: a text frame written together
    with the 101 answer. A failing assertion in ``script`` fails the test (the server's
    nursery raises)."""

    async def handle(stream: trio.abc.Stream) -> None:
        peer = Peer(stream)
        if raw is not None:
            await stream.receive_some(65536)
            await stream.send_all(raw)
            await stream.aclose()
            return
        try:
            await peer.handshake(reject, hello)
        except trio.BrokenResourceError:
            if tls is None:
                raise
            return  # a client that refused our certificate hung up in the TLS handshake
        if reject is None:
            await script(peer)
        await trio.aclose_forcefully(stream)

    if tls is None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    else:
        listeners = await trio.open_ssl_over_tcp_listeners(0, tls, host="127.0.0.1")
    port = listeners[0].transport_listener.socket.getsockname()[1] if tls else listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(trio.serve_listeners, handle, listeners))
        yield f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/gateway?v=1"
        nursery.cancel_scope.cancel()


async def receive_all(ws: WebSocket, count: int) -> list[list[str | bytes]]:
    """Read until ``count`` messages arrived; returns them grouped by read."""
    reads: list[list[str | bytes]] = []
    with trio.fail_after(5):
        while sum(len(r) for r in reads) < count:
            reads.append(await ws.receive_messages())
    return reads


# --------------------------------------------------------------------------- trio-websocket server


async def test_handshake_echo_and_request_target_against_trio_websocket() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: trio_websocket.WebSocketRequest) -> None:
        seen["path"] = request.path
        seen["headers"] = dict(request.headers)
        ws = await request.accept()
        while True:
            try:
                await ws.send_message("echo:" + await ws.get_message())
            except trio_websocket.ConnectionClosed:
                return

    async with trio.open_nursery() as nursery:
        server = await nursery.start(trio_websocket.serve_websocket, handler, "127.0.0.1", 0, None)
        url = f"ws://127.0.0.1:{server.port}/websocket?compress=0"
        ws = await connect_websocket(url, extra_headers=[(b"x-probe", b"1")])
        for text in ("a", "你好", "x" * 70_000):  # 7-bit, UTF-8 and a 64-bit length frame
            await ws.send_text(text)
            assert await receive_all(ws, 1) == [["echo:" + text]]
        await ws.aclose(timeout=2)
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_messages()
        assert (info.value.code, info.value.reason) == (1000, "")
        assert seen["path"] == "/websocket?compress=0"
        assert seen["headers"][b"x-probe"] == b"1"
        nursery.cancel_scope.cancel()


async def test_concurrent_senders_never_interleave_frames() -> None:
    got: list[str] = []

    async def handler(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept()
        while len(got) < 200:
            got.append(await ws.get_message())

    async with trio.open_nursery() as nursery:
        server = await nursery.start(partial(trio_websocket.serve_websocket, handler, "127.0.0.1", 0, None,
                                             message_queue_size=1000))
        ws = await connect_websocket(f"ws://127.0.0.1:{server.port}/")

        async def sender(tag: str) -> None:
            for i in range(100):
                await ws.send_text(f"{tag}{i}:" + tag * 20_000)

        with trio.fail_after(10):
            async with trio.open_nursery() as senders:
                senders.start_soon(sender, "a")
                senders.start_soon(sender, "b")
            while len(got) < 200:
                await trio.sleep(0.01)
        for tag in "ab":
            mine = [m for m in got if m.startswith(tag)]
            assert [m.split(":")[0] for m in mine] == [f"{tag}{i}" for i in range(100)]
            assert all(m.endswith(tag * 20_000) for m in mine)
        await ws.aclose(timeout=1)
        nursery.cancel_scope.cancel()


# --------------------------------------------------------------------------- scripted server


async def test_a_burst_of_frames_comes_back_from_one_read_in_order() -> None:
    async def script(peer: Peer) -> None:
        assert peer.request is not None
        assert (peer.request.host, peer.request.target) == (url.split("/")[2], "/gateway?v=1")
        await peer.send(*[f"m{i}" for i in range(50)])  # one write: 50 frames
        await peer.next_event()  # wait for the client's close

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        reads = await receive_all(ws, 50)
        assert [m for r in reads for m in r] == [f"m{i}" for i in range(50)]
        assert len(reads) < 50  # frames that arrived together were returned together
        await ws.aclose(timeout=1)


async def test_fragmented_text_and_binary_messages_are_reassembled() -> None:
    async def script(peer: Peer) -> None:
        await peer.send(TextMessage(data="hel", message_finished=False), TextMessage(data="lo"))
        await trio.sleep(0.01)  # the second message's fragments in separate writes
        await peer.send(BytesMessage(data=b"\x00\x01", message_finished=False))
        await trio.sleep(0.01)
        await peer.send(BytesMessage(data=b"\x02", message_finished=True), "after")
        await peer.next_event()

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        reads = await receive_all(ws, 3)
        assert [m for r in reads for m in r] == ["hello", b"\x00\x01\x02", "after"]
        await ws.aclose(timeout=1)


async def test_pings_are_answered_while_reading() -> None:
    answers: list[Any] = []

    async def script(peer: Peer) -> None:
        await peer.send(Ping(payload=b"p1"), "after-ping")
        answers.append(await peer.next_event())
        await peer.send(CloseConnection(code=1000))
        answers.append(await peer.next_event())

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        assert await receive_all(ws, 1) == [["after-ping"]]
        with pytest.raises(WebSocketClosed):
            await ws.receive_messages()
        await ws.aclose(timeout=1)
    assert isinstance(answers[0], Pong) and answers[0].payload == b"p1"
    assert isinstance(answers[1], CloseConnection) and answers[1].code == 1000


@pytest.mark.parametrize(("close", "expected"), [
    (CloseConnection(code=4009, reason="Session timed out"), (4009, "Session timed out")),
    (CloseConnection(code=4913, reason=""), (4913, "")),
    (CloseConnection(code=1001, reason="going away"), (1001, "going away")),
    (None, (1006, "")),  # TCP closed without a Close frame
])
async def test_server_closes_surface_their_code_after_earlier_messages(close: Any, expected: Any) -> None:
    answer: list[Any] = []

    async def script(peer: Peer) -> None:
        if close is None:
            await peer.send("last")
            return  # ws_server drops the TCP connection
        await peer.send("last", close)
        answer.append(await peer.next_event())

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        assert await receive_all(ws, 1) == [["last"]]
        with pytest.raises(WebSocketClosed) as info:
            with trio.fail_after(5):
                await ws.receive_messages()
        assert (info.value.code, info.value.reason) == expected
        assert ws.closing
        with pytest.raises(WebSocketClosed):
            await ws.send_text("too late")
        await ws.aclose(timeout=1)
    if close is not None:  # the client answered the server's Close with its code
        assert isinstance(answer[0], CloseConnection) and answer[0].code == close.code


async def test_a_close_frame_without_code_reads_as_1005() -> None:
    async def script(peer: Peer) -> None:
        await peer.stream.send_all(b"\x88\x00")  # FIN + close, empty payload
        await peer.next_event()

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_messages()
        assert info.value.code == 1005
        await ws.aclose(timeout=1)


async def test_oversized_message_closes_with_1009_and_keeps_earlier_ones() -> None:
    answer: list[Any] = []

    async def script(peer: Peer) -> None:
        await peer.send("small", "y" * 5000)
        answer.append(await peer.next_event())

    async with ws_server(script) as url:
        ws = await connect_websocket(url, max_message_size=4096)
        assert await receive_all(ws, 1) == [["small"]]
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_messages()
        assert info.value.code == 1009 and "4096" in info.value.reason
        await ws.aclose(timeout=1)
    assert isinstance(answer[0], CloseConnection) and answer[0].code == 1009


async def test_large_message_under_the_limit_spanning_many_reads() -> None:
    text = "".join(chr(0x4E00 + i % 500) for i in range(300_000))  # ~900 KB of UTF-8

    async def script(peer: Peer) -> None:
        await peer.send(text)
        await peer.next_event()

    async with ws_server(script) as url:
        ws = await connect_websocket(url, max_message_size=len(text), receive_size=4096)
        assert await receive_all(ws, 1) == [[text]]
        await ws.aclose(timeout=1)


async def test_protocol_error_from_the_server_fails_the_connection() -> None:
    answer: list[Any] = []

    async def script(peer: Peer) -> None:
        await peer.stream.send_all(b"\x81\x02\xff\xfe")  # a text frame that is not UTF-8
        answer.append(await peer.next_event())

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_messages()
        assert info.value.code == 1007
        await ws.aclose(timeout=1)
    assert isinstance(answer[0], CloseConnection) and answer[0].code == 1007
