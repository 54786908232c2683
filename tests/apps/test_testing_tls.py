"""``qgactor.testing.self_signed_certificate``: a server with it and a client trusting it talk
TLS over loopback for both a DNS name and an IP address; an empty host list is refused."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trio

from qgactor.testing import self_signed_certificate


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_a_client_trusting_the_certificate_completes_a_handshake(tmp_path: Path, host: str) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context()
    client_ctx.load_verify_locations(cert)

    async def handler(stream: trio.SSLStream) -> None:
        await stream.send_all(await stream.receive_some(100))

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_ssl_over_tcp, handler, 0, server_ctx)
        port = listeners[0].transport_listener.socket.getsockname()[1]
        with trio.fail_after(5):
            stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=client_ctx)
            await stream.send_all(b"ping")
            assert await stream.receive_some(100) == b"ping"
            await stream.aclose()
        nursery.cancel_scope.cancel()


async def test_an_untrusting_client_refuses_it_and_hosts_are_required(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path, ["localhost"])
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    async def handler(stream: trio.SSLStream) -> None:
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError:
            pass

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_ssl_over_tcp, handler, 0, server_ctx)
        port = listeners[0].transport_listener.socket.getsockname()[1]
        with trio.fail_after(5), pytest.raises(trio.BrokenResourceError):
            stream = await trio.open_ssl_over_tcp_stream("localhost", port)  # system trust store only
            await stream.do_handshake()
        nursery.cancel_scope.cancel()
    with pytest.raises(ValueError, match="at least one host"):
        self_signed_certificate(tmp_path, [])
