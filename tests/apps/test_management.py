"""The local management endpoint: bound to 127.0.0.1, token required, tree as JSON; bad input."""

from __future__ import annotations

import enum

import attrs
import trio

from qgactor.cli.management import (
    ManagementAuthError,
    ManagementError,
    fetch_status,
    new_token,
    serve_management,
    snapshot_to_json,
)
from qgactor.cli.cmd_status import render_tree


class State(enum.Enum):
    RUNNING = "running"


@attrs.frozen
class Node:
    name: str
    state: State
    mailbox_depth: int
    restarts: int
    last_error: str | None
    children: tuple["Node", ...] = ()


TREE = Node("bot", State.RUNNING, 0, 0, None, (Node("gateway", State.RUNNING, 2, 1, "ConnectionClosed: 4009"),
                                              Node("dispatcher", State.RUNNING, 0, 0, None)))


async def test_status_needs_the_token_and_returns_the_tree() -> None:
    token = new_token()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(lambda task_status: serve_management(lambda: TREE, token=token, task_status=task_status))
        tree = await fetch_status(port, token)
        assert tree == snapshot_to_json(TREE)
        assert tree["children"][0]["last_error"] == "ConnectionClosed: 4009"
        assert tree["state"] == "running"
        try:
            await fetch_status(port, token + "x")
        except ManagementAuthError as exc:
            assert token not in str(exc)
        else:
            raise AssertionError("a wrong token was accepted")
        nursery.cancel_scope.cancel()


async def test_bad_requests_get_errors_not_hangs() -> None:
    token = new_token()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(lambda task_status: serve_management(lambda: TREE, token=token, task_status=task_status))

        async def raw(data: bytes) -> bytes:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(data)
            out = b""
            with trio.fail_after(5):
                while chunk := await stream.receive_some(65536):
                    out += chunk
            await stream.aclose()
            return out

        assert (await raw(b"garbage\r\n\r\n")).startswith(b"HTTP/1.1 400")
        assert (await raw(b"GET /status HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 401")
        auth = f"Authorization: Bearer {token}\r\n".encode()
        assert (await raw(b"GET /nope HTTP/1.1\r\n" + auth + b"\r\n")).startswith(b"HTTP/1.1 404")
        assert (await raw(b"POST /status HTTP/1.1\r\n" + auth + b"\r\n")).startswith(b"HTTP/1.1 405")
        assert (await raw(b"GET /status HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")).startswith(b"HTTP/1.1 431")
        # the server is still fine afterwards
        assert (await fetch_status(port, token))["name"] == "bot"
        nursery.cancel_scope.cancel()


async def test_unreachable_endpoint_is_a_management_error() -> None:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    await listener.aclose()
    try:
        await fetch_status(port, "t", timeout=2)
    except ManagementError as exc:
        assert "cannot reach" in str(exc)
    else:
        raise AssertionError("expected ManagementError")


def test_render_tree_draws_the_hierarchy() -> None:
    text = render_tree(snapshot_to_json(TREE))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["ACTOR", "STATE", "MAILBOX"]
    assert lines[1].startswith("bot ")
    assert lines[2].startswith("├── gateway") and "ConnectionClosed: 4009" in lines[2]
    assert lines[3].startswith("└── dispatcher")


async def test_bound_to_loopback_only_and_secrets_masked() -> None:
    from qgactor.cli.logs import RedactSecrets

    token = new_token()
    leaky = Node("bot", State.RUNNING, 0, 0, "AuthError: bad secret 'hunter2-secret'")
    redact = RedactSecrets(["hunter2-secret"])
    async with trio.open_nursery() as nursery:
        port = await nursery.start(lambda task_status: serve_management(
            lambda: leaky, token=token, redact=redact.mask, task_status=task_status))
        tree = await fetch_status(port, token)
        assert tree["last_error"] == "AuthError: bad secret '***'"
        # bound to 127.0.0.1 itself, not to every interface: another loopback address
        # (which a 0.0.0.0 listener would accept) is refused
        try:
            stream = await trio.open_tcp_stream("127.0.0.2", port)
        except OSError:
            pass
        else:
            await stream.aclose()
            raise AssertionError("the management endpoint accepted a connection on 127.0.0.2")
        nursery.cancel_scope.cancel()
