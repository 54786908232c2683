"""Passive-reply rules (spec 6.10) and the outbox."""

from __future__ import annotations

import httpx
import pytest

from qgactor.emulator import ControlError, Emulator, open_emulator

GROUP = "C9F778FE6ADF9D1D1DBE395BF744A33A"
ALICE_OPENID = "A11CE000000000000000000000000001"


async def _group_reply(http, emu, auth, msg_id, seq=1, content="ok"):
    return await http.post(f"{emu.api_url}/v2/groups/{GROUP}/messages", headers=auth,
                           json={"msg_type": 0, "content": content, "msg_id": msg_id, "msg_seq": seq})


async def test_group_reply_rules(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    sent = await emu.control.send_message("group", "hi", group=GROUP)
    mid = sent["message_id"]
    for seq in range(1, 6):
        r = await _group_reply(http, emu, auth, mid, seq)
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"id", "timestamp"} and isinstance(r.json()["timestamp"], int)
    dup = await _group_reply(http, emu, auth, mid, 3)
    assert dup.status_code == 400 and dup.json()["code"] == 40054005
    sixth = await _group_reply(http, emu, auth, mid, 6)
    assert sixth.status_code == 400 and sixth.json()["code"] == 22009
    replies = await emu.control.outbox(reply_to=mid)
    assert [e["msg_seq"] for e in replies] == [1, 2, 3, 4, 5]
    assert all(e["reply_to"]["content"] == " hi" and e["scene"] == "group" for e in replies)
    rejected = await emu.control.outbox(reply_to=mid, accepted=False)
    assert [e["response"]["code"] for e in rejected] == [40054005, 22009]


async def test_reply_windows_per_scene(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    g = await emu.control.send_message("group", "g")
    c = await emu.control.send_message("c2c", "c", user="alice")
    gd = await emu.control.send_message("guild", "x")
    await emu.control.advance_clock(301)  # group and guild windows (5 min) are over, C2C (60 min) is not
    r = await _group_reply(http, emu, auth, g["message_id"])
    assert r.status_code == 400 and r.json()["code"] == 304027
    r = await http.post(f"{emu.api_url}/channels/{gd['d']['channel_id']}/messages", headers=auth,
                        json={"content": "late", "msg_id": gd["message_id"]})
    assert r.status_code == 400 and r.json()["code"] == 304027
    r = await http.post(f"{emu.api_url}/v2/users/{ALICE_OPENID}/messages", headers=auth,
                        json={"msg_type": 0, "content": "ok", "msg_id": c["message_id"]})
    assert r.status_code == 200
    await emu.control.advance_clock(3300)
    r = await http.post(f"{emu.api_url}/v2/users/{ALICE_OPENID}/messages", headers=auth,
                        json={"msg_type": 0, "content": "late", "msg_id": c["message_id"], "msg_seq": 2})
    assert r.status_code == 400 and r.json()["code"] == 304027


async def test_reply_ids_must_belong_to_the_target(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    c = await emu.control.send_message("c2c", "c")
    r = await _group_reply(http, emu, auth, c["message_id"])  # a C2C msg_id used in a group
    assert r.status_code == 400 and r.json()["code"] == 304026
    r = await _group_reply(http, emu, auth, "made-up")
    assert r.status_code == 400 and r.json()["code"] == 304026
    ok = await _group_reply(http, emu, auth, (await emu.control.send_message("group", "x"))["message_id"])
    own = ok.json()["id"]
    r = await _group_reply(http, emu, auth, own)
    assert r.status_code == 400 and r.json()["code"] == 50045


async def test_event_id_replies(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    ev = await emu.control.inject_event("GROUP_ADD_ROBOT", {"group_openid": GROUP})
    r = await http.post(f"{emu.api_url}/v2/groups/{GROUP}/messages", headers=auth,
                        json={"msg_type": 0, "content": "thanks", "event_id": ev["id"]})
    assert r.status_code == 200, r.text
    entry = await emu.control.wait_for_reply(ev["id"], timeout=1)
    assert entry["event_id"] == ev["id"] and entry["reply_to"]["event"] == "GROUP_ADD_ROBOT"
    # guild: event_id of a member join, replied in a channel of that guild
    ev = await emu.control.inject_event("GUILD_MEMBER_ADD")
    r = await http.post(f"{emu.api_url}/channels/100010/messages", headers=auth,
                        json={"content": "welcome", "event_id": ev["id"]})
    assert r.status_code == 200, r.text


async def test_dm_flow_and_guild_message_shape(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    dm = await emu.control.send_message("dm", "psst", user="bob")
    d = dm["d"]
    assert d["direct_message"] is True and d["src_guild_id"] and d["author"]["username"] == "bob"
    r = await http.post(f"{emu.api_url}/dms/{d['guild_id']}/messages", headers=auth,
                        json={"content": "hello bob", "msg_id": dm["message_id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["guild_id"] == d["guild_id"] and body["author"]["bot"] is True
    reply = await emu.control.wait_for_reply(dm["message_id"], timeout=1)
    assert reply["scene"] == "dm" and reply["content"] == "hello bob"
    # POST /users/@me/dms returns the same session
    r = await http.post(f"{emu.api_url}/users/@me/dms", headers=auth,
                        json={"recipient_id": "144115218181000002", "source_guild_id": "18700000000001"})
    assert r.json()["guild_id"] == d["guild_id"]


async def test_proactive_quota_and_policies(http: httpx.AsyncClient) -> None:
    async with open_emulator(proactive="quota") as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        h = {"Authorization": f"QQBot {tok}"}
        codes = []
        for i in range(5):
            r = await http.post(f"{e.api_url}/v2/groups/{GROUP}/messages", headers=h,
                                json={"msg_type": 0, "content": f"push {i}"})
            codes.append(r.status_code)
        assert codes == [200, 200, 200, 200, 400]
    async with open_emulator(proactive="deny") as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        r = await http.post(f"{e.api_url}/channels/100010/messages", headers={"Authorization": f"QQBot {tok}"},
                            json={"content": "push"})
        assert r.status_code == 400 and r.json()["code"] == 304045


async def test_channel_rate_limit(http: httpx.AsyncClient) -> None:
    async with open_emulator(channel_rate_limit=2, proactive="allow") as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        statuses = []
        for _ in range(3):
            r = await http.post(f"{e.api_url}/channels/100011/messages", headers={"Authorization": f"QQBot {tok}"},
                                json={"content": "spam"})
            statuses.append((r.status_code, r.json().get("code")))
        assert statuses[:2] == [(200, None), (200, None)] and statuses[2] == (429, 20028)


async def test_wait_for_reply_times_out_with_408(emu: Emulator) -> None:
    with pytest.raises(ControlError) as info:
        await emu.control.wait_for_reply("nothing", timeout=0.1)
    assert info.value.status == 408


async def test_outbox_filters_and_clear(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    a = await emu.control.send_message("group", "a")
    b = await emu.control.send_message("c2c", "b")
    await _group_reply(http, emu, auth, a["message_id"], content="to a")
    await http.post(f"{emu.api_url}/v2/users/{ALICE_OPENID}/messages", headers=auth,
                    json={"msg_type": 0, "content": "to b", "msg_id": b["message_id"]})
    assert [e["content"] for e in await emu.control.outbox()] == ["to a", "to b"]
    assert [e["content"] for e in await emu.control.outbox(scene="c2c")] == ["to b"]
    assert [e["content"] for e in await emu.control.outbox(contains="a")] == ["to a"]
    first = (await emu.control.outbox())[0]
    assert [e["content"] for e in await emu.control.outbox(after=first["n"])] == ["to b"]
    assert [e["content"] for e in await emu.control.outbox(target=GROUP)] == ["to a"]
    await emu.control.clear_outbox()
    assert await emu.control.outbox() == []


async def test_audit_flow(emu: Emulator, gateway, http: httpx.AsyncClient, auth, token) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}", intents=(1 << 27) | (1 << 30))
        msg = await emu.control.send_message("guild", "audit me")
        assert (await gw.recv_dispatch())["t"] == "AT_MESSAGE_CREATE"
        await emu.control.audit(2, result="pass")
        r = await http.post(f"{emu.api_url}/channels/100010/messages", headers=auth,
                            json={"content": "held", "msg_id": msg["message_id"]})
        assert r.status_code == 202 and r.json()["code"] == 304024
        audit_id = r.json()["data"]["message_audit"]["audit_id"]
        ev = await gw.recv_dispatch()
        assert ev["t"] == "MESSAGE_AUDIT_PASS" and ev["d"]["audit_id"] == audit_id and ev["d"]["message_id"]
        await emu.control.audit(1, result="reject")
        r = await http.post(f"{emu.api_url}/channels/100010/messages", headers=auth, json={"content": "push"})
        assert r.status_code == 202 and r.json()["code"] == 304023
        ev = await gw.recv_dispatch()
        assert ev["t"] == "MESSAGE_AUDIT_REJECT" and "message_id" not in ev["d"]
        r = await http.post(f"{emu.api_url}/channels/100010/messages", headers=auth,
                            json={"content": "normal", "msg_id": msg["message_id"]})
        assert r.status_code == 200


async def test_wait_for_reply_matches_message_and_event_ids_both_ways(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    a = await emu.control.send_message("group", "by event id")
    r = await http.post(f"{emu.api_url}/v2/groups/{GROUP}/messages", headers=auth,
                        json={"msg_type": 0, "content": "e", "event_id": a["event_id"]})
    assert r.status_code == 200, r.text
    assert (await emu.control.wait_for_reply(a["message_id"], timeout=1))["content"] == "e"
    b = await emu.control.send_message("group", "by msg id")
    await _group_reply(http, emu, auth, b["message_id"], content="m")
    entry = await emu.control.wait_for_reply(b["event_id"], timeout=1)
    assert entry["content"] == "m" and entry["reply_to"]["event_id"] == b["event_id"]


async def test_outbox_count_agrees_with_the_outbox_for_every_filter(emu: Emulator, http: httpx.AsyncClient, auth) -> None:
    assert await emu.control.outbox_count(accepted=None) == 0
    a = await emu.control.send_message("group", "a")
    b = await emu.control.send_message("c2c", "b")
    await _group_reply(http, emu, auth, a["message_id"], content="to a")
    await _group_reply(http, emu, auth, a["message_id"], content="dup")  # seq 1 again: refused
    await http.post(f"{emu.api_url}/v2/users/{ALICE_OPENID}/messages", headers=auth,
                    json={"msg_type": 0, "content": "to b", "msg_id": b["message_id"]})
    first = (await emu.control.outbox(accepted=None))[0]["n"]
    for filters in ({}, {"accepted": None}, {"accepted": False}, {"scene": "c2c"}, {"contains": "to"},
                    {"accepted": None, "after": first}):
        assert await emu.control.outbox_count(**filters) == len(await emu.control.outbox(**filters)), filters
    assert await emu.control.outbox_count(accepted=None) == 3
    with pytest.raises(ControlError, match="after must be an integer"):
        await emu.control._call("GET", "/outbox/count", params={"after": "x"})  # noqa: SLF001
