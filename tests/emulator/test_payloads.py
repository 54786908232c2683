"""Injected event payloads carry the fields clients require (spec 4.3, 8.7)."""

from __future__ import annotations

from qgactor.emulator import Emulator

BOB = "144115218181000002"


async def test_guild_message_fields_mentions_and_escaping(emu: Emulator) -> None:
    ev = await emu.control.send_message("guild", "1 < 2 & 3 > 0", user="alice", mentions=["bob"])
    d = ev["d"]
    assert ev["t"] == "AT_MESSAGE_CREATE" and ev["id"].startswith("AT_MESSAGE_CREATE:")
    assert {"id", "channel_id", "guild_id", "content", "timestamp", "author", "member", "seq"} <= set(d)
    assert d["author"]["id"] == "144115218181000001" and d["author"]["bot"] is False
    bot = emu.world.bot.id
    assert d["content"] == f"<@!{bot}> <@!{BOB}> 1 &lt; 2 &amp; 3 &gt; 0"
    assert [m["id"] for m in d["mentions"]] == [bot, BOB]
    assert "joined_at" in d["member"] and d["timestamp"].endswith("+08:00")
    plain = await emu.control.send_message("guild", "hi", at_bot=False, channel="100011")
    assert plain["t"] == "MESSAGE_CREATE" and plain["d"]["content"] == "hi" and plain["d"]["channel_id"] == "100011"


async def test_group_and_c2c_fields_nonebot_requires(emu: Emulator) -> None:
    g = (await emu.control.send_message("group", "yo", user="carol"))["d"]
    assert g["group_id"] == g["group_openid"] == "C9F778FE6ADF9D1D1DBE395BF744A33A"
    a = g["author"]
    assert {"id", "bot", "member_openid", "member_role"} <= set(a) and a["member_role"] == "admin"
    assert g["content"] == " yo" and g["message_scene"]["ext"][0].startswith("msg_idx=REFIDX_")
    assert g["mentions"][0]["is_you"] is True
    plain = await emu.control.send_message("group", "all", at_bot=False)
    assert plain["t"] == "GROUP_MESSAGE_CREATE" and plain["d"]["content"] == "all"
    c = (await emu.control.send_message("c2c", "dm me", user="bob"))["d"]
    assert c["author"]["id"] == c["author"]["user_openid"] == "B0B00000000000000000000000000002"
    assert c["id"].startswith("ROBOT1.0_") and c["content"] == "dm me"


async def test_unknown_places_are_refused(emu: Emulator) -> None:
    from qgactor.emulator import ControlError
    import pytest
    for kw in ({"channel": "999"}, {"guild": "1"}):
        with pytest.raises(ControlError) as info:
            await emu.control.send_message("guild", "x", **kw)
        assert info.value.status == 400
    with pytest.raises(ControlError):
        await emu.control.send_message("group", "x", group="NOPE")


async def test_seq_in_channel_counts_per_channel(emu: Emulator) -> None:
    a1 = (await emu.control.send_message("guild", "a", channel="100010"))["d"]
    b1 = (await emu.control.send_message("guild", "b", channel="100011"))["d"]
    a2 = (await emu.control.send_message("guild", "a", channel="100010"))["d"]
    assert (a1["seq"], b1["seq"], a2["seq"]) == (1, 1, 2) and a2["seq_in_channel"] == "2"


async def test_private_bots_can_get_at_messages_as_message_create_too(http) -> None:
    from qgactor.emulator import open_emulator
    from trio_websocket import open_websocket_url
    from emu_helpers import RawGateway
    async with open_emulator(at_messages_also_message_create=True) as e:
        tok = (await http.post(e.token_url, json={"appId": e.appid, "clientSecret": e.secret})).json()["access_token"]
        async with open_websocket_url(e.gateway_url) as ws:
            gw = RawGateway(ws)
            await gw.recv()
            await gw.identify(f"QQBot {tok}", intents=(1 << 9) | (1 << 30))
            sent = await e.control.send_message("guild", "twice")
            first, second = await gw.recv_dispatch(), await gw.recv_dispatch()
            assert (first["t"], second["t"]) == ("AT_MESSAGE_CREATE", "MESSAGE_CREATE")
            assert first["d"]["id"] == second["d"]["id"] == sent["message_id"] and first["id"] != second["id"]
