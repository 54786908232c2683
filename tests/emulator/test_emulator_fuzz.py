"""Bad input never crashes or hangs the emulator: every route gets junk bodies and junk ids."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import httpx
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from qgactor.emulator import Emulator
from qgactor.emulator.rest import build_rest_router

REAL_IDS = {
    "guild_id": ["18700000000001", "x", "0"], "channel_id": ["100010", "100013", "nope"],
    "user_id": ["144115218181000001", "999"], "role_id": ["10001", "1", "5", "zz"],
    "group_openid": ["C9F778FE6ADF9D1D1DBE395BF744A33A", "G"], "openid": ["A11CE000000000000000000000000001", "O"],
    "message_id": ["m", "all"], "schedule_id": ["s"], "thread_id": ["t"], "interaction_id": ["i"],
    "type": ["1", "2", "9"], "id": ["4"],
}


def junk_value(rng: random.Random, depth: int = 0) -> Any:
    choices = [None, True, -1, 0, 2**70, 1.5, "", "None", "x" * 300, "<@!1>", [], {}, "0x10", "12"]
    if depth < 2:
        choices += [[junk_value(rng, depth + 1)], {"content": junk_value(rng, depth + 1)}]
    return rng.choice(choices)


def junk_body(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        return b'{"unterminated": '
    keys = ["content", "msg_type", "msg_id", "msg_seq", "event_id", "name", "type", "position", "media",
            "markdown", "schedule", "recipient_id", "source_guild_id", "file_type", "url", "add", "remove",
            "mute_seconds", "user_ids", "channel", "status", "title", "format", "api_identify", "code",
            "limit", "start_index", "color", "hoist", "since", "subtype", "speaking_permission"]
    body = {rng.choice(keys): junk_value(rng) for _ in range(rng.randrange(0, 6))}
    if kind == 2:
        return json.dumps([body]).encode()
    return json.dumps(body).encode()


async def test_every_route_survives_junk(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    rng = random.Random(1234)
    routes = build_rest_router(emu.platform)._routes
    checked = 0
    statuses: set[int] = set()
    for route in routes:
        for _ in range(6):
            path = re.sub(r"\{(\w+)\}", lambda m: rng.choice(REAL_IDS.get(m.group(1), ["q"])), route.template)
            query = {"limit": rng.choice(["", "0", "abc", "5", "-1"]), "after": rng.choice(["0", "x"])}
            with trio.fail_after(5):
                r = await http.request(route.method, emu.api_url + path, headers=auth, params=query,
                                       content=junk_body(rng))
            assert r.status_code < 500, (route.method, path, r.text)
            assert r.headers["content-type"] == "application/json" and r.headers["x-tps-trace-id"]
            if r.status_code >= 400:
                body = r.json()
                assert isinstance(body["code"], int) and body["message"], (route.method, path, body)
            checked += 1
            statuses.add(r.status_code)
    assert {200, 204, 400, 401, 404} - statuses == {401}, statuses  # both accepted and refused calls
    assert checked == 6 * len(routes) and len(routes) > 70
    assert (await http.get(emu.api_url + "/users/@me", headers=auth)).status_code == 200


async def test_gateway_survives_junk_frames(emu: Emulator, token: str) -> None:
    rng = random.Random(99)
    frames = ["", "{}", "null", '{"op": null}', '{"op": 1.5}', '{"op": 2}', '{"op": 2, "d": {"token": 5}}',
              '{"op": 6, "d": {"token": "QQBot x"}}', '{"op": 1, "d": "x"}', '{"op": 99999999999999999999}',
              '{"op": 2, "d": {"token": "QQBot %s", "intents": 1, "shard": [0, "1"]}}' % token,
              '{"op": 6, "d": {"token": "QQBot %s", "session_id": [], "seq": 1}}' % token,
              '{"op": 6, "d": {"token": "QQBot %s", "session_id": "x", "seq": "abc"}}' % token]
    for _ in range(25):
        async with open_websocket_url(emu.gateway_url) as ws:
            await ws.get_message()
            for _ in range(rng.randrange(1, 4)):
                try:
                    await ws.send_message(rng.choice(frames) if rng.random() < 0.9 else bytes([rng.randrange(256)]))
                except ConnectionClosed:
                    break
            with trio.move_on_after(0.2):
                try:
                    while True:
                        await ws.get_message()
                except ConnectionClosed as exc:
                    assert exc.reason.code in (1000, 4001, 4002, 4004, 4010, 4013), exc.reason
    async with open_websocket_url(emu.gateway_url) as ws:  # still serving
        assert json.loads(await ws.get_message())["op"] == 10


async def test_control_routes_survive_junk(emu: Emulator, http: httpx.AsyncClient) -> None:
    from qgactor.emulator.control import build_control_router
    rng = random.Random(4321)
    routes = [r for r in build_control_router(emu.platform)._routes if not r.template.endswith("/wait")]
    keys = ["scene", "content", "at_bot", "user", "channel", "guild", "group", "mentions", "extra", "count",
            "name", "data", "raw", "kind", "code", "status", "rate", "delay", "seconds", "url", "validate"]
    for route in routes:
        for _ in range(8):
            body = {rng.choice(keys): junk_value(rng) for _ in range(rng.randrange(0, 5))}
            if "count" in body:
                body["count"] = rng.choice([0, 1, "x", None])
            with trio.fail_after(5):
                r = await http.request(route.method, emu.base_url + route.template, json=body,
                                       params={"after": rng.choice(["1", "x"])})
            assert r.status_code < 500, (route.method, route.template, body, r.text)
            if r.status_code >= 400:
                assert isinstance(r.json()["code"], int)
    await emu.control.clear_faults()
    assert (await emu.control.info())["appid"] == emu.appid
