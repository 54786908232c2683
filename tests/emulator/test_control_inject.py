"""Faults against closing connections, the single websocket writer, batch publishing, raw
frames, and the byte-wise webhook seed (spec 5.2)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed

from qgactor.emulator import ControlError, Emulator, public_key_bytes, seed_from_secret
from qgactor.emulator.http import PlatformError
from qgactor.emulator.control import apply_fault

from emu_helpers import RawGateway


async def read_until_closed(gw: RawGateway, timeout: float = 5.0) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame until the server closes, and the close code."""
    frames = []
    with trio.fail_after(timeout):
        try:
            while True:
                frames.append(json.loads(await gw.ws.get_message()))
        except ConnectionClosed as exc:
            return frames, exc.reason.code


async def wait_until(predicate: Any, timeout: float = 3.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.005)


# ---------------------------------------------------------------------- faults on closing connections
async def test_op7_aimed_at_a_finished_connection_is_a_clean_no_op(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        conn = next(iter(emu.platform.connections))
    await wait_until(lambda: conn not in emu.platform.connections)
    # the race window seen in the chaos test: the connection's tasks are done but a fault
    # handler still finds it (it used to answer 500 "Nursery is closed to new arrivals")
    emu.platform.connections.add(conn)
    try:
        for kind in ("reconnect", "invalid_session", "drop"):
            hit = await emu.control.fault(kind)
            assert hit["connections"] == 0 and hit["closing"] == 1, hit
        hit = await emu.control.close(4009)
        assert hit["connections"] == 0 and hit["closing"] == 1
    finally:
        emu.platform.connections.discard(conn)
    # the session stayed resumable: nothing was done to it
    assert any(s["session_id"] == sid for s in (await emu.control.sessions())["sessions"])


async def test_faults_aimed_at_a_closing_session_answer_409(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        # close then op 7 back to back (no checkpoint between them): the second finds it closing
        assert apply_fault(emu.platform, {"kind": "close", "code": 4000, "session_id": sid})["connections"] == 1
        with pytest.raises(PlatformError) as err:
            apply_fault(emu.platform, {"kind": "reconnect", "session_id": sid})
        assert err.value.status == 409 and "closing" in err.value.message
        untargeted = apply_fault(emu.platform, {"kind": "reconnect"})
        assert untargeted == {"kind": "reconnect", "connections": 0, "sessions": [], "closing": 1}
        frames, code = await read_until_closed(gw)
        assert code == 4000 and all(f["op"] != 7 for f in frames), frames
    # over HTTP the 409 is a ControlError with the platform's error shape
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        conn = next(c for c in emu.platform.connections if c.session and c.session.session_id == sid)
        conn.closing = True  # hold the "closing" state while the HTTP call is served
        with pytest.raises(ControlError) as cerr:
            await emu.control.reconnect(session_id=sid)
        assert cerr.value.status == 409 and cerr.value.body["code"] == 409
        assert "closing" in cerr.value.body["message"]
        conn.close_now(4000, "test")
        assert (await read_until_closed(gw))[1] == 4000


async def test_op7_then_client_silence_closes_4009(emu: Emulator, gateway, token: str) -> None:
    emu.platform.config.reconnect_close_after = 0.2
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        hit = await emu.control.reconnect()
        assert hit["connections"] == 1
        frames, code = await read_until_closed(gw)
        assert [f["op"] for f in frames if f["op"] != 11] == [7] and code == 4009


# ---------------------------------------------------------------------- one writer per websocket
async def test_drop_during_a_burst_never_races_the_writer(emu: Emulator, gateway, token: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    for round_no in range(5):
        async with gateway() as gw:
            await gw.identify(f"QQBot {token}")
            await emu.control.send_message("group", "warm up")
            await gw.recv_dispatch()
            # the drop and new frames in the same scheduler tick: the frames must not be
            # written while the transport is being torn down (it raised BusyResourceError
            # inside the ASGI app: "Error in ASGI Framework")
            assert apply_fault(emu.platform, {"kind": "drop"})["connections"] == 1
            for i in range(round_no * 3 + 1):
                await emu.platform.publish("GROUP_AT_MESSAGE_CREATE", {"id": f"m{i}", "content": "x"})
            with trio.fail_after(5):
                try:
                    while True:
                        await gw.ws.get_message()
                except ConnectionClosed:
                    pass
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() + str(r.exc_info) for r in errors]
    assert (await emu.control.info())["appid"] == emu.appid


# ---------------------------------------------------------------------- batch publishing
async def test_publish_batch_from_a_list_in_order_with_ids(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        events = [{"name": "AT_MESSAGE_CREATE", "data": {"id": f"m{i}", "content": f"c{i}"}, "id": f"AT:{i}"}
                  for i in range(5)]
        events.append(events[2])  # a re-push with the same envelope id
        out = await emu.control.publish_batch(events)
        assert out == {"count": 6, "first_event_id": "AT:0", "last_event_id": "AT:2", "deliveries": 6}
        got = [await gw.recv_dispatch() for _ in range(6)]
        assert [f["id"] for f in got] == ["AT:0", "AT:1", "AT:2", "AT:3", "AT:4", "AT:2"]
        assert [f["d"]["content"] for f in got] == ["c0", "c1", "c2", "c3", "c4", "c2"]
        assert [f["s"] for f in got] == list(range(2, 8))
        # data is merged over a realistic default payload (unless raw)
        await emu.control.publish_batch([{"name": "GUILD_MEMBER_ADD", "data": {"nick": "zed"}},
                                         {"name": "GUILD_MEMBER_ADD", "data": [1], "raw": True}])
        merged, raw = await gw.recv_dispatch(), await gw.recv_dispatch()
        assert merged["d"]["nick"] == "zed" and merged["d"]["guild_id"] and merged["d"]["user"]["id"]
        assert raw["d"] == [1]


async def test_publish_batch_from_a_template(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        template = {"name": "AT_MESSAGE_CREATE", "id": "AT_MESSAGE_CREATE:{i}",
                    "data": {"id": "msg-{i}", "content": "n={i} {json}", "channel_id": "100010"}}
        out = await emu.control.publish_batch(count=300, template=template)
        assert out["count"] == 300 and out["deliveries"] == 300
        assert out["first_event_id"] == "AT_MESSAGE_CREATE:0" and out["last_event_id"] == "AT_MESSAGE_CREATE:299"
        got = [await gw.recv_dispatch() for _ in range(300)]
        assert [f["d"]["content"] for f in got] == [f"n={i} {{json}}" for i in range(300)]
        assert [f["d"]["id"] for f in got][-1] == "msg-299"


@pytest.mark.parametrize("body, needle", [
    ({"events": [{"name": "AT_MESSAGE_CREATE"}, {"name": "lower"}]}, "events[1]"),
    ({"events": [{"name": "AT_MESSAGE_CREATE"}, 5]}, "events[1]"),
    ({"events": []}, "non-empty"),
    ({"count": 0, "template": {"name": "X"}}, "count"),
    ({"count": 3, "template": "x"}, "template"),
    ({"count": 2, "template": {"name": "AT_MESSAGE_CREATE", "data": []}}, "data must be an object"),
    ({"events": [{"name": "AT_MESSAGE_CREATE", "id": 5}]}, "id must be a string"),
])
async def test_publish_batch_rejects_bad_input_and_publishes_nothing(emu: Emulator, http, body: dict,
                                                                      needle: str) -> None:
    before = emu.platform.published
    r = await http.post(emu.base_url + "/_emulator/publish", json=body)
    assert r.status_code == 400 and r.json()["code"] == 12002 and needle in r.json()["message"], r.text
    assert emu.platform.published == before


# ---------------------------------------------------------------------- raw frames
async def test_raw_frames_reach_the_client_as_is(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        sid = (await gw.identify(f"QQBot {token}"))["d"]["session_id"]
        for text in ("{not json", '{"op": 42, "d": null}', '{"op": 0, "t": "NO_SUCH_EVENT", "s": 99, "d": 1}', ""):
            hit = await emu.control.send_raw_frame(text, session_id=sid)
            assert hit["connections"] == 1 and hit["sessions"] == [sid]
            with trio.fail_after(3):
                assert await gw.ws.get_message() == text
        # raw frames take no seq: the next dispatch continues the numbering after READY
        await emu.control.send_message("group", "after")
        assert (await gw.recv_dispatch())["s"] == 2
        with pytest.raises(ControlError) as err:
            await emu.control.send_raw_frame("x", session_id="nope")
        assert err.value.status == 404


async def test_raw_frames_narrow_by_shard_and_validate(emu: Emulator, gateway, token: str, http) -> None:
    async with gateway() as gw0, gateway() as gw1:
        await gw0.identify(f"QQBot {token}", shard=[0, 2])
        await gw1.identify(f"QQBot {token}", shard=[1, 2])
        hit = await emu.control.send_raw_frame("only-1", shard=1)
        assert hit["connections"] == 1
        with trio.fail_after(3):
            assert await gw1.ws.get_message() == "only-1"
        assert (await emu.control.send_raw_frame("both"))["connections"] == 2
        with trio.fail_after(3):
            assert await gw0.ws.get_message() == "both" and await gw1.ws.get_message() == "both"
    r = await http.post(emu.base_url + "/_emulator/frames", json={"text": 5})
    assert r.status_code == 400 and "text must be a string" in r.json()["message"]


# ---------------------------------------------------------------------- webhook seed (spec 5.2)
def go_seed(secret: str) -> bytes:
    """The official Go derivation, transcribed independently: byte string doubling, byte slice."""
    seed = secret.encode("utf-8")  # a Go string is its UTF-8 bytes; len() counts bytes
    while len(seed) < 32:
        seed = seed + seed  # strings.Repeat(seed, 2)
    return bytes(seed[i] for i in range(32))  # seed[:32] slices bytes


@pytest.mark.parametrize("secret, expected_hex", [
    # 密钥ab = e5 af 86 e9 92 a5 61 62 (8 bytes) -> four copies
    ("密钥ab", "e5af86e992a56162" * 4),
    # 11 CJK characters = 33 bytes: no repetition, the cut falls inside the last character
    ("机器人机器人机器人机器", "e69cbae599a8e4baba" * 3 + "e69cbae599"),
    # 3 bytes: doubled to 48 bytes, cut inside a character
    ("é1", "c3a931" * 10 + "c3a9"),
])
def test_seed_is_derived_byte_wise_for_non_ascii_secrets(secret: str, expected_hex: str) -> None:
    expected = bytes.fromhex(expected_hex)
    assert go_seed(secret) == expected
    assert seed_from_secret(secret) == expected
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    pub = Ed25519PrivateKey.from_private_bytes(expected).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public_key_bytes(secret) == pub


# ---------------------------------------------------------------------- batched frame writes
async def test_queued_frames_go_out_in_batched_writes(emu: Emulator, gateway, token: str) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}")
        conn = next(iter(emu.platform.connections))
        writes: list[int] = []
        write = conn.ws._write

        async def counting_write(data: bytes) -> None:
            writes.append(len(data))
            await write(data)

        conn.ws._write = counting_write  # type: ignore[method-assign]
        # a burst larger than one batch arrives complete, in order, numbered without gaps
        out = await emu.control.publish_batch(count=500, template={"name": "GROUP_AT_MESSAGE_CREATE",
                                                                   "data": {"content": "{i}"}})
        assert out["deliveries"] == 500
        got = [await gw.recv_dispatch() for _ in range(500)]
        assert [f["d"]["content"] for f in got] == [str(i) for i in range(500)]
        assert [f["s"] for f in got] == list(range(2, 502))
        # queued frames share transport writes (at most MAX_BATCH_FRAMES per write)
        from qgactor.emulator.gateway import MAX_BATCH_FRAMES
        assert 500 / MAX_BATCH_FRAMES <= len(writes) < 100, len(writes)


# ---------------------------------------------------------------------- bursts over several channels
async def test_a_burst_spreads_guild_messages_round_robin_over_the_given_channels(emu: Emulator) -> None:
    texts = [c["id"] for g in emu.platform.world.guilds.values() for c in g.channels.values() if c["type"] == 0]
    assert len(texts) >= 2, "the default world needs two text channels for this test"
    chans = texts[:2]
    out = await emu.control.send_burst(5, "guild", "spread", channels=chans)
    assert out["count"] == 5
    sent = [e for e in await emu.control.events() if (e["d"].get("content") or "").find("spread ") >= 0]
    by_content = {e["d"]["content"].rsplit(" ", 1)[-1]: e["d"]["channel_id"] for e in sent}
    assert by_content == {str(i): chans[i % 2] for i in range(5)}
    for bad in ([], [""], "C1", [3]):
        with pytest.raises(ControlError, match="channels must be a non-empty list"):
            await emu.control.send_burst(2, "guild", "bad", channels=bad)
