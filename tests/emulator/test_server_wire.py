"""The emulator server's request parsing (httptools) and response writing (``wire``):
byte-boundary splits, limits, header injection, framing, and pipelining order."""

from __future__ import annotations

import json
import logging

import pytest
import trio

from qgactor.emulator import Emulator
from qgactor.emulator.http import Request, Response
from qgactor.emulator.httpd import ServerLimits

from server_helpers import H, _App, connect, read_responses, read_to_eof


# ---------------------------------------------------------------------- parsing and writing (httptools + wire)
class _ScriptedIO:
    """Stands in for a SocketIO: hands out ``pieces`` one per receive (then end of stream)
    and keeps what the server writes; the parser sees exactly these byte boundaries."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = list(pieces)
        self.received = 0
        self.written = b""
        self.closed = False
        self.waiting_since = None
        self.received_before_answer: int | None = None

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self.pieces:
            return b""
        self.received += 1
        return self.pieces.pop(0)

    async def send_all(self, data: bytes) -> None:
        if self.received_before_answer is None:
            self.received_before_answer = self.received
        self.written += bytes(data)

    def shutdown_write(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class _Recorder(_App):
    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def http(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, b'{"ok": true}', {"x-seen": str(len(self.requests))})


async def _serve_pieces(pieces: list[bytes], limits: ServerLimits | None = None) -> tuple[_Recorder, _ScriptedIO]:
    from qgactor.emulator.httpd import HttpConnection

    app, io = _Recorder(), _ScriptedIO(pieces)
    with trio.fail_after(5):
        await HttpConnection(io, app, limits or ServerLimits()).serve()  # type: ignore[arg-type]
    return app, io


_TWO_REQUESTS = (b"POST /a%20b?x=1&y= HTTP/1.1\r\nHost: emu\r\nX-Trail:  v  \r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                 b"PUT /c HTTP/1.1\r\nHost: emu\r\nContent-Length: 4\r\nConnection: close\r\n\r\nwxyz")


async def test_a_request_split_at_every_byte_boundary_is_parsed_the_same() -> None:
    whole, io = await _serve_pieces([_TWO_REQUESTS])
    assert [(r.method, r.path, r.query, r.body) for r in whole.requests] == [
        ("POST", "/a b", {"x": "1", "y": ""}, b"abcde"), ("PUT", "/c", {}, b"wxyz")]
    assert whole.requests[0].headers["x-trail"] == "v"
    assert io.written.count(b"HTTP/1.1 200 OK\r\n") == 2 and io.closed
    splits = [[_TWO_REQUESTS[:i], _TWO_REQUESTS[i:]] for i in range(1, len(_TWO_REQUESTS))]
    for pieces in [*splits, [bytes([b]) for b in _TWO_REQUESTS]]:
        app, split_io = await _serve_pieces(pieces)
        assert app.requests == whole.requests, pieces
        assert split_io.written.count(b"HTTP/1.1 200 OK\r\n") == 2 and split_io.closed


async def test_a_head_growing_past_the_limit_is_refused_without_reading_it_all() -> None:
    endless = [b"GET / HTTP/1.1\r\nHost: emu\r\nX-Big: "] + [b"a" * 100] * 1000
    app, io = await _serve_pieces(endless, ServerLimits(max_head=1000))
    assert io.written.startswith(b"HTTP/1.1 431 ") and b"Connection: close\r\n" in io.written
    assert io.received_before_answer is not None and io.received_before_answer <= 12 and not app.requests


@pytest.mark.parametrize("bad", [(b"X-Evil", b"a\r\nSet-Cookie: x=1"), (b"X-Evil", b"a\nb"), (b"X-Evil", b"a\0b"),
                                 (b"X-Evil\r\nSet-Cookie", b"x"), (b"X Evil", b"x"), (b"", b"x"), (b"a:b", b"x")])
def test_response_headers_that_could_inject_are_refused(bad: tuple[bytes, bytes]) -> None:
    from qgactor.emulator.httpd.wire import HeaderInjectionError, serialize_response

    with pytest.raises(HeaderInjectionError, match="header"):
        serialize_response(200, [(b"Content-Type", b"application/json"), bad], b"{}", b"now")


def test_responses_are_written_with_their_framing() -> None:
    from qgactor.emulator.httpd.wire import serialize_response

    out = serialize_response(200, [(b"content-length", b"999"), (b"X-A", b"1")], b"{}", b"D")
    assert out == b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nDate: D\r\n\r\n{}"
    head = serialize_response(200, [], b"{}", b"D", head_only=True, close=True)
    assert head == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: D\r\nConnection: close\r\n\r\n"
    assert serialize_response(204, [], b"", b"D").endswith(b"Content-Length: 0\r\nDate: D\r\n\r\n")


async def test_an_injecting_response_is_replaced_by_a_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Injecting(_App):
        async def http(self, request: Request) -> Response:
            return Response(200, b"{}", {"x-evil": "a\r\nSet-Cookie: stolen=1"})

    caplog.set_level(logging.ERROR, logger="qgactor.emulator.httpd")
    from qgactor.emulator.httpd import HttpConnection

    io = _ScriptedIO([b"GET / HTTP/1.1\r\nHost: emu\r\n\r\nGET /next HTTP/1.1\r\nHost: emu\r\n\r\n"])
    with trio.fail_after(5):
        await HttpConnection(io, Injecting(), ServerLimits()).serve()  # type: ignore[arg-type]
    assert io.written.startswith(b"HTTP/1.1 500 ") and b"Set-Cookie" not in io.written
    assert io.written.count(b"HTTP/1.1 ") == 1 and io.closed
    assert "CR, LF or NUL" in json.loads(io.written.partition(b"\r\n\r\n")[2])["refused"]
    assert any("x-evil" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_a_bad_request_is_refused_after_the_answers_before_it(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\nGARBAGE\r\n\r\n")
        answers = await read_responses(stream, 2)
        assert [r.status_code for r, _ in answers] == [200, 400]
        assert await read_to_eof(stream) == b""


async def test_100_continue_of_a_pipelined_request_follows_the_previous_answer(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n"
                              b"POST /_emulator/clock/advance HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 14\r\n\r\n")
        data = b""
        with trio.fail_after(5):
            while b"HTTP/1.1 100 Continue\r\n\r\n" not in data:
                data += await stream.receive_some(65536)
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        await stream.send_all(b'{"seconds": 2}')
        [(resp, body)] = await read_responses(stream, 1)
        assert resp.status_code == 200 and json.loads(body)["offset"] == 2.0


async def test_an_upgrade_to_another_protocol_is_answered_as_a_plain_request(emu: Emulator) -> None:
    stream = await connect(emu.base_url)
    async with stream:
        await stream.send_all(b"GET /_emulator/info HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                              b"GET /_emulator/sessions HTTP/1.1\r\n" + H + b"\r\n")
        answers = await read_responses(stream, 2)
        assert [r.status_code for r, _ in answers] == [200, 200]
        assert json.loads(answers[0][1])["appid"] == emu.appid and "sessions" in json.loads(answers[1][1])
