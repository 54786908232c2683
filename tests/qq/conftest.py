"""Fixtures of the platform-client tests: a real emulator on 127.0.0.1 and clients of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import trio.testing

from qgactor.emulator import Emulator, open_emulator
from qgactor.qq import ApiClient, Endpoints, Limits, RetryPolicy, TokenSource

#: Fast retries so fault tests stay quick (the policy logic is the same).
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.1, max_retry_after=2.0)


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """Virtual time for the sans-I/O timing tests (rate limits)."""
    return trio.testing.MockClock(autojump_threshold=0)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A fresh emulator with the default world, proactive sends allowed."""
    async with open_emulator(proactive="allow", seed=7) as emulator:
        yield emulator


def _make_api(emu: Emulator, *, retry: RetryPolicy = FAST_RETRY, limits: Limits | None = None,
              tokens: TokenSource | None = None) -> ApiClient:
    tokens = tokens or TokenSource(emu.appid, emu.secret, token_url=emu.token_url)
    return ApiClient(tokens, endpoints=Endpoints.custom(emu.api_url, emu.token_url), retry=retry,
                     limits=limits or Limits(timeout=5.0))


@pytest.fixture
def make_api() -> Callable[..., ApiClient]:
    """Factory of ApiClients of an emulator: ``make_api(emu, retry=..., limits=..., tokens=...)``
    (the caller closes them)."""
    return _make_api


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[ApiClient]:
    """An ApiClient logged in to ``emu`` with fast retries."""
    async with _make_api(emu) as client:
        yield client
