"""Token source and legacy token against the emulator's token endpoint and auth checks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio

from qgactor.emulator import Emulator
from qgactor.qq import ApiClient, ApiConnectionError, AuthError, Endpoints, LegacyToken, TokenSource
from qgactor.qq.auth import parse_expires_in


class FakeClock:
    """A clock function the test moves by hand (the TokenSource's notion of now)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _tokens(emu: Emulator, **kw: object) -> TokenSource:
    return TokenSource(emu.appid, emu.secret, token_url=emu.token_url, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw, seconds", [("7200", 7200.0), (7200, 7200.0), (59.5, 59.5), (" 30 ", 30.0)])
def test_expires_in_accepts_strings_and_numbers(raw: object, seconds: float) -> None:
    assert parse_expires_in(raw) == seconds


@pytest.mark.parametrize("raw", ["abc", True, -1, None, float("inf"), [1]])
def test_expires_in_rejects_garbage(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_expires_in(raw)


async def test_fetch_cache_and_headers(emu: Emulator) -> None:
    ts = _tokens(emu)
    assert ts.authorization() is None
    token = await ts.get()
    assert await ts.get() == token and ts.fetch_count == 1
    assert await ts.header() == f"QQBot {token}"
    assert await ts.headers() == {"Authorization": f"QQBot {token}", "X-Union-Appid": emu.appid}
    assert ts.authorization() == f"QQBot {token}"
    assert emu.platform.tokens.valid(token)


async def test_concurrent_gets_make_a_single_fetch(emu: Emulator) -> None:
    ts = _tokens(emu)
    seen: list[str] = []

    async def get() -> None:
        seen.append(await ts.get())

    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(get)
    assert len(set(seen)) == 1 and len(seen) == 20
    assert ts.fetch_count == 1 and emu.platform.tokens.issued == 1


async def test_refresh_ahead_of_expiry(emu: Emulator) -> None:
    clock = FakeClock()
    ts = _tokens(emu, clock=clock, refresh_margin=60.0)
    first = await ts.get()
    lifetime = ts.expires_at - clock.now
    assert 7100 < lifetime <= 7200
    assert ts.seconds_until_refresh() == pytest.approx(lifetime - 60)
    clock.now += lifetime - 100  # still fresh: no fetch
    assert await ts.get() == first and ts.fetch_count == 1
    # 30 s before expiry on both clocks: refreshed ahead of time; the platform hands out a new token
    clock.now += 70
    await emu.control.advance_clock(lifetime - 30)
    second = await ts.get()
    assert second != first and ts.fetch_count == 2
    assert emu.platform.tokens.valid(first) and emu.platform.tokens.valid(second)  # overlap window


async def test_invalidate_only_drops_the_stale_token(emu: Emulator) -> None:
    ts = _tokens(emu)
    old = await ts.header()
    await ts.invalidate()
    await emu.control.advance_clock(7200 - 30)  # so the platform issues a different token
    new = await ts.header()
    assert new != old and ts.fetch_count == 2
    await ts.invalidate(old)  # a late 401 of the old token must not drop the new one
    assert await ts.header() == new and ts.fetch_count == 2
    assert await ts.refresh() and ts.fetch_count == 3


async def test_expired_token_gets_401_then_one_refresh(emu: Emulator,
                                                       make_api: Callable[..., ApiClient]) -> None:
    clock = FakeClock()  # our clock stands still: only the platform knows the token expired
    ts = _tokens(emu, clock=clock)
    async with make_api(emu, tokens=ts) as api:
        await api.get_me()
        await emu.control.advance_clock(7300)
        me = await api.get_me()  # 401 (11244) → invalidate → fetch → retry once
        assert me.bot and ts.fetch_count == 2


async def test_bad_secret_is_an_auth_error_without_the_secret(emu: Emulator) -> None:
    secret = "WrongSecretValue123456"
    ts = TokenSource(emu.appid, secret, token_url=emu.token_url)
    with pytest.raises(AuthError) as info:
        await ts.get()
    assert info.value.status == 401 and secret not in str(info.value)
    assert secret not in repr(ts) and emu.secret not in repr(_tokens(emu))


async def test_unreachable_token_url(emu: Emulator) -> None:
    ts = TokenSource(emu.appid, emu.secret, token_url="http://127.0.0.1:9/app/getAppAccessToken", attempts=2)
    with pytest.raises(ApiConnectionError) as info:
        await ts.get()
    assert emu.secret not in str(info.value)


async def test_legacy_token(emu: Emulator) -> None:
    legacy = LegacyToken(emu.appid, emu.legacy_token)
    assert emu.legacy_token not in repr(legacy)
    assert await legacy.header() == f"Bot {emu.appid}.{emu.legacy_token}"
    async with ApiClient(legacy, endpoints=Endpoints.custom(emu.api_url)) as api:
        assert (await api.get_me()).bot
        assert emu.legacy_token not in repr(api)
    wrong = LegacyToken(emu.appid, "nope")
    async with ApiClient(wrong, endpoints=Endpoints.custom(emu.api_url)) as api:
        with pytest.raises(AuthError) as info:
            await api.get_me()
        assert info.value.code == 11243


async def test_token_is_fetched_with_a_shared_client(emu: Emulator) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        ts = TokenSource(emu.appid, emu.secret, token_url=emu.token_url, http=http)
        assert await ts.get()


def test_endpoint_presets() -> None:
    assert Endpoints.production().api_base == "https://api.sgroup.qq.com"
    assert Endpoints.sandbox().api_base == "https://sandbox.api.sgroup.qq.com" and Endpoints.sandbox().is_sandbox
    assert Endpoints.named("sandbox").token_url == Endpoints.production().token_url
    custom = Endpoints.custom("http://127.0.0.1:1234/")
    assert custom.api_base == "http://127.0.0.1:1234"
    assert custom.token_url == "http://127.0.0.1:1234/app/getAppAccessToken"
    with pytest.raises(ValueError):
        Endpoints.custom("ftp://x")
    with pytest.raises(ValueError):
        Endpoints.named("staging")


async def test_secrets_never_reach_logs_or_reprs(emu: Emulator, make_api: Callable[..., ApiClient],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    ts = _tokens(emu)
    async with make_api(emu, tokens=ts) as api:
        await api.get_me()
        first = await ts.get()
        await emu.control.advance_clock(7300)  # force the 401 → refresh path
        await api.get_me()
        tokens = [first, await ts.get()]
        text = caplog.text + repr(api) + repr(ts)
    assert tokens[0] != tokens[1] and ts.fetch_count == 2
    assert emu.secret not in text
    assert all(token not in text for token in tokens)
