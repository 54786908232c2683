"""Fixtures for the emulator tests: a running emulator, an access token, a raw gateway client."""

from __future__ import annotations

from typing import Any, AsyncIterator

import httpx
import pytest
from trio_websocket import open_websocket_url

from qgactor.emulator import Emulator, open_emulator

from emu_helpers import RawGateway


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with open_emulator(heartbeat_interval_ms=2000, resume_window=30.0, seed=1) as e:
        yield e


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0, verify=False) as c:  # loopback http only
        yield c


@pytest.fixture
async def token(emu: Emulator, http: httpx.AsyncClient) -> str:
    r = await http.post(emu.token_url, json={"appId": emu.appid, "clientSecret": emu.secret})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"QQBot {token}"}


@pytest.fixture
def gateway(emu: Emulator) -> Any:
    """Factory: ``async with gateway() as gw`` opens a raw connection and reads Hello."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_gw(read_hello: bool = True) -> AsyncIterator[RawGateway]:
        async with open_websocket_url(emu.gateway_url) as ws:
            gw = RawGateway(ws)
            if read_hello:
                hello = await gw.recv()
                assert hello["op"] == 10
            yield gw

    return open_gw
