"""The emulator's own HTTP/1.1 + websocket server (``qgactor.emulator.httpd``), over real
sockets: keep-alive, pipelining, bodies, refusals, upgrades, timeouts and shutdown."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from qgactor.emulator import Emulator, open_emulator
from qgactor.emulator.httpd import HttpServer, ServerLimits, ServerWebSocket, base_url, bind

from server_helpers import H, _App, connect, header, read_responses, read_to_eof


# ---------------------------------------------------------------------- keep-alive / pipelining
async def test_keep_alive_answers_requests_on_one_connection(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        for _ in range(3):
            await stream.send_all(b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n")
            [(resp, body)] = await read_responses(stream, 1)
            assert resp.status_code == 200 and "sessions" in json.loads(body)
            assert header(resp, b"content-type") == b"application/json"
            assert len(header(resp, b"x-tps-trace-id") or b"") == 32
            assert header(resp, b"date") is not None


async def test_pipelined_requests_are_answered_in_order(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n"
                              b"GET /nope HTTP/1.1\r\n" + H + b"\r\n"
                              b"POST /_emulator/clock/advance HTTP/1.1\r\n" + H +
                              b"Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"seconds\": 5}"
                              b"GET /_emulator/info HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
        answers = await read_responses(stream, 4)
        assert [r.status_code for r, _ in answers] == [200, 404, 200, 200]
        assert json.loads(answers[1][1])["message"] == "no such API: GET /nope"
        assert json.loads(answers[2][1])["offset"] == 5.0
        assert json.loads(answers[3][1])["appid"] == emu.appid
        traces = [header(r, b"x-tps-trace-id") for r, _ in answers]
        assert traces == sorted(traces) and len(set(traces)) == 4  # answered one after the other
        assert header(answers[3][0], b"connection") == b"close"
        assert await read_to_eof(stream) == b""


async def test_chunked_request_body(emu: Emulator) -> None:
    payload = b'{"seconds": 7}'
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, payload[:5], len(payload) - 5, payload[5:])
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"POST /_emulator/clock/advance HTTP/1.1\r\n" + H +
                              b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        [(resp, body)] = await read_responses(stream, 1)
        assert resp.status_code == 200 and json.loads(body)["offset"] == 7.0
    assert emu.platform.clock.offset == 7.0


async def test_expect_100_continue(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"POST /_emulator/clock/advance HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 14\r\n\r\n")
        with trio.fail_after(5):
            interim = await stream.receive_some(65536)
        assert interim.startswith(b"HTTP/1.1 100 ")
        await stream.send_all(b'{"seconds": 1}')
        [(resp, _)] = await read_responses(stream, 1)
        assert resp.status_code == 200


async def test_head_has_the_get_headers_and_no_body(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"HEAD /_emulator/info HTTP/1.1\r\n" + H + b"\r\n"
                              b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n")
        [(resp, body), (nxt, nxt_body)] = await read_responses(stream, 2, methods=(b"HEAD", b"GET"))
        assert resp.status_code == 200 and body == b"" and int(header(resp, b"content-length") or 0) > 100
        assert nxt.status_code == 200 and "sessions" in json.loads(nxt_body)  # right after the head


async def test_http_1_0_and_percent_encoded_paths(emu: Emulator, token: str) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"GET /users/%40me HTTP/1.0\r\nAuthorization: QQBot " + token.encode() + b"\r\n\r\n")
        raw = await read_to_eof(stream)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in head
    assert json.loads(body)["id"] == emu.world.bot.id


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize(("raw", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /_emulator/info HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET /_emulator/info HTTP/1.1\r\nHost: a\r\nX: 1\r\nhost: b\r\n\r\n", 400),  # two
    (b"GET /_emulator/info HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    (b"POST /_emulator/messages HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"POST /_emulator/messages HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    (b"GET /x HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431),
])
async def test_malformed_requests_get_a_json_error_and_the_server_survives(emu: Emulator, raw: bytes,
                                                                          status: int) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(raw)
        [(resp, body)] = await read_responses(stream, 1)
        assert resp.status_code == status
        assert header(resp, b"connection") == b"close"
        answer = json.loads(body)
        assert answer["code"] == status and answer["message"]
        assert await read_to_eof(stream) == b""
    assert (await emu.control.info())["appid"] == emu.appid  # still serving


async def test_oversized_bodies_get_413(http: Any) -> None:
    async with open_emulator(max_body=1000) as emu:
        for framing, body in [(b"Content-Length: 5000\r\n\r\n", b"x" * 5000),
                              (b"Transfer-Encoding: chunked\r\n\r\n", b"3e8\r\n" + b"x" * 1000 + b"\r\n"
                               b"3e8\r\n" + b"x" * 1000 + b"\r\n0\r\n\r\n")]:
            stream = await connect(emu.base_url)
            async with stream:
                await stream.send_all(b"POST /_emulator/messages HTTP/1.1\r\n" + H + framing + body)
                [(resp, answer)] = await read_responses(stream, 1)
                assert resp.status_code == 413
                assert json.loads(answer) == {"code": 12002, "message": "request body larger than 1000 bytes"}
                assert await read_to_eof(stream) == b""
        # a body at the limit is fine
        r = await http.post(emu.base_url + "/_emulator/messages",
                            content=json.dumps({"scene": "group", "content": "y" * 900}))
        assert r.status_code == 200


async def test_a_client_that_leaves_mid_request_does_not_disturb_others(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    await stream.send_all(b"POST /_emulator/messages HTTP/1.1\r\n" + H + b"Content-Length: 100\r\n\r\n{\"sc")
    await stream.aclose()
    assert (await emu.control.info())["appid"] == emu.appid


# ---------------------------------------------------------------------- websockets
async def test_websocket_upgrade_on_gateway_paths_only(emu: Emulator) -> None:
    ws_base = emu.base_url.replace("http://", "ws://")
    for path in ("/websocket", "/websocket/", "/"):
        async with open_websocket_url(ws_base + path) as ws:
            with trio.fail_after(5):
                assert json.loads(await ws.get_message())["op"] == 10
            await ws.ping(b"x")  # answered with a pong (trio-websocket waits for it)
    key = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    upgrade = b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    for raw, status in [(b"GET /elsewhere HTTP/1.1\r\n" + H + upgrade + key + b"Sec-WebSocket-Version: 13\r\n\r\n", 403),
                        (b"GET /websocket HTTP/1.1\r\n" + H + upgrade + key + b"Sec-WebSocket-Version: 8\r\n\r\n", 426),
                        (b"GET /websocket HTTP/1.1\r\n" + H + upgrade + b"Sec-WebSocket-Version: 13\r\n\r\n", 400)]:
        stream = await connect(emu.base_url)
        async with stream:
            await stream.send_all(raw)
            head = await read_to_eof(stream)
            assert head.startswith(b"HTTP/1.1 %d " % status), head


async def test_websocket_offers_permessage_deflate_when_asked(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"GET /websocket HTTP/1.1\r\n" + H + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                              b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
        data = b""
        with trio.fail_after(5):
            while b"\r\n\r\n" not in data:
                data += await stream.receive_some(65536)
        assert data.startswith(b"HTTP/1.1 101 ") and b"Sec-WebSocket-Extensions: permessage-deflate" in data


# ---------------------------------------------------------------------- lifecycle
async def test_idle_connections_are_closed_after_the_keep_alive_timeout() -> None:
    async with open_emulator(keep_alive_timeout=0.2) as emu:
        stream = await connect(emu.base_url)
        async with stream:
            await stream.send_all(b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n")
            [(resp, _)] = await read_responses(stream, 1)
            assert resp.status_code == 200
            assert await read_to_eof(stream, timeout=3) == b""  # closed by the server while idle
        # a websocket is not an idle HTTP connection: it stays open past the timeout
        async with open_websocket_url(emu.gateway_url) as ws:
            await ws.get_message()
            await trio.sleep(0.6)
            await ws.send_message(json.dumps({"op": 1, "d": None}))
            with trio.fail_after(3):
                assert json.loads(await ws.get_message()) == {"op": 11}


async def test_shutdown_closes_open_connections_promptly() -> None:
    with trio.fail_after(5):
        async with open_emulator() as emu:
            idle = await connect(emu.base_url)
            await idle.send_all(b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n")
            await read_responses(idle, 1)
            half = await connect(emu.base_url)
            await half.send_all(b"POST /_emulator/messages HTTP/1.1\r\n" + H + b"Content-Length: 50\r\n\r\n{")
            waiting = await connect(emu.base_url)  # a long poll in progress
            await waiting.send_all(b"POST /_emulator/outbox/wait HTTP/1.1\r\n" + H +
                                   b"Content-Length: 16\r\n\r\n{\"timeout\": 600}")
            ws = await connect(emu.base_url)  # a gateway websocket (raw: it outlives the emulator)
            await ws.send_all(b"GET /websocket HTTP/1.1\r\n" + H + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            opening = b""
            while b"heartbeat_interval" not in opening:
                opening += await ws.receive_some(65536)
            assert opening.startswith(b"HTTP/1.1 101 ")
            assert len(emu.platform.connections) == 1
        for stream in (idle, half, waiting, ws):
            # closed like a network loss: no answer, no close frame
            assert await read_to_eof(stream) == b""
            await stream.aclose()



async def test_a_failing_connection_is_logged_and_isolated(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="qgactor.emulator.httpd")
    listener = bind("127.0.0.1", 0)
    url = base_url(listener)
    server = HttpServer(_App(), ServerLimits())
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve, listener)
        other = await connect(url)
        boom = await connect(url)
        await boom.send_all(b"GET /boom HTTP/1.1\r\n" + H + b"\r\n")
        assert await read_to_eof(boom) == b""  # closed, no answer
        await other.send_all(b"GET /fine?a=1&b= HTTP/1.1\r\n" + H + b"\r\n")
        [(resp, body)] = await read_responses(other, 1)
        assert resp.status_code == 200 and json.loads(body) == {"path": "/fine", "query": {"a": "1", "b": ""}, "body": ""}
        assert any(r.exc_info and "handler bug" in str(r.exc_info[1]) for r in caplog.records)
        async with open_websocket_url(url.replace("http://", "ws://") + "/ws") as ws:
            await ws.send_message("hi")
            assert [await ws.get_message(), await ws.get_message()] == ["echo hi", "second"]
            await ws.send_message("crash")
            with pytest.raises(ConnectionClosed) as closed:
                with trio.fail_after(5):
                    await ws.get_message()
            assert closed.value.reason.code == 1011
        with trio.fail_after(5):
            while not any(r.exc_info and "websocket handler bug" in str(r.exc_info[1]) for r in caplog.records):
                await trio.sleep(0.01)
        await other.aclose()
        await boom.aclose()
        nursery.cancel_scope.cancel()
    assert listener.fileno() == -1  # the listening socket is closed


def _accepted_wsproto() -> Any:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection
    from wsproto.events import Request as WsRequest

    ws = WSConnection(ConnectionType.SERVER)
    ws.initiate_upgrade_connection([(b"host", b"x"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
                                    (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
                                    (b"sec-websocket-version", b"13")], "/websocket")
    assert any(isinstance(e, WsRequest) for e in ws.events())
    ws.send(AcceptConnection())
    return ws


async def test_a_frame_cut_by_cancellation_closes_the_websocket() -> None:
    import socket as stdlib_socket

    from qgactor.emulator.httpd import SocketIO

    ours, peer = stdlib_socket.socketpair()
    with peer:
        io = SocketIO(ours)
        ws = ServerWebSocket(io, _accepted_wsproto(), "/websocket", 1 << 24)
        with trio.move_on_after(0.2) as scope:
            while True:  # the peer never reads: a send blocks part-way through a frame
                await ws.send_texts(["x" * 100_000])
        assert scope.cancelled_caught
        assert io.closed and not ws.open  # no later frame (or close frame) can follow the cut one
        await ws.send_texts(["after"])  # dropped quietly
        await ws.close(1000)


async def test_a_session_is_free_as_soon_as_its_client_is_gone(emu: Emulator, token: str) -> None:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, TextMessage
    from wsproto.events import Request as WsRequest

    for _ in range(5):  # the control call races the emulator reading the client's FIN
        client = WSConnection(ConnectionType.CLIENT)
        stream = await connect(emu.base_url)
        await stream.send_all(client.send(WsRequest(host="emu", target="/websocket")))
        texts: list[str] = []
        with trio.fail_after(5):
            while len(texts) < 2:
                client.receive_data(await stream.receive_some(65536))
                for event in client.events():
                    if isinstance(event, AcceptConnection):
                        identify = {"op": 2, "d": {"token": f"QQBot {token}", "intents": 1 << 25, "shard": [0, 1]}}
                        await stream.send_all(client.send(TextMessage(json.dumps(identify))))
                    elif isinstance(event, TextMessage):
                        texts.append(event.data)
        assert json.loads(texts[1])["t"] == "READY"
        await stream.aclose()  # gone without a close frame (a killed process)
        sessions = (await emu.control.sessions())["sessions"]
        assert not any(s["connected"] for s in sessions), sessions
