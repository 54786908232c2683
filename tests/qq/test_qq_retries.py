"""Retries against injected faults: 5xx, 429 with Retry-After, timeouts, idempotent sends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio

from qgactor.emulator import Emulator
from qgactor.qq import (
    ApiClient,
    ApiConnectionError,
    Limits,
    RateLimited,
    RetryPolicy,
    SendUnconfirmed,
    ServerError,
    parse_event,
)
from qgactor.qq.errors import ApiError, error_for_response
from qgactor.qq.http import HttpCore, parse_retry_after

GROUP_PATH = "/v2/groups"


async def _group_message(emu: Emulator):
    sent = await emu.control.send_message("group", "hello")
    return parse_event(sent["t"], sent["d"], event_id=sent["id"])


async def test_5xx_is_retried_until_success(api: ApiClient, emu: Emulator) -> None:
    await emu.control.rest_fault(status=503, count=2, path_prefix="/users/@me", method="GET")
    response = await api.request("GET", "/users/@me")
    assert response.status == 200 and response.attempts == 3 and response.data["bot"] is True
    assert emu.platform.faults.rest[0].hits == 2


async def test_5xx_forever_raises_server_error_after_all_attempts(api: ApiClient, emu: Emulator) -> None:
    await emu.control.rest_fault(status=500, path_prefix="/guilds", method="GET")
    with pytest.raises(ServerError) as info:
        await api.get_guild("18700000000001")
    assert info.value.status == 500 and info.value.trace_id
    assert emu.platform.faults.rest[0].hits == api.retry.attempts


async def test_429_honours_retry_after(api: ApiClient, emu: Emulator) -> None:
    await emu.control.rest_fault(status=429, count=1, path_prefix="/users/@me", method="GET")
    start = trio.current_time()
    response = await api.request("GET", "/users/@me")
    assert response.attempts == 2
    assert trio.current_time() - start >= 0.95  # the emulator says Retry-After: 1


async def test_429_longer_than_allowed_raises_rate_limited(emu: Emulator, make_api: Callable[..., ApiClient]) -> None:
    await emu.control.rest_fault(status=429, path_prefix="/users/@me", method="GET")
    async with make_api(emu, retry=RetryPolicy(base_delay=0.01, max_retry_after=0.5)) as api:
        with pytest.raises(RateLimited) as info:
            await api.get_me()
    assert info.value.retry_after == 1.0 and info.value.status == 429
    assert emu.platform.faults.rest[0].hits == 1


async def test_retried_group_send_after_5xx_lands_once(api: ApiClient, emu: Emulator) -> None:
    msg = await _group_message(emu)
    await emu.control.rest_fault(status=502, count=2, path_prefix=GROUP_PATH, method="POST")
    sent = await api.reply(msg, "once")
    box = await emu.control.outbox(reply_to=msg.id, accepted=None)
    assert [(e["body"]["msg_seq"], e["accepted"]) for e in box] == [(1, True)]
    assert box[0]["response"]["id"] == sent.id


async def test_retried_send_after_timeout_is_deduplicated(emu: Emulator, make_api: Callable[..., ApiClient]) -> None:
    # attempt 1 is held 0.6 s by the platform and times out on our side after 0.3 s; the
    # immediate retry (same msg_id + msg_seq) lands; attempt 1 then arrives late and is refused
    msg = await _group_message(emu)
    await emu.control.rest_fault(delay=0.6, count=1, path_prefix=GROUP_PATH, method="POST")
    async with make_api(emu, limits=Limits(timeout=0.3)) as api:
        sent = await api.reply(msg, "exactly once")
    late = await emu.control.wait_for_reply(msg.id, accepted=False, timeout=3.0)
    assert late["status"] == 400 and late["body"]["msg_seq"] == 1
    accepted = await emu.control.outbox(reply_to=msg.id)
    assert len(accepted) == 1 and accepted[0]["response"]["id"] == sent.id


async def test_duplicate_on_retry_after_ambiguous_attempt_is_send_unconfirmed(
        emu: Emulator, make_api: Callable[..., ApiClient]) -> None:
    # attempt 1 times out but lands (0.3 s late); the retry comes after it and is refused as a duplicate
    msg = await _group_message(emu)
    await emu.control.rest_fault(delay=0.3, count=1, path_prefix=GROUP_PATH, method="POST")
    slow_retry = RetryPolicy(attempts=3, base_delay=0.8, max_delay=0.8)
    async with make_api(emu, retry=slow_retry, limits=Limits(timeout=0.15)) as api:
        with pytest.raises(SendUnconfirmed) as info:
            await api.reply(msg, "landed")
    assert info.value.likely_delivered and "do not resend" in str(info.value)
    accepted = await emu.control.outbox(reply_to=msg.id)
    assert len(accepted) == 1 and accepted[0]["body"]["msg_seq"] == 1


async def test_guild_send_without_dedup_key_is_not_retried_after_a_timeout(
        emu: Emulator, make_api: Callable[..., ApiClient]) -> None:
    sent = await emu.control.send_message("guild", "hi")
    msg = parse_event(sent["t"], sent["d"], event_id=sent["id"])
    await emu.control.rest_fault(delay=0.4, count=1, path_prefix="/channels", method="POST")
    async with make_api(emu, limits=Limits(timeout=0.15)) as api:
        with pytest.raises(ApiConnectionError, match="may have been processed"):
            await api.reply(msg, "maybe")
    landed = await emu.control.wait_for_reply(msg.id, timeout=3.0)
    assert landed["content"] == "maybe"
    assert len(await emu.control.outbox(reply_to=msg.id, accepted=None)) == 1


async def test_guild_send_is_retried_after_a_5xx_answer(api: ApiClient, emu: Emulator) -> None:
    sent = await emu.control.send_message("guild", "hi")
    msg = parse_event(sent["t"], sent["d"], event_id=sent["id"])
    await emu.control.rest_fault(status=500, count=1, path_prefix="/channels", method="POST")
    await api.reply(msg, "after 500")
    assert [e["content"] for e in await emu.control.outbox(reply_to=msg.id, accepted=None)] == ["after 500"]


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None


def test_retry_policy_delays_grow_with_jitter_and_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)):
        delays = [policy.delay(retry) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


@pytest.mark.parametrize("status, body, retried", [
    (500, {"code": 500000, "message": "x"}, True),
    (504, None, True),
    (400, {"code": 306003, "message": "recall busy"}, True),  # transient business code (spec 6.11)
    (400, {"code": 12002, "message": "bad body"}, False),
    (403, {"code": 11253, "message": "no permission"}, False),
    (400, {"code": 22009, "message": "msg limit exceed"}, False),
])
def test_which_errors_are_retried(status: int, body: object, retried: bool) -> None:
    core = HttpCore.__new__(HttpCore)
    core.retry = RetryPolicy()
    error = error_for_response(status=status, body=body, trace_id=None, method="GET", path="/x")
    assert isinstance(error, ApiError)
    assert (core._retry_delay(error, 1) is not None) is retried
    assert core._retry_delay(error, core.retry.attempts) is None
