"""Events parsed per second per event family (``qgactor.qq.parse_event``).

    python benchmarks/bench_parse.py            # ~1 s per family
    python benchmarks/bench_parse.py --quick    # a few seconds in total (CI)

Each family is parsed from a realistic payload (the spec's examples, enriched with the fields
the emulator sends), from an already decoded dict, best of three runs. ``+text`` rows also
compute the mention-stripped text, as a dispatcher matching commands does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from qgactor.qq import parse_event

_AUTHOR = {"avatar": "http://thirdqq.qlogo.cn/0", "bot": False, "id": "144115218181000001", "username": "alice"}
PAYLOADS: dict[str, tuple[str, dict[str, Any]]] = {
    "guild message": ("AT_MESSAGE_CREATE", {
        "author": _AUTHOR, "channel_id": "100010", "content": "<@!5566778899001122334> /weather 北京 &amp; 上海",
        "guild_id": "18700000000001", "id": "08c4a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8", "seq": 101,
        "member": {"joined_at": "2021-04-12T16:34:42+08:00", "roles": ["1", "4"], "nick": "ali"},
        "timestamp": "2021-05-20T15:14:58+08:00", "seq_in_channel": "101",
        "mentions": [{"id": "5566778899001122334", "username": "bot", "bot": True, "avatar": ""}]}),
    "direct message": ("DIRECT_MESSAGE_CREATE", {
        "author": _AUTHOR, "channel_id": "100010", "content": "hello", "guild_id": "DM1", "id": "08ab",
        "direct_message": True, "src_guild_id": "18700000000001", "timestamp": "2021-05-20T15:14:58+08:00"}),
    "group message": ("GROUP_AT_MESSAGE_CREATE", {
        "author": {"id": "E4F4", "member_openid": "E4F4AEA33253A2797FB897C50B81D7ED", "union_openid": "0A11",
                   "username": "alice", "bot": False, "member_role": "owner"},
        "content": " /roll 2d6", "group_id": "C9F7", "group_openid": "C9F778FE6ADF9D1D1DBE395BF744A33A",
        "id": "ROBOT1.0_eBIyWnxpmSu6uLQ7u7fU0eGloKGYg4eEa737vRyKnMCgyZjKi7JLYkQ9B0VapbiY",
        "timestamp": "2023-11-06T13:37:18+08:00", "message_type": 0, "msg_idx": "REFIDX_01f95d85",
        "message_scene": {"source": "default", "ext": ["msg_idx=REFIDX_01f95d85"]},
        "mentions": [{"scope": "single", "bot": True, "id": "55", "is_you": True, "member_openid": "B0B0",
                      "username": "bot"}]}),
    "c2c message": ("C2C_MESSAGE_CREATE", {
        "author": {"id": "E4F4", "user_openid": "E4F4AEA33253A2797FB897C50B81D7ED", "union_openid": "0A11"},
        "content": "123", "id": "ROBOT1.0_.b6nx.CVryAO0nR58RXuU6SC.m92gc19j02qKqdm8ek!",
        "timestamp": "2023-11-06T13:37:18+08:00",
        "attachments": [{"content_type": "image/png", "filename": "a.png", "url": "gchat.qpic.cn/a", "size": 5}]}),
    "message delete": ("MESSAGE_DELETE", {
        "message": {"id": "08", "channel_id": "100010", "guild_id": "187", "author": _AUTHOR},
        "op_user": {"id": "1234"}}),
    "guild": ("GUILD_UPDATE", {
        "description": "频道介绍", "icon": "https://pub.idqqimg.com/x.png", "id": "200000000",
        "joined_at": "2021-10-21T11:20:18+08:00", "max_members": 300, "member_count": 17, "name": "频道名称",
        "op_user_id": "100000000", "owner_id": "100000000", "owner": False}),
    "channel": ("CHANNEL_CREATE", {"guild_id": "200000000", "id": "2943679", "name": "测试", "op_user_id": "1",
                                   "owner_id": "1", "sub_type": 0, "type": 0, "position": 3}),
    "guild member": ("GUILD_MEMBER_ADD", {
        "guild_id": "200000000", "joined_at": "2021-10-21T11:20:18+08:00", "nick": "", "op_user_id": "1",
        "roles": ["1"], "user": {"avatar": "http://q", "bot": False, "id": "8834102668809967837", "username": "u"}}),
    "reaction": ("MESSAGE_REACTION_ADD", {"user_id": "1111222233333", "emoji": {"id": "277", "type": 1},
                                          "channel_id": "12345", "guild_id": "11110011112222",
                                          "target": {"id": "2", "type": 0}}),
    "interaction": ("INTERACTION_CREATE", {
        "application_id": "102000001", "chat_type": 1, "scene": "group", "timestamp": "2023-11-06T13:37:18+08:00",
        "group_openid": "C9F7", "group_member_openid": "E4F4", "id": "30540ff7-9d8f-4737-83f1-e116ce6afa8b",
        "type": 11, "version": 1, "data": {"resolved": {"button_data": "yes", "button_id": "1"}, "type": 11}}),
    "friend": ("FRIEND_ADD", {"openid": "E4F4AEA33253A2797FB897C50B81D7ED", "timestamp": 1699240365}),
    "group robot": ("GROUP_ADD_ROBOT", {"group_openid": "C9F7", "op_member_openid": "E4F4",
                                        "timestamp": 1699240248}),
    "group member": ("GROUP_MEMBER_ADD", {"timestamp": 1719478252, "group_openid": "G", "member_openid": "M"}),
    "message audit": ("MESSAGE_AUDIT_PASS", {"audit_id": "5f60b782-d134", "audit_time": "2022-01-04T18:05:42+08:00",
                                             "channel_id": "1699792", "create_time": "2022-01-04T18:05:42+08:00",
                                             "guild_id": "46646271634786417", "message_id": "10d0df"}),
    "audio": ("AUDIO_START", {"guild_id": "1", "channel_id": "2", "audio_url": "http://a", "text": "t"}),
    "audio/live member": ("AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER", {"guild_id": "4712", "channel_id": "1661124",
                                                                 "channel_type": 2, "user_id": "1441"}),
    "forum thread": ("FORUM_THREAD_CREATE", {
        "guild_id": "1", "channel_id": "2", "author_id": "3",
        "thread_info": {"thread_id": "T", "title": "{\"paragraphs\":[]}", "content": "{\"paragraphs\":[]}",
                        "date_time": "2022-01-04T18:05:42+08:00"}}),
    "open forum": ("OPEN_FORUM_THREAD_CREATE", {"guild_id": "1", "channel_id": "2", "author_id": "3"}),
    "unknown event": ("SOMETHING_NEW", {"a": 1, "b": {"c": 2}}),
}


def bench(name: str, data: dict[str, Any], seconds: float, with_text: bool = False) -> float:
    """Events per second for ``parse_event(name, data)`` from an already decoded dict (the
    gateway decodes the frame once anyway); best of three runs of ``seconds / 3`` each."""
    data = json.loads(json.dumps(data))
    best = 0.0
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(500):
                ev = parse_event(name, data, event_id="E:1", bot_id="5566778899001122334")
                if with_text:
                    ev.text  # noqa: B018
            n += 500
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def _others() -> dict[str, Any]:
    """Parsers of other SDKs for comparison, if installed (the ``bench`` extra)."""
    found: dict[str, Any] = {}
    try:
        import botpy.message as bm

        kinds = {"AT_MESSAGE_CREATE": bm.Message, "GROUP_AT_MESSAGE_CREATE": bm.GroupMessage,
                 "C2C_MESSAGE_CREATE": bm.C2CMessage, "DIRECT_MESSAGE_CREATE": bm.DirectMessage}
        found["qq-botpy"] = lambda name, data: kinds[name](None, "E:1", data)
    except Exception:  # noqa: BLE001 - optional comparison only
        pass
    try:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # qg-botsdk prints a banner on import
            from qg_botsdk._utils import objectize
        # objectize mutates its input in place: it gets a fresh decode each time, whose cost
        # bench_other subtracts
        found["qg-botsdk (fresh dict)"] = lambda name, data: objectize(data)
    except Exception:  # noqa: BLE001
        pass
    return found


def bench_other(fn: Any, name: str, data: dict[str, Any], seconds: float) -> float:
    """Events per second of another SDK's parser ``fn(name, data)`` (best of three), each call
    on a freshly decoded dict (some parsers mutate their input); the decode time is subtracted."""
    raw = json.dumps(data)
    loads = json.loads
    best = 0.0
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(200):
                fn(name, loads(raw))
            n += 200
            now = time.perf_counter()
            if now >= deadline:
                break
        t0 = time.perf_counter()
        for _ in range(n):
            loads(raw)
        decode = time.perf_counter() - t0
        best = max(best, n / max(now - start - decode, 1e-9))
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run for CI")
    args = parser.parse_args(argv)
    seconds = 0.15 if args.quick else 1.5
    print(f"python {sys.version.split()[0]}, {seconds}s per family")
    print("| family | event | events/s | µs/event |")
    print("|---|---|---:|---:|")
    for family, (name, data) in PAYLOADS.items():
        rate = bench(name, data, seconds)
        print(f"| {family} | {name} | {rate:,.0f} | {1e6 / rate:.2f} |")
        if family.endswith("message") and family != "message delete":
            rate = bench(name, data, seconds, with_text=True)
            print(f"| {family} +text | {name} | {rate:,.0f} | {1e6 / rate:.2f} |")
    others = _others()
    if others:
        print()
        print("| other SDK | event | events/s | µs/event |")
        print("|---|---|---:|---:|")
        for sdk, fn in others.items():
            for family in ("guild message", "direct message", "group message", "c2c message"):
                name, data = PAYLOADS[family]
                rate = bench_other(fn, name, data, seconds)
                print(f"| {sdk} | {name} | {rate:,.0f} | {1e6 / rate:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
