"""The keep-alive HTTP/1.1 transport: against the emulator and against small raw trio servers
that misbehave on purpose (chunked bodies, Connection: close, stale keep-alive, hangs)."""

from __future__ import annotations

import contextlib
import email
import functools
import gzip
import os
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import h11
import pytest
import trio

from qgactor.emulator import Emulator
from qgactor.qq import ApiClient, ApiConnectionError, Endpoints, LegacyToken, RetryPolicy
from qgactor.qq.transport import (
    ConnectError,
    ConnectionPool,
    NotSentError,
    Origin,
    PoolTimeout,
    ProtocolError,
    ReadError,
    ReadTimeout,
    WriteTimeout,
    default_ssl_context,
)
from qgactor.qq.transport_client import ApiTransport, encode_multipart
from qgactor.testing import self_signed_certificate

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#: (raw bytes to answer with, then "keep" | "close" | "hang" | "drop": close TCP under TLS, no close_notify)
Script = Callable[[int, int, h11.Request, bytes], tuple[bytes, str]]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@attrs.define
class RawServer:
    """A TCP server that parses requests with h11 and answers with the script's raw bytes."""

    script: Script
    port: int = 0
    connections: int = 0
    eofs: int = 0
    requests: list[tuple[int, str, str, bytes, dict[bytes, bytes]]] = attrs.field(factory=list)
    _changed: trio.Event = attrs.field(factory=trio.Event)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        with trio.fail_after(timeout):
            while not condition():
                await self._changed.wait()

    async def handle(self, stream: trio.SocketStream) -> None:
        conn_no = self.connections
        self.connections += 1
        self._notify()
        try:
            for index in range(1000):
                h = h11.Connection(h11.SERVER)
                request, body = None, b""
                while True:
                    event = h.next_event()
                    if event is h11.NEED_DATA:
                        data = await stream.receive_some(65536)
                        if not data:
                            return
                        h.receive_data(data)
                    elif isinstance(event, h11.Request):
                        request = event
                    elif isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                assert request is not None
                self.requests.append((conn_no, request.method.decode(), request.target.decode(), body,
                                      dict(request.headers)))
                self._notify()
                raw, action = self.script(conn_no, index, request, body)
                if raw:
                    await stream.send_all(raw)
                if action == "close":
                    return
                if action == "drop":
                    await stream.transport_stream.aclose()  # type: ignore[attr-defined]
                    return
                if action == "hang":
                    while await stream.receive_some(65536):
                        pass
                    return
        except trio.BrokenResourceError:
            return
        finally:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.aclose()
            self.eofs += 1
            self._notify()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Any]]:
    """``server = await serve(script)``: a RawServer on 127.0.0.1 for this test."""
    async with trio.open_nursery() as nursery:
        async def start(script: Script) -> RawServer:
            server = RawServer(script)
            listeners = await nursery.start(functools.partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1"))
            server.port = listeners[0].socket.getsockname()[1]
            return server
        yield start
        nursery.cancel_scope.cancel()


def _pool(server: RawServer, **kw: Any) -> ConnectionPool:
    return ConnectionPool(Origin("http", "127.0.0.1", server.port), **kw)


# ---------------------------------------------------------------- against the emulator

async def test_concurrent_requests_share_few_keepalive_connections(emu: Emulator) -> None:
    transport = ApiTransport(emu.api_url, max_connections=4)
    statuses: list[int] = []

    async def one() -> None:
        r = await transport.request("GET", "/gateway", headers={"Authorization": "Bot nope"}, timeout=5.0)
        statuses.append(r.status_code)

    async with trio.open_nursery() as nursery:
        for _ in range(60):
            nursery.start_soon(one)
    assert len(statuses) == 60 and set(statuses) == {401}
    assert 1 <= transport.pool.opened <= 4 and transport.pool.idle_count == transport.pool.opened
    for _ in range(10):  # one at a time: always the most recently used connection
        await one()
    assert transport.pool.opened <= 4
    await transport.aclose()
    assert transport.pool.idle_count == 0
    with pytest.raises(RuntimeError, match="closed"):
        await one()


async def test_api_client_uses_the_pool_for_json_and_multipart(api: ApiClient, emu: Emulator) -> None:
    me = await api.get_me()
    assert me.id
    sent = await emu.control.send_message("guild", "hi")
    channel = sent["d"]["channel_id"]
    msg = await api.post_message(channel, content="pic", file_image=("a\"b.png", b"\x89PNG fake"),
                                 msg_id=sent["d"]["id"])
    assert msg.id
    box = await emu.control.outbox(reply_to=sent["d"]["id"])
    assert box[0]["body"]["file_image"]["size"] == len(b"\x89PNG fake")
    assert box[0]["body"]["content"] == "pic"
    pool = api._base_client.pool  # type: ignore[attr-defined]
    assert pool.opened == 1  # token fetch is separate; every API call reused one connection


async def test_connection_refused_maps_to_api_connection_error_after_retries() -> None:
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retry = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
    async with ApiClient(LegacyToken("1", "t"), endpoints=Endpoints.custom(f"http://127.0.0.1:{port}"),
                         retry=retry) as api:
        with pytest.raises(ApiConnectionError) as info:
            await api.request("POST", "/channels/1/messages", json={"content": "x"})
    assert "after 3 attempt(s)" in str(info.value) and "may have been processed" not in str(info.value)
    assert isinstance(info.value.__cause__, ConnectError) and isinstance(info.value.__cause__, NotSentError)


# ---------------------------------------------------------------- against raw servers

async def test_chunked_and_content_length_bodies_and_request_framing(serve) -> None:  # type: ignore[no-untyped-def]
    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if index == 0:
            return (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "keep"
        if index == 1:
            return OK, "keep"
        return b"HTTP/1.1 200 OK\r\n\r\nuntil EOF", "close"  # no length: the body ends with the connection
    server = await serve(script)
    async with _pool(server) as pool:
        r = await pool.request("POST", "/p?q=1", [("content-type", "application/json")], b'{"a":1}')
        assert (r.status_code, r.content, r.headers["x-a"]) == (201, b"hello world", "1, 2")
        r2 = await pool.request("GET", "/g", [])
        assert r2.content == b"ok" and pool.opened == 1
        assert (await pool.request("GET", "/e", [])).content == b"until EOF"
        assert pool.idle_count == 0
    _, method, target, body, headers = server.requests[0]
    assert (method, target, body) == ("POST", "/p?q=1", b'{"a":1}')
    assert headers[b"host"] == f"127.0.0.1:{server.port}".encode() and headers[b"content-length"] == b"7"
    assert b"content-length" not in server.requests[1][4]  # a GET without a body


async def test_connection_close_answer_is_not_reused(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
                                             "keep"))
    async with _pool(server) as pool:
        for _ in range(3):
            assert (await pool.request("GET", "/", [])).content == b"x"
        assert pool.opened == 3 and pool.idle_count == 0
    await server.wait_for(lambda: server.eofs == 3)


async def test_an_idle_connection_the_server_closed_is_not_reused(serve) -> None:  # type: ignore[no-untyped-def]
    # the server answers one request per connection, then closes it without saying so: the
    # pool sees the idle socket readable (EOF) and opens a fresh one, even for a POST
    server = await serve(lambda c, i, r, b: (OK, "close"))
    async with _pool(server) as pool:
        assert (await pool.request("POST", "/a", [], b"1")).content == b"ok"
        await server.wait_for(lambda: server.eofs == 1)  # the idle connection is now dead
        assert (await pool.request("POST", "/b", [], b"2")).content == b"ok"
    assert [(c, t) for c, _, t, _, _ in server.requests] == [(0, "/a"), (1, "/b")]  # /b arrived once


async def test_a_post_the_server_read_but_did_not_answer_is_never_resent(serve) -> None:  # type: ignore[no-untyped-def]
    # the server reads the second request on the kept-alive connection, then closes it without
    # an answer: it may have processed it, so a POST is not sent again (a GET is)
    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if conn == 0 and index == 1:
            return b"", "close"
        return OK, "keep"
    server = await serve(script)
    async with _pool(server) as pool:
        await pool.request("POST", "/a", [], b"1")
        with pytest.raises(ReadError, match="may have been processed"):
            await pool.request("POST", "/send", [], b"2")
        assert [t for _, _, t, _, _ in server.requests] == ["/a", "/send"]  # /send arrived once
        assert (await pool.request("GET", "/g1", [])).content == b"ok"  # conn 1


async def test_a_get_the_server_did_not_answer_on_a_reused_connection_is_resent_once(serve) -> None:  # type: ignore[no-untyped-def]
    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if conn == 0 and index == 1:
            return b"", "close"
        return OK, "keep"
    server = await serve(script)
    async with _pool(server) as pool:
        await pool.request("GET", "/a", [])
        assert (await pool.request("GET", "/b", [])).content == b"ok"
        assert pool.opened == 2
    assert [(c, t) for c, _, t, _, _ in server.requests] == [(0, "/a"), (0, "/b"), (1, "/b")]


async def test_answer_cut_short_on_a_reused_connection_is_not_resent(serve) -> None:  # type: ignore[no-untyped-def]
    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if index == 0:
            return OK, "keep"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart", "close"
    server = await serve(script)
    async with _pool(server) as pool:
        await pool.request("POST", "/a", [], b"1")
        with pytest.raises(ProtocolError):
            await pool.request("POST", "/b", [], b"2")
        assert pool.idle_count == 0
    assert [t for _, _, t, _, _ in server.requests] == ["/a", "/b"]  # never sent twice


async def test_read_timeout_discards_the_connection(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (b"", "hang") if c == 0 else (OK, "keep"))
    async with _pool(server) as pool:
        with pytest.raises(ReadTimeout):
            await pool.request("GET", "/slow", [], timeout=0.2)
        await server.wait_for(lambda: server.eofs == 1)  # our side closed it
        assert (await pool.request("GET", "/next", [], timeout=2.0)).content == b"ok"
        assert pool.opened == 2


async def test_pool_timeout_when_every_connection_is_busy(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (b"", "hang"))
    async with _pool(server, max_connections=1) as pool, trio.open_nursery() as nursery:
        nursery.start_soon(functools.partial(pool.request, "GET", "/hang", [], timeout=30.0))
        await server.wait_for(lambda: len(server.requests) == 1)
        with pytest.raises(PoolTimeout):
            await pool.request("GET", "/waits", [], timeout=0.1)
        nursery.cancel_scope.cancel()
    assert len(server.requests) == 1


async def test_cancelled_request_closes_its_connection(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (b"", "hang") if c == 0 else (OK, "keep"))
    async with _pool(server) as pool:
        with trio.move_on_after(0.1):
            await pool.request("GET", "/x", [])
        await server.wait_for(lambda: server.eofs == 1)
        assert pool.idle_count == 0
        assert (await pool.request("GET", "/y", [])).content == b"ok"


async def test_what_forbids_reuse_closes_the_connection(serve) -> None:  # type: ignore[no-untyped-def]
    # stray bytes after an answer, our own Connection: close, an HTTP/1.0 answer: each request
    # gets its answer, none of those connections carries another request
    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if req.target == b"/stray":
            return OK + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", "keep"
        if req.target == b"/old":
            return b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", "keep"
        return OK, "keep"
    server = await serve(script)
    async with _pool(server) as pool:
        assert (await pool.request("GET", "/stray", [])).content == b"ok"
        assert (await pool.request("GET", "/a", [])).content == b"ok"  # not "stale"
        assert (await pool.request("GET", "/b", [("Connection", "close")])).content == b"ok"
        assert (await pool.request("GET", "/old", [])).content == b"old"
        assert pool.idle_count == 0
        assert (await pool.request("GET", "/c", [])).content == b"ok"
        assert (await pool.request("GET", "/d", [])).content == b"ok"
    assert [(c, t) for c, _, t, _, _ in server.requests] == [
        (0, "/stray"), (1, "/a"), (1, "/b"), (2, "/old"), (3, "/c"), (3, "/d")]
    assert server.requests[2][4][b"connection"] == b"close"


async def test_interim_answers_head_and_a_large_body(serve) -> None:  # type: ignore[no-untyped-def]
    big = os.urandom(4 << 20)  # more than the socket buffers: the send has to wait for the server

    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if req.method == b"HEAD":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "keep"
        return b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%d" % (
            len(str(len(body))), len(body)), "keep"
    server = await serve(script)
    async with _pool(server) as pool:
        head = await pool.request("HEAD", "/h", [])
        assert (head.status_code, head.headers["content-length"], head.content) == (200, "5", b"")
        assert (await pool.request("PUT", "/big", [], big, timeout=10.0)).content == str(len(big)).encode()
        assert pool.opened == 1
    assert server.requests[1][3] == big


async def test_write_timeout_when_the_server_stops_reading() -> None:
    accepted: list[trio.SocketStream] = []

    async def never_reads(stream: trio.SocketStream) -> None:
        accepted.append(stream)
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, never_reads, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        async with ConnectionPool(Origin("http", "127.0.0.1", port)) as pool:
            with pytest.raises(WriteTimeout, match="sending the request took over 0.3s"):
                await pool.request("POST", "/up", [], b"x" * (64 << 20), timeout=0.3)
            assert pool.idle_count == 0
        assert accepted and await accepted[0].receive_some(1)  # the request did start to arrive
        nursery.cancel_scope.cancel()


async def test_bad_requests_are_refused_before_connecting(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (OK, "keep"))
    async with _pool(server) as pool:
        with pytest.raises(ValueError, match="writes it itself"):
            await pool.request("POST", "/", [("Content-Length", "1")], b"12")
        with pytest.raises(ValueError, match="value for HTTP header 'Authorization'"):
            await pool.request("GET", "/", [("Authorization", "QQBot t\r\nX-Evil: 1")])
        assert pool.opened == 0
        with pytest.raises(ValueError, match="request target"):
            await pool.request("GET", "/a b", [])
    assert server.connections == 0


async def test_a_garbled_answer_is_a_protocol_error_then_all_is_well(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "keep") if c == 0 else (OK, "keep"))
    async with _pool(server) as pool:
        with pytest.raises(ProtocolError, match="invalid HTTP status line 'SSH-2.0"):
            await pool.request("GET", "/", [])
        assert (await pool.request("GET", "/", [])).content == b"ok" and pool.opened == 2


async def test_gzip_answer_is_decoded(serve) -> None:  # type: ignore[no-untyped-def]
    packed = gzip.compress(b'{"a": 1}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed) + packed
    server = await serve(lambda c, i, r, b: (answer, "keep"))
    async with _pool(server) as pool:
        assert (await pool.request("GET", "/", [])).json() == {"a": 1}


async def test_aclose_leaks_no_sockets(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda c, i, r, b: (OK, "keep"))
    await trio.testing.wait_all_tasks_blocked()
    before = _fds()
    pool = _pool(server, max_connections=5)
    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(pool.request, "GET", "/", [])
    assert pool.opened >= 2 and pool.idle_count == pool.opened
    await pool.aclose()
    await server.wait_for(lambda: server.eofs == pool.opened)
    assert _fds() == before


def test_multipart_body_parses_back() -> None:
    body, ctype = encode_multipart({"content": "héllo", "n": 3}, {"file_image": ("c\"at.png", b"\x00\x01", "image/png")})
    msg = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    parts = msg.get_payload()
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["content", "n", "file_image"]
    assert parts[0].get_payload(decode=True).decode() == "héllo" and parts[1].get_payload() == "3"
    assert parts[2].get_filename() == "c%22at.png" and parts[2].get_payload(decode=True) == b"\x00\x01"
    assert parts[2].get_content_type() == "image/png"
    with pytest.raises(TypeError, match="read the file first"):
        encode_multipart(None, {"f": ("a.png", object())})


def test_default_ssl_context_verifies_and_offers_http11() -> None:
    ctx = default_ssl_context()
    assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0


def test_origin_parsing() -> None:
    assert Origin.parse("https://api.sgroup.qq.com/v2") == Origin("https", "api.sgroup.qq.com", 443)
    assert Origin.parse("http://127.0.0.1:8080").host_header == "127.0.0.1:8080"
    assert Origin.parse("https://h:443").host_header == "h"
    with pytest.raises(ValueError, match="absolute"):
        Origin.parse("api.sgroup.qq.com")


def _tls_contexts(tmp_path: Any) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for ``localhost`` only, and a client
    context (the transport's default) that trusts it."""
    cert, key = self_signed_certificate(tmp_path, ["localhost"])
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = default_ssl_context()
    client_ctx.load_verify_locations(cert)
    return server_ctx, client_ctx


async def test_https_keepalive_with_sni_and_certificate_checks(tmp_path: Any) -> None:
    server_ctx, client_ctx = _tls_contexts(tmp_path)
    server_names: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: server_names.append(name)  # type: ignore[assignment,return-value]
    server = RawServer(lambda c, i, r, b: (OK, "keep"))
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(
            trio.serve_ssl_over_tcp, server.handle, 0, server_ctx, host="127.0.0.1", https_compatible=True))
        port = listeners[0].transport_listener.socket.getsockname()[1]
        async with ConnectionPool(Origin("https", "localhost", port), ssl_context=client_ctx) as pool:
            for _ in range(3):
                assert (await pool.request("GET", "/s", [])).content == b"ok"
            assert pool.opened == 1 and server_names == ["localhost"]
        await server.wait_for(lambda: server.eofs == 1)
        # the certificate names localhost, not 127.0.0.1: the handshake is refused
        async with ConnectionPool(Origin("https", "127.0.0.1", port), ssl_context=client_ctx) as pool:
            with pytest.raises(ConnectError, match="cannot connect"):
                await pool.request("GET", "/s", [])
        nursery.cancel_scope.cancel()
    assert [t for _, _, t, _, _ in server.requests] == ["/s"] * 3


async def test_https_bodies_over_many_records_close_delimited_answers_and_stale_idle(tmp_path: Any) -> None:
    server_ctx, client_ctx = _tls_contexts(tmp_path)
    big = os.urandom(1 << 20)  # 64+ TLS records each way

    def script(conn: int, index: int, req: h11.Request, body: bytes) -> tuple[bytes, str]:
        if req.target == b"/big":
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body[::-1], "keep"
        if req.target == b"/eof":
            return b"HTTP/1.1 200 OK\r\n\r\n" + big[:70000], "drop"  # ends with the connection (no close_notify)
        return OK, "close" if req.target == b"/bye" else "keep"
    server = RawServer(script)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(
            trio.serve_ssl_over_tcp, server.handle, 0, server_ctx, host="127.0.0.1", https_compatible=True))
        port = listeners[0].transport_listener.socket.getsockname()[1]
        async with ConnectionPool(Origin("https", "localhost", port), ssl_context=client_ctx) as pool:
            assert (await pool.request("PUT", "/big", [], big)).content == big[::-1]
            with pytest.raises(ProtocolError, match="close_notify"):  # may be cut short (RFC 9112 9.8)
                await pool.request("GET", "/eof", [])
            assert pool.idle_count == 0 and pool.opened == 1
            assert (await pool.request("POST", "/bye", [], b"x")).content == b"ok"  # then the server hangs up
            await server.wait_for(lambda: server.eofs == 2)
            assert (await pool.request("POST", "/after", [], b"y")).content == b"ok"  # on a fresh connection
            assert pool.opened == 3
        nursery.cancel_scope.cancel()
    assert [(c, t) for c, _, t, _, _ in server.requests] == [(0, "/big"), (0, "/eof"), (1, "/bye"), (2, "/after")]


async def test_a_server_that_hangs_up_during_the_tls_handshake_is_a_connect_error() -> None:
    async def hang_up(stream: trio.SocketStream) -> None:
        hello = b""  # read the whole ClientHello record (unread bytes would make the close a reset)
        while len(hello) < 5 or len(hello) < 5 + int.from_bytes(hello[3:5], "big"):
            hello += await stream.receive_some(65536)
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, hang_up, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        async with ConnectionPool(Origin("https", "localhost", port)) as pool:
            with pytest.raises(ConnectError, match="during the TLS handshake") as info:
                await pool.request("GET", "/", [])
            assert isinstance(info.value, NotSentError)
        nursery.cancel_scope.cancel()


async def test_an_injected_httpx_client_is_still_used_and_left_open(emu: Emulator) -> None:
    import httpx

    from qgactor.qq import TokenSource

    tokens = TokenSource(emu.appid, emu.secret, token_url=emu.token_url)
    sent: list[str] = []

    async def record(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        async with ApiClient(tokens, endpoints=Endpoints.custom(emu.api_url, emu.token_url), http=http) as api:
            assert (await api.get_me()).id
        assert sent == ["GET /users/@me"] and not http.is_closed  # the caller owns it
        with trio.socket.socket() as sock:
            await sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        dead = ApiClient(tokens, endpoints=Endpoints.custom(f"http://127.0.0.1:{port}", emu.token_url), http=http,
                         retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01))
        with pytest.raises(ApiConnectionError, match="after 2 attempt"):
            await dead.get_me()
