"""Models from the spec's example payloads (section 4.3): fields, unknown fields, missing fields."""

from __future__ import annotations

import copy
import pickle

import pytest

from qgactor.qq import (
    EVENT_INTENTS,
    EVENT_MODELS,
    C2CMessage,
    DirectMessage,
    Event,
    EventParseError,
    GroupMessage,
    Message,
    Scene,
    parse_event,
)
from qgactor.qq import models as m

GUILD_MSG = {
    "author": {"avatar": "http://thirdqq.qlogo.cn/0", "bot": False, "id": "1234", "username": "abc"},
    "channel_id": "100010",
    "content": "<@!999> ndnnd &amp; &lt;b&gt;",
    "guild_id": "18700000000001",
    "id": "0812345677890abcdef",
    "member": {"joined_at": "2021-04-12T16:34:42+08:00", "roles": ["1"]},
    "timestamp": "2021-05-20T15:14:58+08:00",
    "seq": 101,
    "mentions": [{"id": "999", "username": "bot", "bot": True}],
}
C2C_MSG = {
    "author": {"user_openid": "E4F4AEA33253A2797FB897C50B81D7ED"},
    "content": "123",
    "id": "ROBOT1.0_.b6nx.CVryAO0nR58RXuU6SC.m92gc19j02qKqdm8ek!",
    "timestamp": "2023-11-06T13:37:18+08:00",
}
GROUP_MSG = {
    "author": {"member_openid": "E4F4AEA33253A2797FB897C50B81D7ED"},
    "content": " 123",
    "group_openid": "C9F778FE6ADF9D1D1DBE395BF744A33A",
    "id": "ROBOT1.0_eBIyWnxpmSu6uLQ7u7fU0eGloKGYg4eEa737vRyKnMCgyZjKi7JLYkQ9B0VapbiY",
    "timestamp": "2023-11-06T13:37:18+08:00",
}
EXAMPLES = {
    "GUILD_CREATE": {"description": "频道介绍", "icon": "https://pub.idqqimg.com/x.png", "id": "200000000",
                     "joined_at": "2021-10-21T11:20:18+08:00", "max_members": 300, "member_count": 17,
                     "name": "频道名称", "op_user_id": "100000000", "owner_id": "100000000"},
    "CHANNEL_CREATE": {"guild_id": "200000000", "id": "2943679", "name": "测试", "op_user_id": "100000000",
                       "owner_id": "100000000", "sub_type": 0, "type": 0},
    "GUILD_MEMBER_ADD": {"guild_id": "200000000", "joined_at": "2021-10-21T11:20:18+08:00", "nick": "",
                         "op_user_id": "100000000", "roles": ["1"],
                         "user": {"avatar": "http://thirdqq.qlogo.cn/g", "bot": True,
                                  "id": "8834102668809967837", "username": "b站机器人"}},
    "MESSAGE_REACTION_ADD": {"user_id": "1111222233333", "emoji": {"id": "277", "type": 1}, "channel_id": "12345",
                             "guild_id": "11110011112222", "target": {"id": "2", "type": 0}},
    "INTERACTION_CREATE": {"chat_type": 2, "data": {"resolved": {"button_data": "回调按钮", "button_id": "21",
                                                                 "user_id": "E4F4"}, "type": 11},
                           "id": "30540ff7-9d8f-4737-83f1-e116ce6afa8b", "type": 11, "version": 1,
                           "user_openid": "E4F4", "scene": "c2c"},
    "FRIEND_ADD": {"openid": "E4F4AEA33253A2797FB897C50B81D7ED", "timestamp": 1699240365},
    "GROUP_ADD_ROBOT": {"group_openid": "C9F7", "op_member_openid": "E4F4", "timestamp": 1699240248},
    "GROUP_MEMBER_ADD": {"timestamp": 1719478252, "group_openid": "G1", "member_openid": "M1"},
    "MESSAGE_AUDIT_PASS": {"audit_id": "5f60b782", "audit_time": "2022-01-04T18:05:42+08:00",
                           "channel_id": "1699792", "create_time": "2022-01-04T18:05:42+08:00",
                           "guild_id": "46646271634786417", "message_id": "10d0df"},
    "AUDIO_START": {"guild_id": "1", "channel_id": "2", "audio_url": "http://a", "text": "t"},
    "AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER": {"guild_id": "47129941624960822", "channel_id": "1661124",
                                           "channel_type": 2, "user_id": "144115218182563108"},
    "FORUM_THREAD_CREATE": {"guild_id": "1", "channel_id": "2", "author_id": "3",
                            "thread_info": {"thread_id": "T", "title": "{\"paragraphs\":[]}",
                                            "content": "{\"paragraphs\":[]}", "date_time": "2022"}},
    "FORUM_POST_CREATE": {"guild_id": "1", "channel_id": "2", "author_id": "3",
                          "post_info": {"thread_id": "T", "post_id": "P", "content": "{}", "date_time": "x"}},
    "FORUM_REPLY_CREATE": {"guild_id": "1", "channel_id": "2", "author_id": "3",
                           "reply_info": {"thread_id": "T", "post_id": "P", "reply_id": "R", "content": "{}"}},
    "FORUM_PUBLISH_AUDIT_RESULT": {"guild_id": "1", "channel_id": "2", "author_id": "3", "thread_id": "T",
                                   "type": 1, "result": 0, "err_msg": ""},
    "OPEN_FORUM_THREAD_CREATE": {"guild_id": "1", "channel_id": "2", "author_id": "3"},
    "MESSAGE_DELETE": {"message": {"id": "08", "channel_id": "100010", "guild_id": "187",
                                   "author": {"id": "1234", "username": "abc", "bot": False}},
                       "op_user": {"id": "1234"}},
    "SUBSCRIBE_MESSAGE_STATUS": {"group_openid": "G", "openid": "O", "result": [{"template_id": "t", "op": 1}]},
    "ENTER_AIO": {"user_openid": "U", "from_source": "s"},
    "READY": {"version": 1, "session_id": "s-1", "user": {"id": "9", "username": "bot", "bot": True},
              "shard": [0, 1]},
}


def test_every_dispatch_name_has_a_model() -> None:
    assert set(EVENT_INTENTS) <= set(EVENT_MODELS)
    for name, cls in EVENT_MODELS.items():
        assert issubclass(cls, Event), name


def test_guild_message_fields_content_and_text() -> None:
    msg = parse_event("AT_MESSAGE_CREATE", GUILD_MSG, event_id="AT:1")
    assert isinstance(msg, Message) and not isinstance(msg, DirectMessage)
    assert msg.id == "0812345677890abcdef"
    assert msg.author is not None and msg.author.username == "abc" and msg.author.bot is False
    assert msg.member is not None and msg.member.roles == ["1"]
    assert msg.content == "<@!999> ndnnd & <b>"  # entities unescaped
    assert msg.text == "ndnnd & <b>"  # the bot (mention flagged bot) stripped
    assert [u.id for u in msg.mentions] == ["999"]
    assert msg.mentioned_ids == ["999"]
    assert msg.scene is Scene.GUILD and msg.mentions_me
    assert msg.event_type == "AT_MESSAGE_CREATE" and msg.event_id == "AT:1"
    target = msg.reply_target
    assert target is not None and (target.scene, target.target_id, target.msg_id) == (
        Scene.GUILD, "100010", "0812345677890abcdef")
    assert msg.reply_target is target  # cached: one msg_seq counter per message object


def test_direct_message_replies_to_the_dm_session() -> None:
    data = dict(GUILD_MSG, guild_id="DMGUILD", direct_message=True, src_guild_id="187")
    msg = parse_event("DIRECT_MESSAGE_CREATE", data)
    assert isinstance(msg, DirectMessage) and msg.scene is Scene.DM
    assert msg.reply_target is not None and msg.reply_target.target_id == "DMGUILD"
    assert msg.src_guild_id == "187"


def test_c2c_and_group_examples() -> None:
    c2c = parse_event("C2C_MESSAGE_CREATE", C2C_MSG)
    assert isinstance(c2c, C2CMessage) and c2c.scene is Scene.C2C
    assert c2c.author_id == "E4F4AEA33253A2797FB897C50B81D7ED"
    assert c2c.reply_target is not None and c2c.reply_target.target_id == c2c.author_id
    group = parse_event("GROUP_AT_MESSAGE_CREATE", GROUP_MSG)
    assert isinstance(group, GroupMessage) and group.scene is Scene.GROUP
    assert group.content == " 123" and group.text == "123"
    assert group.author_id == "E4F4AEA33253A2797FB897C50B81D7ED"
    assert group.group_id is None  # missing optional field: None, no failure
    target = group.reply_target
    assert target is not None and target.target_id == "C9F778FE6ADF9D1D1DBE395BF744A33A"
    assert [target.next_seq() for _ in range(5)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_spec_examples_parse_and_keep_every_key(name: str) -> None:
    data = copy.deepcopy(EXAMPLES[name])
    event = parse_event(name, data, event_id=f"{name}:x")
    assert type(event) is EVENT_MODELS[name]
    for key, value in EXAMPLES[name].items():
        assert event.raw[key] == value
        # every key is readable as an attribute (declared or via the raw fallback)
        assert getattr(event, key) is not None or value is None


def test_family_specific_fields() -> None:
    ev = parse_event("MESSAGE_REACTION_ADD", EXAMPLES["MESSAGE_REACTION_ADD"], event_id="R:1")
    assert isinstance(ev, m.ReactionEvent) and ev.emoji is not None and ev.emoji.id == "277"
    assert ev.target is not None and ev.target.type == 0
    assert ev.reply_target is not None and ev.reply_target.event_id == "R:1"
    inter = parse_event("INTERACTION_CREATE", EXAMPLES["INTERACTION_CREATE"], event_id="I:1")
    assert isinstance(inter, m.InteractionEvent) and inter.button_data == "回调按钮"
    assert inter.reply_target is not None and inter.reply_target.scene is Scene.C2C
    member = parse_event("GUILD_MEMBER_ADD", EXAMPLES["GUILD_MEMBER_ADD"])
    assert isinstance(member, m.GuildMemberEvent) and member.user is not None
    assert member.user.username == "b站机器人" and member.reply_target is None
    deleted = parse_event("MESSAGE_DELETE", EXAMPLES["MESSAGE_DELETE"])
    assert isinstance(deleted, m.MessageDelete) and deleted.message is not None
    assert deleted.message.author is not None and deleted.op_user is not None and deleted.op_user.id == "1234"
    audit = parse_event("MESSAGE_AUDIT_PASS", EXAMPLES["MESSAGE_AUDIT_PASS"])
    assert isinstance(audit, m.MessageAuditEvent) and audit.passed and audit.message_id == "10d0df"
    thread = parse_event("FORUM_THREAD_CREATE", EXAMPLES["FORUM_THREAD_CREATE"])
    assert isinstance(thread, m.ForumThreadEvent) and thread.thread_info is not None
    assert thread.thread_info.thread_id == "T"
    ready = parse_event("READY", EXAMPLES["READY"])
    assert isinstance(ready, m.Ready) and ready.user is not None and ready.shard == [0, 1]
    robot = parse_event("GROUP_ADD_ROBOT", EXAMPLES["GROUP_ADD_ROBOT"], event_id="G:1")
    assert robot.reply_target is not None and robot.reply_target.event_id == "G:1"
    removed = parse_event("GROUP_DEL_ROBOT", EXAMPLES["GROUP_ADD_ROBOT"])
    assert removed.reply_target is None  # the bot left: nothing to answer


def test_unknown_fields_are_kept_and_readable() -> None:
    data = dict(GROUP_MSG, brand_new_field={"x": 1}, author={"member_openid": "M", "future": 5})
    msg = parse_event("GROUP_AT_MESSAGE_CREATE", data)
    assert msg.brand_new_field == {"x": 1}
    assert msg.author is not None and msg.author.future == 5
    assert msg.get("brand_new_field") == {"x": 1}
    with pytest.raises(AttributeError, match="no field 'nope'"):
        _ = msg.nope


def test_missing_and_mistyped_optional_fields_do_not_fail() -> None:
    msg = parse_event("MESSAGE_CREATE", {})
    assert isinstance(msg, Message)
    assert msg.id is None and msg.author is None and msg.mentions == [] and msg.text == ""
    weird = parse_event("MESSAGE_CREATE", {"author": "not an object", "mentions": "nope", "attachments": [1, {}],
                                           "member": [], "content": 5})
    assert weird.author is None and weird.mentions == [] and len(weird.attachments) == 1
    assert weird.member is None and weird.text == "" and weird.raw["author"] == "not an object"
    odd = parse_event("AT_MESSAGE_CREATE", {"content": "<@!1> x", "mentions": [{"id": ["1"], "bot": True}],
                                            "attachments": [{"url": 5}]}, bot_id=None)
    assert odd.text == "<@!1> x" and odd.attachments[0].full_url == 5


def test_unknown_event_names_give_a_generic_event() -> None:
    ev = parse_event("SOMETHING_NEW", {"a": 1}, event_id="X:1")
    assert type(ev) is Event and ev.a == 1 and ev.event_type == "SOMETHING_NEW" and ev.reply_target is None


def test_resumed_accepts_the_empty_string_and_non_objects_raise() -> None:
    assert isinstance(parse_event("RESUMED", ""), m.Resumed)
    for bad in ("", [], 3, None, "x"):
        with pytest.raises(EventParseError) as info:
            parse_event("AT_MESSAGE_CREATE", bad)
        assert info.value.name == "AT_MESSAGE_CREATE"


def test_models_pickle_and_compare() -> None:
    msg = parse_event("AT_MESSAGE_CREATE", GUILD_MSG)
    again = pickle.loads(pickle.dumps(msg))
    assert again.id == msg.id and again.raw == msg.raw
    assert parse_event("AT_MESSAGE_CREATE", GUILD_MSG) == msg


def test_rest_resources_parse() -> None:
    roles = m.GuildRoles.from_dict({"guild_id": "1", "roles": [{"id": "4", "name": "owner", "color": 1,
                                                                   "hoist": 1, "number": 1, "member_limit": 1}],
                                    "role_num_limit": "30"})
    assert roles.roles[0].name == "owner"
    att = m.Attachment.from_dict({"url": "gchat.qpic.cn/x.png", "content_type": "image/png"})
    assert att.full_url == "https://gchat.qpic.cn/x.png"
    with pytest.raises(EventParseError):
        m.User.from_dict(["not", "a", "dict"])
    assert m.User.from_list([{"id": "1"}, 3]) == [m.User(id="1")]


def test_intents_for_event_names() -> None:
    from qgactor.qq import Intents, intents_for

    assert intents_for(["AT_MESSAGE_CREATE", "GROUP_AT_MESSAGE_CREATE", "READY"]) == (
        Intents.PUBLIC_GUILD_MESSAGES | Intents.GROUP_AND_C2C_EVENT)
    assert intents_for(["GUILD_CREATE", "CHANNEL_DELETE"]) == Intents.GUILDS
    assert intents_for([]) == Intents.NONE
    with pytest.raises(ValueError, match="AT_MESAGE_CREATE"):
        intents_for(["AT_MESAGE_CREATE"])
