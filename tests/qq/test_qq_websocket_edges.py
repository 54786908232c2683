"""The websocket client reviewed against RFC 6455, on real sockets on 127.0.0.1: a send cut
short by a cancellation ends the connection (nothing may follow half a frame), the client's
handshake checks, and the frame rules a server can break."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
from wsproto.events import Pong

from qgactor.qq.websocket import WebSocketClosed, WebSocketHandshakeError, connect_websocket

from test_qq_websocket import Peer, receive_all, ws_server
from test_qq_websocket_close import _self_signed

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@asynccontextmanager
async def _slow_reader(tls: ssl.SSLContext | None, started: trio.Event, release: trio.Event,
                       ended: trio.Event) -> AsyncIterator[str]:
    """A server with a small receive buffer that reads the start of the first frame after the
    handshake, sets ``started``, stops reading until ``release``, then reads to the end of the
    connection (then sets ``ended``)."""

    async def handle(stream: trio.abc.Stream) -> None:
        peer = Peer(stream)
        await peer.handshake()
        await stream.receive_some(65536)
        started.set()
        await release.wait()
        try:
            while await stream.receive_some(1 << 20):
                pass
        except trio.BrokenResourceError:  # a cut TLS record: the end all the same
            pass
        ended.set()
        await trio.aclose_forcefully(stream)

    if tls is None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        raw = listeners[0].socket
    else:
        listeners = await trio.open_ssl_over_tcp_listeners(0, tls, host="127.0.0.1")
        raw = listeners[0].transport_listener.socket
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)  # accepted sockets inherit it
    port = raw.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(trio.serve_listeners, handle, listeners))
        yield f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/"
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("secure", [False, True], ids=["ws", "wss"])
async def test_a_send_cancelled_part_way_ends_the_connection_at_once(secure: bool, tmp_path: Path) -> None:
    # the first part of a frame went out, the rest never will: any later frame would be read
    # by the server as the rest of this one, so the websocket must end (1006), and the reader
    # must learn it now, not when the server gives up on the heartbeats
    server_tls, client_tls = _self_signed(tmp_path) if secure else (None, None)
    started, release, ended = trio.Event(), trio.Event(), trio.Event()
    async with _slow_reader(server_tls, started, release, ended) as url:
        ws = await connect_websocket(url, ssl_context=client_tls)
        codes: list[int | None] = []
        reader_done = trio.Event()

        async def reader() -> None:
            try:
                await ws.receive_messages()
            except WebSocketClosed as exc:
                codes.append(exc.code)
            reader_done.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            with trio.CancelScope() as cut:
                async def cancel_when_started() -> None:
                    await started.wait()
                    cut.cancel()
                nursery.start_soon(cancel_when_started)
                await ws.send_text("x" * (16 << 20))  # far more than the socket buffers hold
            assert cut.cancelled_caught
            with trio.fail_after(2):
                await reader_done.wait()
        assert codes == [1006]
        with pytest.raises(WebSocketClosed):
            await ws.send_text("after the cut")
        release.set()
        with trio.fail_after(5):
            await ended.wait()  # the server sees the end of the connection, no frame after the cut
        await ws.aclose(timeout=1)


async def test_a_send_cancelled_before_any_byte_leaves_the_websocket_usable() -> None:
    async def script(peer: Peer) -> None:
        ev = await peer.next_event()
        await peer.send("echo:" + ev.data)
        await peer.next_event()

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        with trio.CancelScope() as scope:
            scope.cancel()
            await ws.send_text("never sent")
        assert scope.cancelled_caught and not ws.closing
        await ws.send_text("sent")
        assert await receive_all(ws, 1) == [["echo:sent"]]
        await ws.aclose(timeout=1)


# --------------------------------------------------------------------------- handshake checks

def _accept(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


@asynccontextmanager
async def _answering(head: str) -> AsyncIterator[str]:
    """A server answering the upgrade with ``head`` (``{accept}`` is the right token)."""

    async def handle(stream: trio.SocketStream) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += await stream.receive_some(65536)
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        await stream.send_all(head.replace("{accept}", _accept(key).decode()).encode() + b"\r\n\r\n")
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handle, 0, host="127.0.0.1"))
        yield f"ws://127.0.0.1:{listeners[0].socket.getsockname()[1]}/"
        nursery.cancel_scope.cancel()


_UPGRADE = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}"


async def test_a_correct_upgrade_answer_is_accepted() -> None:
    async with _answering(_UPGRADE) as url:
        ws = await connect_websocket(url)
        await ws.aclose(timeout=0.2)


@pytest.mark.parametrize("head", [
    _UPGRADE.replace("101 Switching Protocols", "200 OK"),  # not 101
    _UPGRADE.replace("Upgrade: websocket\r\n", ""),  # no Upgrade
    _UPGRADE.replace("Upgrade: websocket", "Upgrade: h2c"),
    _UPGRADE.replace("Connection: Upgrade", "Connection: keep-alive"),  # no upgrade token
    _UPGRADE.replace("{accept}", "dGhlIHNhbXBsZSBub25jZQ=="),  # the RFC's example token, not ours
    _UPGRADE + "\r\nSec-WebSocket-Extensions: permessage-deflate",  # not offered
    _UPGRADE + "\r\nSec-WebSocket-Protocol: chat",  # not offered
])
async def test_an_upgrade_answer_that_breaks_rfc6455_is_refused(head: str) -> None:
    async with _answering(head) as url:
        with pytest.raises(WebSocketHandshakeError):
            with trio.fail_after(3):
                await connect_websocket(url)


# --------------------------------------------------------------------------- frames

@pytest.mark.parametrize(("raw", "code"), [
    (b"\x81\x82abcd" + bytes(c ^ m for c, m in zip(b"hi", b"ab")), 1002),  # masked frame from the server
    (b"\x09\x01p\x80\x00", 1002),  # a fragmented ping
    (b"\xc1\x01x", 1002),  # RSV1 without a negotiated extension
    (b"\x80\x01x", 1002),  # a continuation with nothing to continue
    (b"\x01\x01a\x81\x01b", 1002),  # a text frame while a fragmented message is open
    (b"\x89\x7e\x00\x7e" + b"p" * 126, 1002),  # a control frame over 125 bytes
    (b"\x88\x02\x03\xed", 1002),  # a close code 1005 may not be sent
    (b"\x88\x04\x03\xe8\xff\xfe", 1007),  # a close reason that is not UTF-8
])
async def test_frames_that_break_rfc6455_fail_the_connection(raw: bytes, code: int) -> None:
    answer: list[Any] = []

    async def script(peer: Peer) -> None:
        await peer.stream.send_all(raw)
        answer.append(await peer.next_event())

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        with pytest.raises(WebSocketClosed) as info:
            with trio.fail_after(3):
                while True:
                    await ws.receive_messages()
        assert info.value.code == code
        await ws.aclose(timeout=1)
    assert answer and answer[0].code == code  # the client told the server why


async def test_a_fragmented_message_split_inside_a_character_with_a_ping_between() -> None:
    text = "汉字"
    data = text.encode()
    answer: list[Any] = []

    async def script(peer: Peer) -> None:
        frames = (b"\x01\x02" + data[:2]  # text, not FIN, cut inside the first character
                  + b"\x89\x02hb"  # a ping between the fragments
                  + b"\x80\x04" + data[2:])  # FIN continuation
        await peer.stream.send_all(frames)
        answer.append(await peer.next_event())
        await peer.next_event()  # the Close

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        assert await receive_all(ws, 1) == [[text]]
        await ws.aclose(timeout=1)
    assert isinstance(answer[0], Pong) and answer[0].payload == b"hb"


async def test_close_from_another_task_is_bounded_even_while_a_send_is_stuck() -> None:
    # a zombie connection: the server stopped reading and a send waits for room (holding the
    # send lock); close() must still end the websocket within its timeout, not wait for the lock
    started, release, ended = trio.Event(), trio.Event(), trio.Event()
    async with _slow_reader(None, started, release, ended) as url:
        ws = await connect_websocket(url)
        outcomes: list[str] = []

        async def stuck_sender() -> None:
            try:
                await ws.send_text("x" * (16 << 20))
            except WebSocketClosed:
                outcomes.append("sender: closed")

        async def reader() -> None:
            try:
                await ws.receive_messages()
            except WebSocketClosed:
                outcomes.append("reader: closed")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(stuck_sender)
            nursery.start_soon(reader)
            await started.wait()
            with trio.fail_after(3):
                await ws.close(4009, "zombie", timeout=0.3)
        assert sorted(outcomes) == ["reader: closed", "sender: closed"]
        release.set()
        with trio.fail_after(5):
            await ended.wait()
