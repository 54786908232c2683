"""Edge cases of the HTTP/1.1 pool found by reviewing it against RFC 9112 and the TLS rules,
on real sockets on 127.0.0.1: a close-delimited answer over TLS needs close_notify (9.8), an
answer framed by both Transfer-Encoding and Content-Length is not followed on the same
connection (6.3), no socket outlives a TLS setup that fails before the handshake, and no line
break gets into a multipart part's head."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import h11
import pytest
import trio

from qgactor.qq.transport import ConnectError, ConnectionPool, Origin, ProtocolError
from qgactor.qq.transport_client import encode_multipart

from test_qq_transport import OK, RawServer, _fds, _tls_contexts, serve  # noqa: F401 (serve: a fixture)

_CLOSE_DELIMITED = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"n": 12345}' * 6000


async def test_a_close_delimited_https_answer_is_complete_only_with_close_notify(tmp_path: Any) -> None:
    # RFC 9112 9.8: an end of the TCP connection without close_notify may be forged (a FIN
    # injected by anyone on the path), so a body that only the close delimits may be cut
    # short: {"n": 12345} cut to {"n": 12 is still JSON. Framed answers stay fine.
    server_ctx, client_ctx = _tls_contexts(tmp_path)

    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if req.target == b"/ragged":
            return _CLOSE_DELIMITED, "drop"  # TCP closed, no close_notify
        if req.target == b"/framed-ragged":
            return OK, "drop"
        return _CLOSE_DELIMITED, "close"  # https_compatible=False below: close_notify, then FIN

    server = RawServer(script)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(
            trio.serve_ssl_over_tcp, server.handle, 0, server_ctx, host="127.0.0.1", https_compatible=False))
        port = listeners[0].transport_listener.socket.getsockname()[1]
        async with ConnectionPool(Origin("https", "localhost", port), ssl_context=client_ctx) as pool:
            assert (await pool.request("GET", "/clean", [])).content == _CLOSE_DELIMITED.split(b"\r\n\r\n", 1)[1]
            with pytest.raises(ProtocolError, match="close_notify"):
                await pool.request("GET", "/ragged", [])
            assert (await pool.request("GET", "/framed-ragged", [])).content == b"ok"
            assert pool.idle_count == 1  # the framed answer was complete before the drop
        nursery.cancel_scope.cancel()


async def test_a_plain_close_delimited_answer_still_ends_with_the_connection(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (_CLOSE_DELIMITED, "close"))
    async with ConnectionPool(Origin("http", "127.0.0.1", server.port)) as pool:
        assert (await pool.request("GET", "/", [])).content == _CLOSE_DELIMITED.split(b"\r\n\r\n", 1)[1]
        assert pool.idle_count == 0


async def test_an_answer_with_both_transfer_encoding_and_content_length_ends_its_connection(serve) -> None:  # type: ignore[no-untyped-def]
    # RFC 9112 6.3: chunked wins, but the two framings disagree about where the answer ends,
    # the sign of a smuggling/splitting attempt: whatever follows must never be read as the
    # next answer, so the connection is not reused
    answer = (b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"2\r\nok\r\n0\r\n\r\n")
    server = await serve(lambda c, i, r, b: (answer, "keep") if r.target == b"/both" else (OK, "keep"))
    async with ConnectionPool(Origin("http", "127.0.0.1", server.port)) as pool:
        assert (await pool.request("GET", "/both", [])).content == b"ok"
        assert pool.idle_count == 0
        assert (await pool.request("GET", "/next", [])).content == b"ok"
        assert pool.opened == 2


async def test_a_tls_setup_that_fails_before_the_handshake_leaks_no_socket(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (OK, "keep"))
    wrong = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # a server's context: cannot make client connections
    await trio.testing.wait_all_tasks_blocked()
    before = _fds()
    errors = []
    async with ConnectionPool(Origin("https", "127.0.0.1", server.port), ssl_context=wrong) as pool:
        for _ in range(3):
            with pytest.raises(ConnectError, match="client socket") as info:
                await pool.request("GET", "/", [])
            errors.append(info)  # the traceback keeps its frames (and their locals) alive
    await server.wait_for(lambda: server.eofs == 3)
    assert _fds() == before


@pytest.mark.parametrize("mime", ["image/png\r\nX-Injected: 1", "text/plain\n", "image/png\x00", "imäge/png", ""])
def test_a_multipart_content_type_with_line_breaks_or_non_ascii_is_refused(mime: str) -> None:
    with pytest.raises(ValueError, match="content type"):
        encode_multipart(None, {"f": ("a.png", b"x", mime)})


def test_a_multipart_content_type_with_parameters_is_kept() -> None:
    body, _ = encode_multipart(None, {"f": ("a.txt", b"x", "text/plain; charset=utf-8")}, boundary="b")
    assert b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n" in body


async def test_a_tls_record_arriving_on_an_idle_connection_is_never_read_as_the_next_answer(tmp_path: Any) -> None:
    # whatever comes in on an idle TLS connection (here a stray answer in its own record; a
    # late session ticket or key update would look the same from outside) retires it; the
    # next request gets its own answer on a fresh connection
    server_ctx, client_ctx = _tls_contexts(tmp_path)
    answered, stray_sent = trio.Event(), trio.Event()
    connections: list[int] = []

    async def handle(stream: trio.SSLStream) -> None:
        connections.append(1)
        request = b""
        while b"\r\n\r\n" not in request:
            request += await stream.receive_some(65536)
        await stream.send_all(OK)
        if len(connections) == 1:
            await answered.wait()
            await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
            stray_sent.set()
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(
            trio.serve_ssl_over_tcp, handle, 0, server_ctx, host="127.0.0.1", https_compatible=True))
        port = listeners[0].transport_listener.socket.getsockname()[1]
        async with ConnectionPool(Origin("https", "localhost", port), ssl_context=client_ctx) as pool:
            assert (await pool.request("GET", "/a", [])).content == b"ok"
            assert pool.idle_count == 1
            idle = pool._idle[0]
            answered.set()
            await stray_sent.wait()
            with trio.fail_after(5):
                await trio.lowlevel.wait_readable(idle.socket)  # the stray record is here
            assert (await pool.request("GET", "/b", [])).content == b"ok"
            assert pool.opened == 2 and len(connections) == 2
        nursery.cancel_scope.cancel()
