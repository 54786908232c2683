"""Error mapping, error texts, and the client-side rate/concurrency limits."""

from __future__ import annotations

import pickle

import pytest
import trio

from qgactor.emulator import Emulator
from qgactor.qq import (
    ApiClient,
    AuthError,
    BadRequest,
    DuplicateMessage,
    MessageAudit,
    NotFound,
    PermissionDenied,
    RateLimited,
    ReplyExpired,
    ReplyTarget,
    Scene,
    ServerError,
)
from qgactor.qq.errors import ApiError, error_for_response
from qgactor.qq.http import _is_success
from qgactor.qq.ratelimit import RateLimit, RouteLimiter, SlidingWindow


@pytest.mark.parametrize("status, code, cls", [
    (401, 11244, AuthError), (400, 11243, AuthError), (403, 11253, PermissionDenied), (404, 10004, NotFound),
    (405, None, NotFound), (429, 20028, RateLimited), (400, 22009, RateLimited), (500, None, ServerError),
    (400, 304027, ReplyExpired), (400, 304026, ReplyExpired), (400, 40054005, DuplicateMessage),
    (400, 50006, BadRequest), (202, 304023, MessageAudit), (418, 999, ApiError),
])
def test_error_mapping(status: int, code: int | None, cls: type[ApiError]) -> None:
    body = {"code": code, "message": "m"} if code is not None else "plain text"
    err = error_for_response(status=status, body=body, trace_id="T1", method="POST", path="/p")
    assert type(err) is cls
    assert err.status == status and err.code == code and err.trace_id == "T1"
    text = str(err)
    assert "POST /p" in text and f"HTTP {status}" in text and "T1" in text


def test_audit_error_carries_the_audit_id_and_pickles() -> None:
    body = {"code": 304023, "message": "push message is waiting for audit now",
            "data": {"message_audit": {"audit_id": "ab9b"}}}
    err = error_for_response(status=202, body=body, trace_id=None, method="POST", path="/channels/1/messages")
    assert isinstance(err, MessageAudit) and err.audit_id == "ab9b"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is MessageAudit and again.audit_id == "ab9b" and str(again) == str(err)
    assert not _is_success(202, body, None)
    assert _is_success(200, {"id": "x", "code": 5, "message": "m"}, None)
    assert _is_success(204, None, None)


def test_string_codes_and_err_code_are_understood() -> None:
    err = error_for_response(status=400, body={"err_code": "304027", "message": "x", "trace_id": "TT"},
                             trace_id=None, method="GET", path="/")
    assert isinstance(err, ReplyExpired) and err.code == 304027 and err.trace_id == "TT"


async def test_sliding_window_paces_on_virtual_time(autojump_clock: object) -> None:
    window = SlidingWindow(RateLimit(rate=5.0, burst=5))
    start = trio.current_time()
    stamps = []
    for _ in range(15):
        await window.acquire()
        stamps.append(trio.current_time() - start)
    assert stamps[:5] == [0.0] * 5  # the burst is free
    assert stamps[5:10] == [pytest.approx(1.0)] * 5 and stamps[10:] == [pytest.approx(2.0)] * 5
    # never more than 5 in any 1 s window
    assert all(sum(1 for t in stamps if s <= t < s + 1.0) <= 5 for s in stamps)
    slack = SlidingWindow(RateLimit(rate=1.0, burst=1, slack=0.5))
    await slack.acquire()
    t0 = trio.current_time()
    await slack.acquire()
    assert trio.current_time() - t0 == pytest.approx(1.5)


async def test_sliding_window_is_fifo_and_a_newcomer_never_jumps_the_queue(autojump_clock: object) -> None:
    window = SlidingWindow(RateLimit(rate=1.0, burst=1))
    start = trio.current_time()
    admitted: list[tuple[str, float]] = []

    async def take(name: str, delay: float) -> None:
        await trio.sleep(delay)
        await window.acquire()
        admitted.append((name, trio.current_time() - start))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(take, "a", 0.0)   # room: admitted at once (the fast path)
        nursery.start_soon(take, "b", 0.1)   # waits for the window
        nursery.start_soon(take, "c", 0.2)   # queued behind b
        nursery.start_soon(take, "late", 1.5)  # b was admitted at 1.0 and c still waits: queue
    assert [n for n, _ in admitted] == ["a", "b", "c", "late"]
    assert [t for _, t in admitted] == [0.0, pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]


async def test_route_limiter_keys_and_forgets_idle_buckets(autojump_clock: object) -> None:
    limiter = RouteLimiter({"POST /x/{id}": RateLimit(rate=1.0, burst=1)}, max_idle_buckets=2)
    start = trio.current_time()
    await limiter.acquire("POST /x/{id}", "a")
    await limiter.acquire("POST /x/{id}", "b")  # another key: its own bucket
    assert trio.current_time() == start
    await limiter.acquire("POST /x/{id}", "a")
    assert trio.current_time() - start == pytest.approx(1.0)
    await limiter.acquire("GET /other", "z")  # unlimited route
    await trio.sleep(5)
    await limiter.acquire("POST /x/{id}", "c")  # full table: idle full buckets are swept
    assert len(limiter) <= 2


async def test_per_channel_limit_keeps_sends_under_the_platform_limit(api: ApiClient, emu: Emulator) -> None:
    target = ReplyTarget(Scene.GUILD, "100011")
    await api.credentials.get()
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for i in range(8):
            nursery.start_soon(api.send, target, f"m{i}")
    assert trio.current_time() - start >= 1.0  # 5 at once, the rest one window later
    box = await emu.control.outbox(target="100011", accepted=None)
    assert len(box) == 8 and all(e["accepted"] for e in box)  # never hit the platform's 20028


async def test_concurrency_limit_bounds_requests_in_flight(emu: Emulator, make_api) -> None:  # type: ignore[no-untyped-def]
    from qgactor.qq import Limits

    await emu.control.rest_fault(delay=0.2, path_prefix="/users/@me", method="GET")
    async with make_api(emu, limits=Limits(max_concurrency=2, timeout=5.0)) as api:
        await api.credentials.get()
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            for _ in range(4):
                nursery.start_soon(api.get_me)
        assert trio.current_time() - start >= 0.38  # two waves of two


async def test_configured_route_limit_applies_per_target(emu: Emulator, make_api) -> None:  # type: ignore[no-untyped-def]
    from qgactor.qq import Limits, RateLimit

    route = "POST /v2/groups/{group_openid}/messages"
    limits = Limits(routes={route: RateLimit(rate=10.0, burst=1)}, timeout=5.0)
    async with make_api(emu, limits=limits) as api:
        await api.credentials.get()
        start = trio.current_time()
        for i in range(3):
            await api.send(ReplyTarget(Scene.GROUP, "C9F778FE6ADF9D1D1DBE395BF744A33A"), f"g{i}")
        assert trio.current_time() - start >= 0.19  # 1 per 0.1 s
        assert api._http.route_limiter.limit_for(route) == RateLimit(rate=10.0, burst=1)
        # guild sends fall back to no limit when the table is replaced
        assert api._http.route_limiter.limit_for("POST /channels/{channel_id}/messages") is None


def test_route_paths_are_quoted() -> None:
    from qgactor.qq.http import Route

    assert Route("DELETE", "/v2/users/{openid}/messages/{message_id}", openid="A B",
                 message_id="ROBOT1.0_.x!").path == "/v2/users/A%20B/messages/ROBOT1.0_.x!"
    assert Route("PUT", "/r/{emoji}", emoji="👍").path == "/r/%F0%9F%91%8D"
    assert Route("GET", "/g/{gid}", gid="a/b?c").path == "/g/a%2Fb%3Fc"
