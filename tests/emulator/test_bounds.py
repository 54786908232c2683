"""Every store of the emulator is bounded, and the outbox indexes stay consistent with it
(a long benchmark run must not grow memory without limit, nor slow down)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

import qgactor.emulator.platform as platform_module
import qgactor.emulator.replies as replies_module
from qgactor.emulator import EmulatorConfig, Platform, World
from qgactor.emulator.replies import Inbound, Outbox, ReplyLedger
from qgactor.emulator.sessions import GatewaySession


def entry(n: int, reply: str | None = None, content: str = "x", accepted: bool = True) -> dict[str, Any]:
    answered = Inbound(reply, "message", "group", 0.0, "GROUP_AT_MESSAGE_CREATE", group_openid="G",
                       message_id=reply, event_id=f"e-{reply}") if reply else None
    return {"scene": "group", "target": {"group_openid": "G"}, "method": "POST", "path": "/p",
            "body": {"content": content, "msg_id": f"m{n}"}, "msg_seq": 1, "reply": answered,
            "time": 0.0, "status": 200, "response": {}, "accepted": accepted}


def test_outbox_is_bounded_and_its_index_follows() -> None:
    box = Outbox(5)
    for n in range(1, 13):
        box.append(**entry(n, reply=f"in{n}"))
    assert len(box) == 5 and [e.n for e in box.query()] == [8, 9, 10, 11, 12]
    assert box.query(reply_to="in3") == [] and box.query(reply_to="m3") == []
    assert [e.n for e in box.query(reply_to="e-in9")] == [9]
    assert set(box._by_ref) == {f"{p}{n}" for n in range(8, 13) for p in ("m", "in", "e-in")}
    assert [e.n for e in box.query(after=10)] == [11, 12]
    assert [e.n for e in box.query(after=2)] == [8, 9, 10, 11, 12]
    assert box.query(after=12) == []
    box.clear()
    assert box.query() == [] and box._by_ref == {}
    assert box.append(**entry(99)).n == 13  # numbering continues


def test_outbox_filters_combine() -> None:
    box = Outbox(100)
    box.append(**entry(1, reply="a", content="hello"))
    box.append(**entry(2, reply="a", content="bye", accepted=False))
    box.append(**entry(3, reply="b", content="hello again"))
    assert [e.n for e in box.query(reply_to="a")] == [1]
    assert [e.n for e in box.query(reply_to="a", accepted=None)] == [1, 2]
    assert [e.n for e in box.query(contains="hello", after=1)] == [3]
    assert [e.n for e in box.query(target="G", scene="group")] == [1, 3]
    assert box.query(target="other") == [] and box.query(scene="guild") == []


async def test_outbox_wait_sees_only_new_matches() -> None:
    box = Outbox(100)
    box.append(**entry(1, content="old match"))
    got: list[Any] = []

    async def waiter() -> None:
        got.append(await box.wait(5.0, contains="match", after=1))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        box.append(**entry(2, content="nothing"))
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        box.append(**entry(3, content="new match"))
    assert got[0].n == 3
    assert await box.wait(0.01, contains="never") is None


def test_message_store_and_ledger_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform_module, "MESSAGES_KEPT", 10)
    monkeypatch.setattr(replies_module, "RECORDS_KEPT", 10)
    p = Platform(EmulatorConfig(), World.load(None))
    for n in range(25):
        p.remember_message(f"m{n}", {"n": n})
    assert list(p.messages) == [f"m{n}" for n in range(15, 25)]
    ledger = ReplyLedger(EmulatorConfig())
    for n in range(25):
        ledger.record(Inbound(f"r{n}", "message", "group", 0.0, "X"))
    assert ledger.get("r14") is None and ledger.get("r15") is not None and len(ledger._records) == 10
    assert p.events.maxlen and p.webhook.deliveries.maxlen
    assert p.outbox._entries.maxlen == EmulatorConfig().outbox_limit


def test_replay_buffer_is_bounded_and_resume_limits_follow() -> None:
    s = GatewaySession("sid", 0, 1, 1 << 25, replay_limit=3)
    for n in range(10):
        s.frame("GROUP_AT_MESSAGE_CREATE", {"n": n}, f"e{n}")
    assert len(s.buffer) == 3 and [seq for seq, _ in s.buffer] == [8, 9, 10]
    assert not s.can_resume_from(6) and s.can_resume_from(7) and s.can_resume_from(10)
    assert [json.loads(t)["s"] for t in s.replay_after(7)] == [8, 9, 10]
    assert [json.loads(t)["d"]["n"] for t in s.replay_after(8)] == [8, 9]


def test_gc_tuning_for_a_serving_process_is_opt_in_and_applies() -> None:
    import gc

    from qgactor.emulator import tune_gc_for_serving
    from qgactor.emulator.server import SERVING_GC_THRESHOLDS

    before = gc.get_threshold()
    assert before != SERVING_GC_THRESHOLDS  # importing or opening an emulator changes nothing
    try:
        tune_gc_for_serving()
        assert gc.get_threshold() == SERVING_GC_THRESHOLDS and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
