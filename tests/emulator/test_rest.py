"""REST endpoint groups (spec 6), error shapes, bad input and alias tolerances (spec 8.8/8.9)."""

from __future__ import annotations

import json

import httpx
import pytest
import trio

from qgactor.emulator import Emulator

from emu_helpers import RawGateway

G1 = "18700000000001"
CH = "100010"
ALICE = "144115218181000001"
BOB = "144115218181000002"
GROUP = "C9F778FE6ADF9D1D1DBE395BF744A33A"


def _is_error(r: httpx.Response, status: int, code: int | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-tps-trace-id"]
    body = r.json()
    assert isinstance(body["code"], int) and isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body


async def test_user_guild_and_gateway_endpoints(emu: Emulator, http, auth) -> None:
    me = (await http.get(f"{emu.api_url}/users/@me", headers=auth)).json()
    assert me["id"] == emu.world.bot.id and "union_openid" in me
    guilds = (await http.get(f"{emu.api_url}/users/@me/guilds", headers=auth)).json()
    assert {g["id"] for g in guilds} == {G1, "18700004194305"} and all("owner" in g for g in guilds)
    one = (await http.get(f"{emu.api_url}/users/@me/guilds", headers=auth, params={"limit": 1})).json()
    assert len(one) == 1
    g = (await http.get(f"{emu.api_url}/guilds/{G1}", headers=auth)).json()
    assert g["name"] == "Emulator Guild" and g["member_count"] == 4
    gw = (await http.get(f"{emu.api_url}/gateway", headers=auth)).json()
    assert gw == {"url": emu.gateway_url}
    _is_error(await http.get(f"{emu.api_url}/guilds/1", headers=auth), 404, 10004)


async def test_channels_crud_with_aliases_fires_events(emu: Emulator, gateway, http, auth, token) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}", intents=1)
        chans = (await http.get(f"{emu.api_url}/guilds/{G1}/channels", headers=auth)).json()
        assert all("position" in c for c in chans) and CH in {c["id"] for c in chans}
        # botpy sends "subtype", nonebot "speaking_permission" (spec 8.9)
        r = await http.post(f"{emu.api_url}/guilds/{G1}/channels", headers=auth,
                            json={"name": "new", "type": 0, "subtype": 1, "position": 9, "speaking_permission": 2})
        assert r.status_code == 200, r.text
        ch = r.json()
        assert ch["sub_type"] == 1 and ch["speak_permission"] == 2
        ev = await gw.recv_dispatch()
        assert ev["t"] == "CHANNEL_CREATE" and ev["d"]["id"] == ch["id"] and "position" in ev["d"]
        r = await http.patch(f"{emu.api_url}/channels/{ch['id']}", headers=auth, json={"name": "renamed"})
        assert r.json()["name"] == "renamed"
        assert (await gw.recv_dispatch())["t"] == "CHANNEL_UPDATE"
        assert (await http.get(f"{emu.api_url}/channels/{ch['id']}", headers=auth)).json()["name"] == "renamed"
        r = await http.delete(f"{emu.api_url}/channels/{ch['id']}", headers=auth)
        assert r.status_code == 200
        assert (await gw.recv_dispatch())["t"] == "CHANNEL_DELETE"
        _is_error(await http.get(f"{emu.api_url}/channels/{ch['id']}", headers=auth), 404, 10003)


async def test_members_roles_permissions(emu: Emulator, http, auth) -> None:
    base = emu.api_url
    members = (await http.get(f"{base}/guilds/{G1}/members", headers=auth, params={"limit": 400})).json()
    assert {m["user"]["id"] for m in members} >= {ALICE, BOB} and all("joined_at" in m for m in members)
    page = (await http.get(f"{base}/guilds/{G1}/members", headers=auth, params={"limit": 1, "after": ALICE})).json()
    assert page[0]["user"]["id"] == BOB
    m = (await http.get(f"{base}/guilds/{G1}/members/{ALICE}", headers=auth)).json()
    assert m["nick"] == "Alice" and m["user"]["union_openid"]
    roles = (await http.get(f"{base}/guilds/{G1}/roles", headers=auth)).json()
    assert roles["role_num_limit"] == "30" and {"1", "2", "4", "5", "10001"} <= {r["id"] for r in roles["roles"]}
    new = (await http.post(f"{base}/guilds/{G1}/roles", headers=auth, json={"name": "vip", "color": 1, "hoist": 1})).json()
    rid = new["role_id"]
    assert new["role"]["name"] == "vip"
    patched = (await http.patch(f"{base}/guilds/{G1}/roles/{rid}", headers=auth, json={"name": "vvip"})).json()
    assert patched["role"]["name"] == "vvip" and patched["guild_id"] == G1
    # botpy sends {"channel": {"id": null}} for ordinary roles (spec 8.9)
    r = await http.put(f"{base}/guilds/{G1}/members/{ALICE}/roles/{rid}", headers=auth, json={"channel": {"id": None}})
    assert r.status_code == 204 and r.content == b""
    rm = (await http.get(f"{base}/guilds/{G1}/roles/{rid}/members", headers=auth, params={"limit": 10})).json()
    assert [x["user"]["id"] for x in rm["data"]] == [ALICE] and rm["next"] == ""
    _is_error(await http.put(f"{base}/guilds/{G1}/members/{ALICE}/roles/5", headers=auth, json={}), 400)
    assert (await http.delete(f"{base}/guilds/{G1}/members/{ALICE}/roles/{rid}", headers=auth)).status_code == 204
    assert (await http.delete(f"{base}/guilds/{G1}/roles/{rid}", headers=auth)).status_code == 204
    perms = (await http.get(f"{base}/channels/{CH}/members/{ALICE}/permissions", headers=auth)).json()
    assert perms == {"channel_id": CH, "user_id": ALICE, "permissions": "4"}
    r = await http.put(f"{base}/channels/{CH}/members/{ALICE}/permissions", headers=auth, json={"add": "1", "remove": "4"})
    assert r.status_code == 204
    perms = (await http.get(f"{base}/channels/{CH}/members/{ALICE}/permissions", headers=auth)).json()
    assert perms["permissions"] == "1"
    rp = (await http.get(f"{base}/channels/{CH}/roles/1/permissions", headers=auth)).json()
    assert rp["role_id"] == "1" and rp["permissions"].isdigit()


async def test_mute_with_none_strings_and_batch(emu: Emulator, http, auth) -> None:
    # nonebot sends str(None) for the unset field (spec 8.9)
    r = await http.patch(f"{emu.api_url}/guilds/{G1}/mute", headers=auth,
                         json={"mute_end_timestamp": "None", "mute_seconds": "60"})
    assert r.status_code == 204
    r = await http.patch(f"{emu.api_url}/guilds/{G1}/mute", headers=auth,
                         json={"mute_seconds": "60", "user_ids": [ALICE, BOB]})
    assert r.status_code == 200 and r.json() == {"user_ids": [ALICE, BOB]}
    r = await http.patch(f"{emu.api_url}/guilds/{G1}/members/{BOB}/mute", headers=auth, json={"mute_seconds": "0"})
    assert r.status_code == 204
    _is_error(await http.patch(f"{emu.api_url}/guilds/{G1}/mute", headers=auth, json={}), 400, 12002)


async def test_messages_get_pins_reactions_delete(emu: Emulator, http, auth) -> None:
    sent = await emu.control.send_message("guild", "pin me", channel=CH)
    mid = sent["message_id"]
    got = (await http.get(f"{emu.api_url}/channels/{CH}/messages/{mid}", headers=auth)).json()
    assert got["message"]["id"] == mid  # wrapped in {"message": ...} (spec 8.8)
    pins = (await http.put(f"{emu.api_url}/channels/{CH}/pins/{mid}", headers=auth, json={})).json()
    assert pins["message_ids"] == [mid]
    assert (await http.get(f"{emu.api_url}/channels/{CH}/pins", headers=auth)).json()["message_ids"] == [mid]
    assert (await http.delete(f"{emu.api_url}/channels/{CH}/pins/all", headers=auth)).status_code == 204
    rpath = f"{emu.api_url}/channels/{CH}/messages/{mid}/reactions/1/4"
    assert (await http.put(rpath, headers=auth)).status_code == 204
    _is_error(await http.put(rpath, headers=auth), 400, 620003)
    users = (await http.get(rpath, headers=auth)).json()
    assert [u["id"] for u in users["users"]] == [emu.world.bot.id] and users["is_end"] is True
    assert (await http.delete(rpath, headers=auth)).status_code == 204
    _is_error(await http.delete(rpath, headers=auth), 400, 620004)
    r = await http.post(f"{emu.api_url}/channels/{CH}/messages", headers=auth,
                        json={"content": "reply", "msg_id": mid, "message_reference": {"message_id": mid}})
    own = r.json()["id"]
    assert r.json()["message_reference"]["message_id"] == mid
    assert (await http.delete(f"{emu.api_url}/channels/{CH}/messages/{own}", headers=auth)).status_code == 200
    _is_error(await http.get(f"{emu.api_url}/channels/{CH}/messages/{own}", headers=auth), 404)


async def test_schedules_with_body_on_get_and_reminder_alias(emu: Emulator, http, auth) -> None:
    sch = {"schedule": {"name": "meet", "start_timestamp": "1700000000000", "end_timestamp": "1700003600000",
                        "jump_channel_id": CH, "reminder_id": "2"}}  # botpy's reminder_id (spec 8.9)
    created = (await http.post(f"{emu.api_url}/channels/{CH}/schedules", headers=auth, json=sch)).json()
    assert created["remind_type"] == "2" and created["creator"]["user"]["bot"] is True
    listed = await http.request("GET", f"{emu.api_url}/channels/{CH}/schedules", headers=auth,
                                content=json.dumps({"since": 1690000000000}))
    assert [s["id"] for s in listed.json()] == [created["id"]]
    patched = await http.patch(f"{emu.api_url}/channels/{CH}/schedules/{created['id']}", headers=auth,
                               json={"schedule": {"name": "meet2"}})
    assert patched.json()["name"] == "meet2"
    assert (await http.delete(f"{emu.api_url}/channels/{CH}/schedules/{created['id']}", headers=auth)).status_code == 204


async def test_announces_audio_forum_api_permission_interactions(emu: Emulator, http, auth) -> None:
    a = (await http.post(f"{emu.api_url}/guilds/{G1}/announces", headers=auth,
                         json={"announces_type": 1, "recommend_channels": [{"channel_id": CH, "introduce": "hi"}]})).json()
    assert a["guild_id"] == G1 and a["announces_type"] == 1
    assert (await http.delete(f"{emu.api_url}/guilds/{G1}/announces/all", headers=auth)).status_code == 204
    assert (await http.post(f"{emu.api_url}/channels/100012/audio", headers=auth, json={"status": 0})).json() == {}
    assert (await http.put(f"{emu.api_url}/channels/100012/mic", headers=auth)).json() == {}
    t = (await http.put(f"{emu.api_url}/channels/100013/threads", headers=auth,
                        json={"title": "t", "content": "body", "format": 1})).json()
    assert t["task_id"] and t["create_time"].isdigit()
    threads = (await http.get(f"{emu.api_url}/channels/100013/threads", headers=auth)).json()
    assert threads["threads"][0]["thread_info"]["thread_id"] == t["task_id"]
    one = (await http.get(f"{emu.api_url}/channels/100013/threads/{t['task_id']}", headers=auth)).json()
    assert one["thread"]["thread_info"]["title"] == "t"
    perms = (await http.get(f"{emu.api_url}/guilds/{G1}/api_permission", headers=auth)).json()
    assert perms["apis"] and {"path", "method", "desc", "auth_status"} <= set(perms["apis"][0])
    d = (await http.post(f"{emu.api_url}/guilds/{G1}/api_permission/demand", headers=auth,
                         json={"channel_id": CH, "api_identify": {"path": "/guilds/{guild_id}/members/{user_id}",
                                                                  "method": "GET"}, "desc": "pls"})).json()
    assert d["guild_id"] == G1 and d["title"]
    assert (await http.put(f"{emu.api_url}/interactions/abc", headers=auth, json={"code": 0})).status_code == 204
    setting = (await http.get(f"{emu.api_url}/guilds/{G1}/message/setting", headers=auth)).json()
    assert setting["channel_ids"]


async def test_media_upload_and_send_with_extra_keys_and_recall(emu: Emulator, http, auth) -> None:
    up = await http.post(f"{emu.api_url}/v2/groups/{GROUP}/files", headers=auth,
                         json={"file_type": 1, "url": "https://example.invalid/a.png", "srv_send_msg": False})
    assert up.status_code == 200 and {"file_uuid", "file_info", "ttl"} <= set(up.json())
    msg = await emu.control.send_message("group", "pic please")
    # botpy passes the whole upload result as media (spec 8.9: extra keys inside media)
    r = await http.post(f"{emu.api_url}/v2/groups/{GROUP}/messages", headers=auth,
                        json={"msg_type": 7, "content": " ", "media": up.json(), "msg_id": msg["message_id"]})
    assert r.status_code == 200, r.text
    r2 = await http.delete(f"{emu.api_url}/v2/groups/{GROUP}/messages/{r.json()['id']}", headers=auth)
    assert r2.status_code == 200
    _is_error(await http.delete(f"{emu.api_url}/v2/groups/{GROUP}/messages/{msg['message_id']}", headers=auth), 400, 306008)
    direct = await http.post(f"{emu.api_url}/v2/users/A11CE000000000000000000000000001/files", headers=auth,
                             json={"file_type": 1, "url": "https://example.invalid/b.png", "srv_send_msg": True})
    assert direct.status_code == 200 and direct.json()["id"]


async def test_guild_send_multipart(emu: Emulator, http, auth) -> None:
    msg = await emu.control.send_message("guild", "img")
    files = {"file_image": ("a.png", b"\x89PNG....", "image/png"),
             "message_reference": (None, json.dumps({"message_reference": {"message_id": msg["message_id"]}}),
                                   "application/json")}
    r = await http.post(f"{emu.api_url}/channels/{CH}/messages", headers=auth, files=files,
                        data={"msg_id": msg["message_id"], "content": "look"})
    assert r.status_code == 200, r.text
    entry = await emu.control.wait_for_reply(msg["message_id"], timeout=1)
    assert entry["body"]["file_image"]["size"] == 8
    assert entry["body"]["message_reference"] == {"message_id": msg["message_id"]}


@pytest.mark.parametrize("method, path, body, status, code", [
    ("POST", f"/channels/{CH}/messages", b"{bad json", 400, 12002),
    ("POST", f"/channels/{CH}/messages", b"[]", 400, 12002),
    ("POST", f"/channels/{CH}/messages", b"", 400, 12002),
    ("POST", f"/channels/{CH}/messages", b'{"content": ""}', 400, 50006),
    ("POST", f"/channels/{CH}/messages", b'{"content": 5}', 400, 12002),
    ("POST", f"/channels/{CH}/messages", b'{"content": "x", "embed": "no"}', 400, 12002),
    ("POST", f"/v2/groups/{GROUP}/messages", b'{"content": "no type"}', 400, 12002),
    ("POST", f"/v2/groups/{GROUP}/messages", b'{"msg_type": 99, "content": "x"}', 400, 12002),
    ("POST", f"/v2/groups/{GROUP}/messages", b'{"msg_type": 0, "content": "x", "msg_seq": "abc"}', 400, 12002),
    ("POST", f"/v2/groups/{GROUP}/messages", b'{"msg_type": 7, "content": " "}', 400, 12002),
    ("POST", f"/v2/groups/{GROUP}/messages", b'{"msg_type": 0, "content": "x", "msg_id": 5}', 400, 12002),
    ("POST", "/v2/groups/NOPE/messages", b'{"msg_type": 0, "content": "x"}', 404, 10004),
    ("GET", f"/guilds/{G1}/members?limit=abc", b"", 400, 12002),
    ("GET", f"/guilds/{G1}/members?limit=9999", b"", 400, 12002),
    ("GET", "/no/such/route", b"", 404, 404),
    ("DELETE", "/users/@me", b"", 405, 405),
    ("POST", f"/guilds/{G1}/roles", b'{"name": {"x": 1}}', 400, 12002),
    ("POST", f"/guilds/{G1}/channels", b'{"name": "x", "type": "text"}', 400, 12002),
    ("PATCH", f"/guilds/{G1}/mute", b'{"mute_seconds": [1]}', 400, 12002),
    ("POST", f"/channels/{CH}/schedules", b'{"schedule": 1}', 400, 12002),
    ("POST", "/users/@me/dms", b'{"recipient_id": "1"}', 400, 12002),
])
async def test_bad_input_gets_platform_errors(emu: Emulator, http, auth, method, path, body, status, code) -> None:
    r = await http.request(method, emu.api_url + path, headers=auth | {"Content-Type": "application/json"},
                           content=body)
    _is_error(r, status, code)


async def test_oversized_and_garbage_bodies_do_not_hang(emu: Emulator, http, auth) -> None:
    with trio.fail_after(5):
        r = await http.post(f"{emu.api_url}/channels/{CH}/messages", headers=auth | {"Content-Type": "multipart/form-data; boundary=x"},
                            content=b"--x\r\ngarbage")
        assert r.status_code in (200, 400)
        r = await http.post(f"{emu.api_url}/channels/{CH}/messages", headers=auth, content=b"\xff\xfe\x00")
        _is_error(r, 400, 12002)
    # the server still answers afterwards
    assert (await http.get(f"{emu.api_url}/users/@me", headers=auth)).status_code == 200


async def test_rest_faults(emu: Emulator, http, auth) -> None:
    await emu.control.rest_fault(status=500, count=2, path_prefix="/users")
    codes = [(await http.get(f"{emu.api_url}/users/@me", headers=auth)).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    await emu.control.rest_fault(status=429, rate=1.0, count=1)
    r = await http.get(f"{emu.api_url}/guilds/{G1}", headers=auth)
    _is_error(r, 429)
    await emu.control.rest_fault(delay=0.3, count=1)
    start = trio.current_time()
    assert (await http.get(f"{emu.api_url}/users/@me", headers=auth)).status_code == 200
    assert trio.current_time() - start >= 0.3
    await emu.control.rest_fault(status=503, rate=0.5)
    results = [(await http.get(f"{emu.api_url}/users/@me", headers=auth)).status_code for _ in range(40)]
    assert 0 < results.count(503) < 40 and set(results) == {200, 503}
    await emu.control.clear_faults()
    assert (await http.get(f"{emu.api_url}/users/@me", headers=auth)).status_code == 200
    # token endpoint and control API are never faulted
    await emu.control.rest_fault(status=500)
    assert (await http.post(emu.token_url, json={"appId": emu.appid, "clientSecret": emu.secret})).status_code == 200
    assert (await emu.control.info())["appid"] == emu.appid


async def test_control_api_rejects_bad_input(emu: Emulator, http) -> None:
    base = emu.base_url + "/_emulator"
    for path, body in [("/messages", {"scene": "moon"}), ("/messages", {"user": "nobody"}),
                       ("/messages", {"content": 5}), ("/events", {"name": "lower"}),
                       ("/faults", {"kind": "explode"}), ("/faults", {"kind": "close", "code": "x"}),
                       ("/faults", {"kind": "rest", "status": 200}), ("/clock/advance", {"seconds": -1}),
                       ("/webhook", {"url": "ftp://x"})]:
        r = await http.post(base + path, json=body)
        _is_error(r, 400)
    _is_error(await http.post(base + "/messages", content=b"nope"), 400, 12002)
    _is_error(await http.get(base + "/nothing"), 404)


async def test_inject_any_event_with_defaults(emu: Emulator, gateway, token) -> None:
    async with gateway() as gw:
        await gw.identify(f"QQBot {token}", intents=(1 << 26) | (1 << 1) | (1 << 27) | (1 << 28) | (1 << 25))
        for name in ("INTERACTION_CREATE", "GUILD_MEMBER_ADD", "MESSAGE_AUDIT_PASS", "FORUM_THREAD_CREATE",
                     "FRIEND_ADD", "GROUP_MEMBER_ADD"):
            info = await emu.control.inject_event(name)
            if name == "GROUP_MEMBER_ADD":  # nonebot's 1<<24 bit: not subscribed here
                assert info["sessions"] == []
                continue
            f = await gw.recv_dispatch()
            assert f["t"] == name and f["id"] == info["id"]
        raw = await emu.control.inject_event("C2C_MSG_RECEIVE", {"openid": "X", "timestamp": 1}, raw=True)
        f = await gw.recv_dispatch()
        assert f["d"] == {"openid": "X", "timestamp": 1} and f["id"] == raw["id"]
    interaction = (await emu.control.events())[0]["d"]
    assert {"id", "type", "version", "timestamp", "scene", "chat_type", "application_id"} <= set(interaction)


async def test_group_members_url_link_and_message_list(emu: Emulator, http, auth) -> None:
    r = await http.post(f"{emu.api_url}/v2/groups/{GROUP}/members", headers=auth, json={"limit": 2})
    body = r.json()
    assert len(body["members"]) == 2 and body["next_index"] == 2
    assert all({"member_openid", "join_timestamp"} <= set(m) for m in body["members"])
    link = (await http.post(f"{emu.api_url}/v2/generate_url_link", headers=auth, json={"callback_data": "a b"})).json()
    assert link["url"].startswith("https://") and "callback_data=a%20b" in link["url"]
    await emu.control.send_message("guild", "one", channel="100011")
    await emu.control.send_message("guild", "two", channel="100011")
    msgs = (await http.get(f"{emu.api_url}/channels/100011/messages", headers=auth, params={"limit": 20})).json()
    assert [m["content"].split("> ", 1)[1] for m in msgs] == ["one", "two"]


async def test_media_file_info_must_come_from_the_files_api_of_the_same_kind(emu: Emulator, http, auth) -> None:
    msg = await emu.control.send_message("group", "x")
    body = {"msg_type": 7, "content": " ", "media": {"file_info": "made-up"}, "msg_id": msg["message_id"]}
    _is_error(await http.post(f"{emu.api_url}/v2/groups/{GROUP}/messages", headers=auth, json=body), 400, 304082)
    c2c_file = (await http.post(f"{emu.api_url}/v2/users/A11CE000000000000000000000000001/files", headers=auth,
                                json={"file_type": 1, "url": "https://example.invalid/c.png"})).json()
    body["media"] = {"file_info": c2c_file["file_info"]}
    r = await http.post(f"{emu.api_url}/v2/groups/{GROUP}/messages", headers=auth, json=body)
    _is_error(r, 400, 304082)
    assert "c2c" in r.json()["message"]


async def test_require_online_refuses_guild_sends_without_a_session(http) -> None:
    from qgactor.emulator import open_emulator
    from trio_websocket import open_websocket_url
    async with open_emulator(require_online=True, proactive="allow") as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        h = {"Authorization": f"QQBot {tok}"}
        _is_error(await http.post(f"{e.api_url}/channels/{CH}/messages", headers=h, json={"content": "x"}), 400, 304018)
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            await gw.identify(f"QQBot {tok}")
            r = await http.post(f"{e.api_url}/channels/{CH}/messages", headers=h, json={"content": "x"})
            assert r.status_code == 200
