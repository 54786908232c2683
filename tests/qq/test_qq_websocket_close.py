"""The websocket client's close handshakes, failed handshakes and TLS, on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import trio
from wsproto.events import CloseConnection

from qgactor.qq.websocket import WebSocketClosed, WebSocketHandshakeError, connect_websocket
from qgactor.testing import self_signed_certificate

from test_qq_websocket import Peer, receive_all, ws_server


async def test_close_from_another_task_wakes_the_reader_after_the_handshake() -> None:
    seen: list[Any] = []

    async def script(peer: Peer) -> None:
        ev = await peer.next_event()
        seen.append(ev)
        # a message after the client's Close (wsproto won't send one: raw frame), then the answer
        await peer.stream.send_all(b"\x81\x04late" + peer.frame(CloseConnection(code=ev.code)))

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial_close(ws, 4999, "zombie connection", 5.0))
            with pytest.raises(WebSocketClosed) as info:
                with trio.fail_after(3):
                    await ws.receive_messages()  # blocked in the read when the close starts
        assert (info.value.code, info.value.reason) == (1000, "")
        await ws.aclose(timeout=1)
    assert isinstance(seen[0], CloseConnection) and (seen[0].code, seen[0].reason) == (4999, "zombie connection")


def partial_close(ws: Any, code: int, reason: str, timeout: float) -> Any:
    async def run() -> None:
        await trio.sleep(0.02)
        await ws.close(code, reason, timeout=timeout)
    return run


async def test_close_gives_up_on_a_silent_server_within_its_timeout() -> None:
    release = trio.Event()

    async def script(peer: Peer) -> None:
        await peer.next_event()  # the Close: never answered
        await release.wait()

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        t0 = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial_close(ws, 4999, "zombie", 0.2))
            with pytest.raises(WebSocketClosed) as info:
                with trio.fail_after(3):
                    await ws.receive_messages()
        assert info.value.code == 1000
        assert 0.2 <= trio.current_time() - t0 < 2.0
        release.set()


async def test_aclose_completes_the_handshake_and_drops_late_messages() -> None:
    seen: list[Any] = []

    async def script(peer: Peer) -> None:
        await peer.send("before")
        seen.append(await peer.next_event())
        await peer.stream.send_all(b"\x81\x07dropped" + peer.frame(CloseConnection(code=1000)))

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        assert await receive_all(ws, 1) == [["before"]]
        with trio.fail_after(3):
            await ws.aclose(code=1000, reason="bye", timeout=2)
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_messages()
        assert info.value.code == 1000
        with pytest.raises(WebSocketClosed):
            await ws.send_text("x")
        await ws.aclose(timeout=1)  # idempotent
    assert isinstance(seen[0], CloseConnection) and seen[0].reason == "bye"


async def test_aclose_without_waiting_sends_the_close_frame_only() -> None:
    seen: list[Any] = []

    async def script(peer: Peer) -> None:
        seen.append(await peer.next_event())

    async with ws_server(script) as url:
        ws = await connect_websocket(url)
        with trio.fail_after(1):
            await ws.aclose(timeout=0.05, wait_for_reply=False)
        with trio.fail_after(3):
            while not seen:
                await trio.sleep(0.005)
    assert isinstance(seen[0], CloseConnection) and seen[0].code == 1000


async def test_refused_upgrade_is_a_handshake_error_with_the_status() -> None:
    async with ws_server(lambda peer: trio.sleep(0), reject=403) as url:
        with pytest.raises(WebSocketHandshakeError) as info:
            await connect_websocket(url)
    assert info.value.status_code == 403 and "403" in str(info.value)


@pytest.mark.parametrize("raw", [b"", b"garbage that is not HTTP\r\n\r\n",
                                 b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n"])
async def test_closed_or_bogus_handshake_answers_are_handshake_errors(raw: bytes) -> None:
    async with ws_server(lambda peer: trio.sleep(0), raw=raw) as url:
        with pytest.raises(WebSocketHandshakeError) as info:
            with trio.fail_after(3):
                await connect_websocket(url)
    assert info.value.status_code is None


async def test_refused_tcp_connection_is_an_os_error_and_bad_urls_a_value_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(OSError):
        await connect_websocket(f"ws://127.0.0.1:{port}/")
    for bad in ("http://127.0.0.1/", "ws:///nohost", "127.0.0.1:80"):
        with pytest.raises(ValueError, match="not a websocket URL"):
            await connect_websocket(bad)


async def test_frames_sent_with_the_handshake_answer_are_not_lost() -> None:
    # a server that writes Hello right behind its 101 answer: both arrive in one read
    async def script(peer: Peer) -> None:
        await peer.next_event()

    async with ws_server(script, hello='{"op":10}') as url:
        ws = await connect_websocket(url)
        assert await receive_all(ws, 1) == [['{"op":10}']]
        await ws.aclose(timeout=1)


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = self_signed_certificate(tmp, ["127.0.0.1"])
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context()
    client.load_verify_locations(cert)
    return server, client


async def test_wss_over_tls_round_trip_and_untrusted_certificates(tmp_path: Path) -> None:
    server_ctx, client_ctx = _self_signed(tmp_path)

    async def script(peer: Peer) -> None:
        ev = await peer.next_event()
        await peer.send("tls:" + ev.data, CloseConnection(code=4009, reason="Session timed out"))
        await peer.next_event()

    async with ws_server(script, tls=server_ctx) as url:
        ws = await connect_websocket(url, ssl_context=client_ctx)
        await ws.send_text("hi")
        assert await receive_all(ws, 1) == [["tls:hi"]]
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_messages()
        assert (info.value.code, info.value.reason) == (4009, "Session timed out")
        await ws.aclose(timeout=1)
        with pytest.raises((WebSocketHandshakeError, OSError)):  # the default store does not trust it
            with trio.fail_after(3):
                await connect_websocket(url)
