"""Gateway: Hello, Identify/READY, heartbeats, dispatch numbering, resume, op 7/9, faults."""

from __future__ import annotations

import pytest
import trio

from qgactor.emulator import Emulator, open_emulator

from emu_helpers import RawGateway


async def test_hello_identify_ready_heartbeat(emu: Emulator, gateway, token: str) -> None:
    async with gateway(read_hello=False) as gw:
        hello = await gw.recv()
        assert hello == {"op": 10, "d": {"heartbeat_interval": 2000}}
        ready = await gw.identify(f"QQBot {token}", shard=[0, 1])
        assert ready["op"] == 0 and ready["t"] == "READY" and ready["s"] == 1
        d = ready["d"]
        assert d["version"] == 1 and d["shard"] == [0, 1]
        assert d["user"]["id"] == emu.world.bot.id and d["user"]["bot"] is True
        assert len(d["session_id"]) == 36
        await gw.send({"op": 1, "d": 1})
        assert await gw.recv() == {"op": 11}
        await gw.send({"op": 1, "d": None})
        assert await gw.recv() == {"op": 11}


async def test_dispatch_seq_increases_and_envelope_has_id(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        seen = []
        for i in range(5):
            info = await emu.control.send_message("group", f"m{i}")
            frame = await gw.recv_dispatch()
            assert frame["t"] == "GROUP_AT_MESSAGE_CREATE"
            assert frame["id"] == info["event_id"] and frame["d"]["id"] == info["message_id"]
            assert frame["d"]["content"] == f" m{i}"
            seen.append(frame["s"])
        assert seen == [2, 3, 4, 5, 6]


async def test_resume_replays_missed_events_without_gaps_or_duplicates(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        ready = await gw.identify(f"QQBot {token}")
        session_id = ready["d"]["session_id"]
        for i in range(3):
            await emu.control.send_message("c2c", f"a{i}")
        got = [await gw.recv_dispatch() for _ in range(3)]
        last_seen = got[1]["s"]  # pretend the client only processed the first two
    # while disconnected, more events arrive and are buffered for the session
    for i in range(4):
        await emu.control.send_message("c2c", f"b{i}")
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": session_id, "seq": last_seen}})
        frames = []
        while True:
            f = await gw.recv_dispatch()
            frames.append(f)
            if f["t"] == "RESUMED":
                break
        replayed = frames[:-1]
        assert [f["s"] for f in replayed] == list(range(last_seen + 1, last_seen + 1 + 5))
        assert [f["d"]["content"] for f in replayed] == ["a2", "b0", "b1", "b2", "b3"]
        assert frames[-1]["d"] == "" and frames[-1]["s"] == replayed[-1]["s"] + 1
        # numbering continues after RESUMED
        await emu.control.send_message("c2c", "after")
        nxt = await gw.recv_dispatch()
        assert nxt["s"] == frames[-1]["s"] + 1 and nxt["d"]["content"] == "after"


async def test_resume_with_bare_token_and_unknown_session_gets_op9(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        ready = await gw.identify(f"QQBot {token}")
    async with gateway() as gw:  # botgo resumes with the bare token
        await gw.send({"op": 6, "d": {"token": token, "session_id": ready["d"]["session_id"], "seq": 1}})
        assert (await gw.recv_dispatch())["t"] == "RESUMED"
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": "nope", "seq": 1}})
        assert await gw.recv() == {"op": 9, "d": False}
        # the same connection may Identify afresh
        again = await gw.identify(f"QQBot {token}")
        assert again["t"] == "READY" and again["s"] == 1


async def test_resume_unknown_session_4006_when_configured(gateway, http) -> None:
    async with open_emulator(resume_unknown_session="4006") as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        from trio_websocket import open_websocket_url
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            await gw.send({"op": 6, "d": {"token": f"QQBot {tok}", "session_id": "nope", "seq": 0}})
            assert await gw.closed_code() == 4006


async def test_resume_with_bad_seq_closes_4007_and_session_is_gone(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 99}})
        assert await gw.closed_code() == 4007
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 1}})
        assert await gw.recv() == {"op": 9, "d": False}


async def test_resume_past_replay_buffer_closes_4007(http) -> None:
    async with open_emulator(replay_buffer=3) as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        from trio_websocket import open_websocket_url
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            sid = (await gw.identify(f"QQBot {tok}"))["d"]["session_id"]
        for i in range(5):
            await e.control.send_message("group", str(i))
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            await gw.send({"op": 6, "d": {"token": f"QQBot {tok}", "session_id": sid, "seq": 1}})
            assert await gw.closed_code() == 4007


async def test_op9_fault_invalidates_session(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        hit = await emu.control.invalid_session()
        assert hit["sessions"] == [sid]
        assert await gw.recv() == {"op": 9, "d": False}
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 1}})
        assert await gw.recv() == {"op": 9, "d": False}


async def test_op7_reconnect_then_resume(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        await emu.control.reconnect()
        assert await gw.recv() == {"op": 7}
        # a client that ignores op 7 is closed with the resumable 4009
        assert await gw.closed_code(timeout=5) == 4009
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 1}})
        assert (await gw.recv_dispatch())["t"] == "RESUMED"


async def test_fault_close_with_code_and_drop(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        await emu.control.close(4900)
        assert await gw.closed_code() == 4900
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        await emu.control.drop()
        assert await gw.closed_code() == 1006  # TCP closed without a close frame
    # a drop keeps the session resumable
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 1}})
        assert (await gw.recv_dispatch())["t"] == "RESUMED"


async def test_heartbeat_timeout_closes_4009(http) -> None:
    async with open_emulator(heartbeat_interval_ms=100) as e:
        from trio_websocket import open_websocket_url
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            assert await gw.closed_code(timeout=3) == 4009


async def test_stop_acks_fault(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        await emu.control.stop_acks()
        await gw.send({"op": 1, "d": 1})
        with trio.move_on_after(0.3) as scope:
            await gw.recv()
        assert scope.cancelled_caught
        await emu.control.resume_acks()
        await gw.send({"op": 1, "d": 1})
        assert await gw.recv() == {"op": 11}


@pytest.mark.parametrize("frame, code", [
    ("not json", 4002),
    ('{"op": "x"}', 4002),
    ("[1, 2]", 4002),
    ('{"op": 3}', 4001),
    ('{"op": 0, "d": {}}', 4001),
    ('{"op": 2, "d": {"token": "QQBot nope", "intents": 1}}', 4004),
    ('{"op": 2, "d": "x"}', 4002),
    ('{"op": 6, "d": {"token": "QQBot nope", "session_id": "x", "seq": 1}}', 4004),
])
async def test_bad_frames_close_with_the_documented_code(emu: Emulator, gateway, frame: str, code: int) -> None:
    async with gateway() as gw:
        await gw.send(frame)
        assert await gw.closed_code() == code


@pytest.mark.parametrize("d, code", [
    ({"intents": 1 << 5}, 4013),        # unknown bit
    ({"intents": -1}, 4013),
    ({"intents": "513"}, 4013),
    ({"shard": [1, 1]}, 4010),
    ({"shard": [0, 0]}, 4010),
    ({"shard": [0]}, 4010),
    ({"shard": [0, 99]}, 4010),
])
async def test_identify_validation_close_codes(emu: Emulator, gateway, token: str, d: dict, code: int) -> None:
    async with gateway() as gw:
        await gw.send({"op": 2, "d": {"token": f"QQBot {token}", "intents": 1, "shard": [0, 1]} | d})
        assert await gw.closed_code() == code


async def test_unauthorised_intents_close_4014(http) -> None:
    async with open_emulator(allowed_intents=(1 << 30) | 1 | 2) as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        from trio_websocket import open_websocket_url
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            await gw.send({"op": 2, "d": {"token": f"QQBot {tok}", "intents": 1 << 9}})
            assert await gw.closed_code() == 4014


async def test_identify_twice_closes_4005(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        await gw.send({"op": 2, "d": {"token": f"QQBot {token}", "intents": 1}})
        assert await gw.closed_code() == 4005


async def test_legacy_identify_tokens(emu: Emulator, gateway) -> None:
    for tok in (f"Bot {emu.appid}.{emu.legacy_token}", f"{emu.appid}.{emu.legacy_token}"):
        async with gateway() as gw:
            assert (await gw.identify(tok))["t"] == "READY"


async def test_intent_filtering(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as guild_only, gateway() as group_only:
        await guild_only.identify(f"QQBot {token}", intents=1 << 30)
        await group_only.identify(f"QQBot {token}", intents=1 << 25)
        g = await emu.control.send_message("guild", "to guild")
        c = await emu.control.send_message("c2c", "to c2c")
        assert len(g["sessions"]) == 1 and len(c["sessions"]) == 1
        assert (await guild_only.recv_dispatch())["t"] == "AT_MESSAGE_CREATE"
        assert (await group_only.recv_dispatch())["t"] == "C2C_MESSAGE_CREATE"
        # MESSAGE_CREATE (private domain, 1<<9) reaches neither
        none = await emu.control.send_message("guild", "plain", at_bot=False)
        assert none["sessions"] == []
        await emu.control.inject_event("GUILD_MEMBER_ADD")  # 1<<1: nobody subscribed
        await emu.control.send_message("group", "x")
        assert (await group_only.recv_dispatch())["t"] == "GROUP_AT_MESSAGE_CREATE"


async def test_shard_routing(emu: Emulator, gateway, token: str) -> None:
    g1, g2 = "18700000000001", "18700004194305"  # (id >> 22) % 2 == 1 and 0
    async with gateway() as s0, gateway() as s1:
        await s0.identify(f"QQBot {token}", shard=[0, 2])
        await s1.identify(f"QQBot {token}", shard=[1, 2])
        await emu.control.send_message("guild", "one", guild=g1)
        await emu.control.send_message("guild", "two", guild=g2)
        await emu.control.send_message("group", "grp")
        await emu.control.send_message("c2c", "c2c")
        f1 = await s1.recv_dispatch()
        assert f1["d"]["guild_id"] == g1
        f0 = [await s0.recv_dispatch() for _ in range(3)]
        assert [f["t"] for f in f0] == ["AT_MESSAGE_CREATE", "GROUP_AT_MESSAGE_CREATE", "C2C_MESSAGE_CREATE"]
        assert f0[0]["d"]["guild_id"] == g2
        sessions = (await emu.control.sessions())["sessions"]
        assert sorted(s["dispatched"] for s in sessions) == [1, 3]


async def test_session_start_limit_counts_down_and_refuses(http) -> None:
    async with open_emulator(session_start_total=2, session_limit_close_code=4008) as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        h = {"Authorization": f"QQBot {tok}"}
        from trio_websocket import open_websocket_url

        async def remaining() -> int:
            r = await http.get(e.api_url + "/gateway/bot", headers=h)
            return r.json()["session_start_limit"]["remaining"]

        assert await remaining() == 2
        for left in (1, 0):
            async with open_websocket_url(e.gateway_url) as ws:
                gw = RawGateway(ws)
                await gw.recv()
                assert (await gw.identify(f"QQBot {tok}"))["t"] == "READY"
            assert await remaining() == left
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            await gw.send({"op": 2, "d": {"token": f"QQBot {tok}", "intents": 1}})
            assert await gw.closed_code() == 4008


async def test_client_close_codes_keep_the_session(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        await gw.ws.aclose(code=4004)  # a client may close with any code: the session stays
    async with gateway() as gw:
        await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 1}})
        assert (await gw.recv_dispatch())["t"] == "RESUMED"


async def test_a_client_that_stops_reading_is_closed_and_nothing_blocks(http) -> None:
    async with open_emulator(heartbeat_interval_ms=200, replay_buffer=100) as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        from trio_websocket import open_websocket_url
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            sid = (await gw.identify(f"QQBot {tok}"))["d"]["session_id"]
            # stop reading and heartbeating; push far more than the socket buffers hold
            with trio.fail_after(20):
                await e.control.send_burst(15000, "group", content="x" * 400)
            sessions = {s["session_id"]: s for s in (await e.control.sessions())["sessions"]}
            assert sessions[sid]["connected"] is False and sessions[sid]["seq"] == 15001
            assert (await e.control.info())["appid"] == e.appid  # still serving


async def test_every_close_code_of_the_table_and_its_resume_rule(emu: Emulator, gateway, token: str) -> None:
    from qgactor.qq.protocol import CLOSE_CODES
    for code, info in CLOSE_CODES.items():
        async with gateway() as gw:
            sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
            await emu.control.close(code, session_id=sid)
            assert await gw.closed_code() == code
        async with gateway() as gw:
            await gw.send({"op": 6, "d": {"token": f"QQBot {token}", "session_id": sid, "seq": 1}})
            answer = await gw.recv()
            if info.can_resume:
                assert answer["t"] == "RESUMED", code
            else:
                assert answer == {"op": 9, "d": False}, code
