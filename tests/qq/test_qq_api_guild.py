"""Guild endpoint groups over real HTTP against the emulator: channels, members, roles,
permissions, mute, announces, pins, schedules, reactions, audio, forum, API permissions."""

from __future__ import annotations

import pytest

from qgactor.emulator import Emulator
from qgactor.qq import ApiClient, BadRequest, Channel, Member, NotFound
from qgactor.qq.api.members import argb_color

GUILD = "18700000000001"
CHANNEL = "100010"


async def _user_ids(emu: Emulator) -> list[str]:
    return [u["id"] for u in (await emu.control.info())["users"]]


async def test_channels_crud_and_counts(api: ApiClient) -> None:
    channels = await api.get_channels(GUILD)
    assert channels and all(isinstance(c, Channel) for c in channels)
    assert {c.guild_id for c in channels} == {GUILD}
    made = await api.create_channel(GUILD, "qq-test", 0, position=2)
    assert made.name == "qq-test" and made.id
    assert (await api.get_channel(made.id)).name == "qq-test"
    patched = await api.patch_channel(made.id, name="renamed")
    assert patched.name == "renamed"
    await api.delete_channel(made.id)
    with pytest.raises(NotFound):
        await api.get_channel(made.id)
    with pytest.raises(ValueError):
        await api.patch_channel(CHANNEL)
    voice = next(c for c in channels if c.type == 2)
    assert await api.get_online_nums(voice.id or "") >= 0
    assert isinstance(await api.get_voice_members(voice.id or ""), list)


async def test_member_pages_iterator_get_and_delete(api: ApiClient, emu: Emulator) -> None:
    first_page = await api.get_members(GUILD, limit=2)
    assert len(first_page) == 2 and all(isinstance(m, Member) for m in first_page)
    everyone = [m async for m in api.iter_members(GUILD, page_size=1)]  # paging one by one
    ids = [m.user.id for m in everyone if m.user]
    assert len(ids) == len(set(ids)) == len(emu.world.guilds[GUILD].members)
    member = await api.get_member(GUILD, ids[0])
    assert member.user is not None and member.user.id == ids[0] and member.joined_at
    victim = ids[-1]
    await api.delete_member(GUILD, victim, add_blacklist=True, delete_history_msg_days=3)
    with pytest.raises(NotFound):
        await api.get_member(GUILD, victim)
    with pytest.raises(ValueError):
        await api.delete_member(GUILD, ids[0], delete_history_msg_days=5)


async def test_roles_and_role_members(api: ApiClient, emu: Emulator) -> None:
    roles = await api.get_roles(GUILD)
    assert roles.guild_id == GUILD and roles.roles and roles.role_num_limit == "30"
    made = await api.create_role(GUILD, name="testers", color="#00ff00", hoist=True)
    assert made.role_id and made.role is not None and made.role.name == "testers"
    assert made.role.color == 0xFF00FF00
    patched = await api.patch_role(GUILD, made.role_id, name="qa")
    assert patched.role is not None and patched.role.name == "qa"
    users = await _user_ids(emu)
    for uid in users[:3]:
        await api.add_member_role(GUILD, uid, made.role_id)
    page = await api.get_role_members(GUILD, made.role_id, limit=2)
    assert len(page.data) == 2 and page.next
    members = [m async for m in api.iter_role_members(GUILD, made.role_id, page_size=2)]
    assert sorted(m.user.id for m in members if m.user) == sorted(users[:3])
    await api.remove_member_role(GUILD, users[0], made.role_id)
    assert made.role_id not in ((await api.get_member(GUILD, users[0])).roles)
    await api.add_member_role(GUILD, users[1], "5", channel_id=CHANNEL)  # channel admin needs a channel
    await api.delete_role(GUILD, made.role_id)
    assert made.role_id not in {r.id for r in (await api.get_roles(GUILD)).roles}
    with pytest.raises(ValueError):
        await api.create_role(GUILD)


def test_colour_conversion() -> None:
    assert argb_color((255, 0, 0)) == 0xFFFF0000
    assert argb_color("00ff00") == 0xFF00FF00 and argb_color(5) == 5
    with pytest.raises(ValueError):
        argb_color("#fff")


async def test_channel_permissions(api: ApiClient, emu: Emulator) -> None:
    uid = (await _user_ids(emu))[1]
    perms = await api.get_channel_member_permissions(CHANNEL, uid)
    assert perms.channel_id == CHANNEL and perms.user_id == uid
    await api.put_channel_member_permissions(CHANNEL, uid, add="0x6")
    after = await api.get_channel_member_permissions(CHANNEL, uid)
    assert int(after.permissions or "0") & 6 == 6
    await api.put_channel_member_permissions(CHANNEL, uid, remove=4)
    assert int((await api.get_channel_member_permissions(CHANNEL, uid)).permissions or "0") & 4 == 0
    role_perms = await api.get_channel_role_permissions(CHANNEL, "1")
    assert role_perms.role_id == "1"
    await api.put_channel_role_permissions(CHANNEL, "1", add=2)
    assert int((await api.get_channel_role_permissions(CHANNEL, "1")).permissions or "0") & 2


async def test_mute_all_one_many(api: ApiClient, emu: Emulator) -> None:
    users = await _user_ids(emu)
    await api.mute_all(GUILD, seconds=60)
    await api.mute_all(GUILD, seconds=0)
    await api.mute_member(GUILD, users[0], seconds=120)
    result = await api.mute_members(GUILD, users[:2], end_timestamp=4102444800)
    assert sorted(result.user_ids) == sorted(users[:2])
    with pytest.raises(ValueError):
        await api.mute_all(GUILD)


async def test_announces_and_pins(api: ApiClient) -> None:
    msg = await api.post_message(CHANNEL, content="pin me")
    announce = await api.create_announce(GUILD, message_id=msg.id, channel_id=CHANNEL)
    assert announce.message_id == msg.id and announce.guild_id == GUILD
    rec = await api.create_announce(GUILD, announces_type=1,
                                    recommend_channels=[{"channel_id": CHANNEL, "introduce": "hi"}])
    assert rec.recommend_channels and rec.recommend_channels[0]["channel_id"] == CHANNEL
    await api.delete_announce(GUILD)
    pins = await api.put_pin(CHANNEL, msg.id or "")
    assert msg.id in pins.message_ids
    assert msg.id in (await api.get_pins(CHANNEL)).message_ids
    await api.delete_pin(CHANNEL, msg.id or "")
    assert msg.id not in (await api.get_pins(CHANNEL)).message_ids
    with pytest.raises(ValueError):
        await api.create_announce(GUILD, message_id="x")


async def test_channel_announces(api: ApiClient, emu: Emulator) -> None:
    msg = await api.post_message(CHANNEL, content="channel notice")
    announce = await api.create_channel_announce(CHANNEL, msg.id or "")
    assert (announce.channel_id, announce.message_id, announce.guild_id) == (CHANNEL, msg.id, GUILD)
    assert emu.platform.state["announces"][GUILD]["message_id"] == msg.id
    await api.delete_channel_announce(CHANNEL)
    assert GUILD not in emu.platform.state["announces"]
    with pytest.raises(NotFound):
        await api.create_channel_announce("999999", msg.id or "")


async def test_schedules(api: ApiClient) -> None:
    start = 4102444800000
    made = await api.create_schedule(CHANNEL, name="meetup", start_timestamp=start, end_timestamp=start + 3600_000,
                                     remind_type=2, description="d")
    assert made.id and made.name == "meetup" and made.start_timestamp == str(start)
    assert made.id in {s.id for s in await api.get_schedules(CHANNEL, since=start - 1)}
    patched = await api.patch_schedule(CHANNEL, made.id, name="meetup 2")
    assert patched.name == "meetup 2"
    assert (await api.get_schedule(CHANNEL, made.id)).name == "meetup 2"
    await api.delete_schedule(CHANNEL, made.id)
    with pytest.raises(NotFound):
        await api.get_schedule(CHANNEL, made.id)


async def test_reactions_with_paging(api: ApiClient, emu: Emulator) -> None:
    msg = await api.post_message(CHANNEL, content="react to me")
    await api.put_reaction(CHANNEL, msg.id or "", 1, "4")
    with pytest.raises(BadRequest) as info:
        await api.put_reaction(CHANNEL, msg.id or "", 1, "4")
    assert info.value.code == 620003
    # more reactors, so that the users list spans several pages
    users = await _user_ids(emu)
    emu.platform.state["reactions"][(CHANNEL, msg.id, "1", "4")].extend(users)
    page = await api.get_reaction_users(CHANNEL, msg.id or "", 1, "4", limit=2)
    assert len(page.users) == 2 and not page.is_end and page.cookie
    everyone = [u.id async for u in api.iter_reaction_users(CHANNEL, msg.id or "", 1, "4", page_size=2)]
    assert len(everyone) == 1 + len(users) and len(set(everyone)) == len(everyone)
    await api.delete_reaction(CHANNEL, msg.id or "", 1, "4")
    assert len([u async for u in api.iter_reaction_users(CHANNEL, msg.id or "", 1, "4")]) == len(users)


async def test_audio_and_mic(api: ApiClient) -> None:
    voice = next(c for c in await api.get_channels(GUILD) if c.type == 2)
    await api.audio_control(voice.id or "", 0, audio_url="https://example.invalid/a.mp3", text="song")
    await api.audio_control(voice.id or "", 3)
    await api.mic_on(voice.id or "")
    await api.mic_off(voice.id or "")


async def test_forum_threads(api: ApiClient) -> None:
    forum = next(c for c in await api.get_channels(GUILD) if c.type == 10007)
    created = await api.put_thread(forum.id or "", "Title", "body text")
    assert created.task_id and created.create_time
    listed = await api.get_threads(forum.id or "")
    assert listed.threads and listed.threads[-1].thread_info is not None
    thread_id = listed.threads[-1].thread_info.thread_id or ""
    thread = await api.get_thread(forum.id or "", thread_id)
    assert thread.thread_info is not None and thread.thread_info.thread_id == thread_id
    await api.delete_thread(forum.id or "", thread_id)
    with pytest.raises(NotFound):
        await api.get_thread(forum.id or "", thread_id)
    rich = await api.put_thread(forum.id or "", "Rich", {"paragraphs": [{"elems": []}]})
    assert rich.task_id


async def test_api_permissions_and_demand(api: ApiClient) -> None:
    apis = await api.get_api_permissions(GUILD)
    assert apis and all(a.path and a.method for a in apis)
    demand = await api.create_api_permission_demand(GUILD, CHANNEL, "/guilds/{guild_id}/members/{user_id}",
                                                    "delete", "kick spammers")
    assert demand.guild_id == GUILD and demand.api_identify == {"path": "/guilds/{guild_id}/members/{user_id}",
                                                                "method": "DELETE"}


async def test_request_escape_hatch_and_url_link(api: ApiClient) -> None:
    response = await api.request("GET", f"/guilds/{GUILD}/channels")
    assert isinstance(response.data, list) and response.trace_id
    with pytest.raises(ValueError):
        await api.request("GET", "guilds")
    with pytest.raises(NotFound):
        await api.request("GET", "/no/such/endpoint")
    link = await api.generate_url_link("cb")
    assert link.url and link.url.startswith("http")
