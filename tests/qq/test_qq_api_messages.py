"""Message endpoints over real HTTP against the emulator: guild, DM, group, C2C, media, replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from qgactor.emulator import Emulator
from qgactor.qq import (
    ApiClient,
    BadRequest,
    C2CMessage,
    DuplicateMessage,
    Embed,
    GroupMessage,
    Image,
    Keyboard,
    Markdown,
    Message,
    NotFound,
    RateLimited,
    ReplyExpired,
    ReplyTarget,
    Scene,
    SentMessage,
    parse_event,
)

CHANNEL = "100010"
GROUP = "C9F778FE6ADF9D1D1DBE395BF744A33A"


async def _inbound(emu: Emulator, scene: str, content: str = "hello", **kw: object):
    sent = await emu.control.send_message(scene, content, **kw)
    return parse_event(sent["t"], sent["d"], event_id=sent["id"])


async def test_users_guilds_and_gateway(api: ApiClient, emu: Emulator) -> None:
    me = await api.get_me()
    assert me.id == (await emu.control.info())["bot"]["id"] and me.bot
    guilds = await api.get_me_guilds(limit=1)
    assert len(guilds) == 1
    every = [g async for g in api.iter_me_guilds(page_size=1)]
    assert [g.id for g in every] == [g["id"] for g in (await emu.control.info())["guilds"]]
    guild = await api.get_guild(every[0].id or "")
    assert guild.name == "Emulator Guild"
    assert (await api.get_gateway()).url == emu.gateway_url
    bot = await api.get_gateway_bot()
    assert bot.shards == 1 and bot.session_start_limit is not None and bot.session_start_limit.total == 1000
    setting = await api.get_message_setting(guild.id or "")
    assert isinstance(setting.channel_ids, list)
    with pytest.raises(NotFound) as info:
        await api.get_guild("nope")
    assert info.value.status == 404 and info.value.trace_id


async def test_guild_message_send_get_list_patch_delete(api: ApiClient, emu: Emulator) -> None:
    msg = await _inbound(emu, "guild", "hi")
    assert isinstance(msg, Message)
    sent = await api.post_message(CHANNEL, content="plain", msg_id=msg.id)
    assert isinstance(sent, Message) and sent.id and sent.channel_id == CHANNEL
    embed = await api.post_message(CHANNEL, embed=Embed("T", "p", fields=["x"]), msg_id=msg.id)
    assert embed.embeds and embed.embeds[0]["title"] == "T"
    got = await api.get_message(CHANNEL, sent.id or "")  # the emulator wraps it in {"message": ...}
    assert got.id == sent.id and got.content == "plain"
    listed = await api.get_messages(CHANNEL, limit=20)
    assert sent.id in {m.id for m in listed}
    md = await api.post_message(CHANNEL, markdown=Markdown(content="# a"), msg_id=msg.id)
    patched = await api.patch_message(CHANNEL, md.id or "", markdown=Markdown(content="# b"))
    assert patched.id == md.id
    await api.delete_message(CHANNEL, sent.id or "", hidetip=True)
    box = await emu.control.outbox(reply_to=msg.id)
    assert [e["content"] for e in box][:1] == ["plain"]
    with pytest.raises(BadRequest) as info:
        await api.post_message(CHANNEL, msg_id=msg.id, keyboard={"id": "1"})
    assert info.value.code == 50006


async def test_guild_image_upload_is_multipart(api: ApiClient, emu: Emulator, tmp_path: Path) -> None:
    msg = await _inbound(emu, "guild")
    file = tmp_path / "cat.png"
    file.write_bytes(b"\x89PNG fake image bytes")
    sent = await api.reply(msg, Image(path=file), "look", Keyboard(template_id="kb"))
    assert isinstance(sent, Message)
    entry = (await emu.control.wait_for_reply(msg.id))
    assert entry["body"]["file_image"] == {"filename": "cat.png", "size": file.stat().st_size}
    assert entry["body"]["content"] == "look" and entry["body"]["keyboard"] == {"id": "kb"}
    assert entry["body"]["msg_id"] == msg.id


async def test_dm_session_send_and_delete(api: ApiClient, emu: Emulator) -> None:
    info = await emu.control.info()
    alice = info["users"][0]["id"]
    session = await api.create_dms(alice, info["guilds"][0]["id"])
    assert session.guild_id and session.channel_id
    dm = await _inbound(emu, "dm", "psst", user=alice)
    assert dm.scene is Scene.DM
    reply = await api.reply(dm, "answer")
    assert isinstance(reply, Message) and reply.direct_message
    proactive = await api.post_dms(session.guild_id, content="proactive")
    await api.delete_dms(session.guild_id, proactive.id or "")
    guide = await api.post_dms_setting_guide(session.guild_id, info["guilds"][0]["id"])
    assert guide.id
    assert (await api.post_setting_guide(CHANNEL, info["guilds"][0]["id"], content="g")).id


async def test_group_replies_get_increasing_msg_seq(api: ApiClient, emu: Emulator) -> None:
    msg = await _inbound(emu, "group", "hello")
    assert isinstance(msg, GroupMessage)
    for i in range(5):
        sent = await api.reply(msg, f"reply {i}")
        assert isinstance(sent, SentMessage) and sent.id
    box = await emu.control.outbox(reply_to=msg.id)
    assert [e["msg_seq"] for e in box] == [1, 2, 3, 4, 5]
    with pytest.raises(RateLimited) as info:  # the platform's 5-replies-per-message cap
        await api.reply(msg, "sixth")
    assert info.value.code == 22009
    with pytest.raises(DuplicateMessage):  # a reused msg_seq on a first attempt: the caller's bug
        await api.reply(msg, "again", msg_seq=1)


async def test_c2c_markdown_media_and_recall(api: ApiClient, emu: Emulator) -> None:
    msg = await _inbound(emu, "c2c", "pic please")
    assert isinstance(msg, C2CMessage) and msg.author_id
    sent = await api.reply(msg, Image(data=b"\x89PNG raw"), "caption")
    box = await emu.control.outbox(reply_to=msg.id)
    assert box[-1]["body"]["msg_type"] == 7 and box[-1]["body"]["media"]["file_info"]
    md = await api.reply(msg, Markdown(template_id=1, params={"a": "b"}))
    assert isinstance(md, SentMessage)
    uploaded = await api.upload_c2c_media(msg.author_id, 1, url="https://example.invalid/x.png")
    assert uploaded.file_info
    by_info = await api.post_c2c_message(msg.author_id, msg_type=7, media=uploaded, msg_id=msg.id, msg_seq=9)
    assert by_info.id
    assert isinstance(sent, SentMessage)
    await api.recall_c2c_message(msg.author_id, sent.id or "")


async def test_group_media_recall_link_and_members(api: ApiClient, emu: Emulator) -> None:
    msg = await _inbound(emu, "group")
    uploaded = await api.upload_group_media(GROUP, 1, data=b"png")
    assert uploaded.file_info
    sent = await api.post_group_message(GROUP, msg_type=7, media=uploaded.file_info, msg_id=msg.id, msg_seq=1)
    assert (await emu.control.outbox(reply_to=msg.id))[-1]["body"]["content"] == " "
    await api.recall_group_message(GROUP, sent.id or "")
    members = await api.get_group_members(GROUP, limit=2)
    assert members.members and members.members[0].member_openid
    with pytest.raises(ValueError):
        await api.upload_group_media(GROUP, 1)


async def test_expired_reply_and_proactive_target(api: ApiClient, emu: Emulator) -> None:
    msg = await _inbound(emu, "group")
    await emu.control.advance_clock(301)
    with pytest.raises(ReplyExpired) as info:
        await api.reply(msg, "too late")
    assert info.value.code == 304027 and "no longer be replied" in str(info.value)
    sent = await api.send(ReplyTarget(Scene.GROUP, GROUP), "proactive")  # proactive="allow" in the fixture
    assert isinstance(sent, SentMessage)
    body = (await emu.control.outbox(target=GROUP))[-1]["body"]
    assert "msg_seq" not in body and "msg_id" not in body


async def test_interaction_callback(api: ApiClient, emu: Emulator) -> None:
    ev = await emu.control.inject_event("INTERACTION_CREATE", {})
    inter = parse_event(ev["t"], ev["d"], event_id=ev["id"])
    await api.interaction_callback(inter.id, 0)
    with pytest.raises(ValueError):
        await api.reply(parse_event("GUILD_MEMBER_ADD", {}), "x")


@pytest.mark.parametrize("name, data, scene", [
    ("INTERACTION_CREATE", {"chat_type": 1, "scene": "group"}, "group"),
    ("GROUP_ADD_ROBOT", {}, "group"),
    ("FRIEND_ADD", {}, "c2c"),
    ("MESSAGE_REACTION_ADD", {}, "guild"),
    ("FORUM_THREAD_CREATE", {}, "guild"),
])
async def test_passive_replies_by_event_id(make_api, name: str, data: dict, scene: str) -> None:  # type: ignore[no-untyped-def]
    from qgactor.emulator import open_emulator

    async with open_emulator(proactive="deny") as emu, make_api(emu) as api:  # proactive sends fail here
        injected = await emu.control.inject_event(name, data)
        event = parse_event(injected["t"], injected["d"], event_id=injected["id"])
        await api.reply(event, "thanks")
        await api.reply(event, "twice")
        box = await emu.control.outbox(accepted=None)
        assert [(e["scene"], e["event_id"], e["accepted"]) for e in box] == [(scene, injected["id"], True)] * 2
        if scene in ("group", "c2c"):
            assert [e["body"]["msg_seq"] for e in box] == [1, 2]
