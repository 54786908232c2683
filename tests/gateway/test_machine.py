"""The sans-I/O gateway state machine: handshake, heartbeats, recovery, close codes, bad frames."""

from __future__ import annotations

import json
import random

import pytest

from qgactor.qq.gateway import FATAL_ADVICE, BackoffPolicy, GatewayConfig, GatewayMachine
from qgactor.qq.gateway_events import (
    BadFrame,
    CloseConnection,
    Dispatch,
    Duplicate,
    Fatal,
    GatewayState,
    NeedToken,
    Reconnect,
    SendFrame,
    SessionStarted,
)
from qgactor.qq.protocol import CLOSE_CODES

S = GatewayState


def frame(op: int, d=None, s=None, t=None, id=None) -> str:
    obj: dict = {"op": op}
    if d is not None or op == 1:
        obj["d"] = d
    if s is not None:
        obj["s"] = s
    if t is not None:
        obj["t"] = t
    if id is not None:
        obj["id"] = id
    return json.dumps(obj)


def hello(ms: int = 1000) -> str:
    return frame(10, {"heartbeat_interval": ms})


def ready(sid: str = "sess-1", s: int = 1) -> str:
    return frame(0, {"session_id": sid, "user": {"id": "42", "bot": True}, "shard": [0, 1], "version": 1},
                 s=s, t="READY")


def msg(s: int, i: int | None = None) -> str:
    i = s if i is None else i
    return frame(0, {"id": f"m{i}", "content": "hi", "channel_id": "c1"}, s=s, t="AT_MESSAGE_CREATE",
                 id=f"AT_MESSAGE_CREATE:{i}")


def sent(outs) -> list[dict]:
    return [json.loads(o.text) for o in outs if isinstance(o, SendFrame)]


def of(outs, kind):
    return [o for o in outs if isinstance(o, kind)]


def machine(**kw) -> GatewayMachine:
    cfg = GatewayConfig(intents=513, shard=(1, 4), backoff=BackoffPolicy(initial=1.0, maximum=8.0), **kw)
    return GatewayMachine(cfg, rng=random.Random(7))


def live(m: GatewayMachine, now: float = 0.0) -> None:
    assert m.connection_opened(now) == []
    outs = m.receive(hello(), now)
    assert outs == [NeedToken(refresh=False, identify=m.session_id is None)]
    m.token_available("QQBot tok")
    if m.state is S.IDENTIFYING:
        m.receive(ready(), now)
    else:
        m.receive(frame(0, "", s=(m.seq or 0) + 1, t="RESUMED"), now)
    assert m.state is S.CONNECTED


def test_identify_handshake_and_ready() -> None:
    m = machine()
    assert m.connection_opened(0.0) == [] and m.state is S.AWAITING_HELLO
    assert m.receive(hello(45000), 0.0) == [NeedToken(refresh=False, identify=True)]
    assert m.heartbeat_interval == 45.0 and m.state is S.AWAITING_TOKEN
    outs = m.token_available("QQBot secret-token")
    assert sent(outs) == [{"op": 2, "d": {"token": "QQBot secret-token", "intents": 513, "shard": [1, 4]}}]
    assert "secret-token" not in repr(outs)
    outs = m.receive(ready("abc", 1), 0.5)
    assert of(outs, SessionStarted) == [SessionStarted("abc", False, (1, 4), {"id": "42", "bot": True})]
    assert [d.name for d in of(outs, Dispatch)] == ["READY"]
    assert m.state is S.CONNECTED and m.session_id == "abc" and m.seq == 1


def test_heartbeat_carries_last_seq_and_zombie_triggers_resume() -> None:
    m = machine()
    live(m)
    assert m.next_deadline == 1.0
    assert m.tick(0.9) == []
    assert sent(m.tick(1.0)) == [{"op": 1, "d": 1}]
    m.receive(msg(2), 1.1)
    m.receive(frame(11), 1.2)
    assert m.latency == pytest.approx(0.2)
    assert sent(m.tick(2.0)) == [{"op": 1, "d": 2}]
    outs = m.tick(3.0)  # no ACK for the beat at 2.0
    assert outs == [CloseConnection(4999, outs[0].reason, True)] and "zombie" in outs[0].reason
    assert m.state is S.CLOSING and m.stats.zombies == 1
    outs = m.connection_closed(None, 3.1)
    assert outs == [Reconnect(0.0, True, outs[0].reason)]
    m.connection_opened(3.2)
    assert m.receive(hello(), 3.2) == [NeedToken(refresh=False, identify=False)]
    assert sent(m.token_available("QQBot t")) == [{"op": 6, "d": {"token": "QQBot t", "session_id": "sess-1", "seq": 2}}]
    assert m.state is S.RESUMING
    replayed = m.receive(msg(3), 3.3)
    assert [d.seq for d in of(replayed, Dispatch)] == [3]
    outs = m.receive(frame(0, "", s=4, t="RESUMED"), 3.4)
    assert of(outs, SessionStarted)[0].resumed and m.state is S.CONNECTED and m.seq == 4


def test_server_heartbeat_request_is_answered() -> None:
    m = machine()
    live(m)
    assert sent(m.receive(frame(1), 0.1)) == [{"op": 1, "d": 1}]


def test_op7_reconnects_and_resumes() -> None:
    m = machine()
    live(m)
    outs = m.receive(frame(7), 0.5)
    assert of(outs, CloseConnection)[0].resume and m.state is S.CLOSING
    # frames still arriving while closing are used, not lost
    assert [d.seq for d in of(m.receive(msg(2), 0.6), Dispatch)] == [2]
    assert m.connection_closed(1000, 0.7)[0].resume
    assert m.session_id == "sess-1" and m.seq == 2


def test_op9_drops_session_and_identifies_afresh() -> None:
    m = machine()
    live(m)
    m.receive(msg(2), 0.1)
    outs = m.receive(frame(9, False), 0.2)
    assert of(outs, CloseConnection)[0].resume is False
    assert m.session_id is None and m.seq is None
    rec = m.connection_closed(None, 0.3)[0]
    assert isinstance(rec, Reconnect) and rec.resume is False and 0.5 <= rec.delay <= 1.5
    m.connection_opened(1.0)
    assert m.receive(hello(), 1.0) == [NeedToken(refresh=False, identify=True)]
    assert sent(m.token_available("QQBot t"))[0]["op"] == 2


RESUME_CODES = {4008, 4009}
REFRESH_CODES = {4004}
IDENTIFY_CODES = {4000, 4003, 4005, 4006, 4007, *range(4900, 4914)}
FATAL_CODES = {4001, 4002, 4010, 4011, 4012, 4013, 4014, 4914, 4915}


def test_close_code_classes_cover_the_whole_table() -> None:
    assert RESUME_CODES | REFRESH_CODES | IDENTIFY_CODES | FATAL_CODES == set(CLOSE_CODES)
    assert set(FATAL_ADVICE) == FATAL_CODES


@pytest.mark.parametrize("code", sorted(CLOSE_CODES))
def test_every_close_code(code: int) -> None:
    m = machine()
    live(m)
    outs = m.connection_closed(code, 1.0)
    assert len(outs) == 1
    out = outs[0]
    if code in FATAL_CODES:
        assert isinstance(out, Fatal) and out.code == code and m.state is S.STOPPED
        assert FATAL_ADVICE[code] in out.message
        assert m.connection_opened(2.0) == [out] and m.state is S.STOPPED  # stays stopped
        m.reset()
        assert m.state is S.DISCONNECTED and m.session_id is None
        return
    assert isinstance(out, Reconnect) and m.state is S.DISCONNECTED
    m.connection_opened(2.0)
    need = m.receive(hello(), 2.0)[-1]
    if code in RESUME_CODES:
        assert out.resume and out.delay == 0.0 and need == NeedToken(False, False)
        assert sent(m.token_available("QQBot x"))[0]["op"] == 6
    else:
        assert not out.resume and out.delay > 0 and m.session_id is None
        assert need == NeedToken(refresh=code in REFRESH_CODES, identify=True)
        assert sent(m.token_available("QQBot x"))[0]["op"] == 2


@pytest.mark.parametrize("code", [None, 1000, 1001, 1006, 1011, 3999])
def test_abrupt_or_non_gateway_close_resumes(code) -> None:
    m = machine()
    live(m)
    outs = m.connection_closed(code, 1.0)
    assert len(outs) == 1 and isinstance(outs[0], Reconnect)
    assert outs[0].resume and outs[0].delay == 0.0
    assert m.state is S.DISCONNECTED and m.can_resume


def test_backoff_grows_while_resumes_keep_failing_and_resets_when_live() -> None:
    m = machine()
    live(m)
    delays = []
    for i in range(5):
        delays.append(m.connection_closed(4009, float(i))[0].delay)
        m.connection_opened(float(i))
    assert delays[0] == 0.0
    assert all(0 < d <= 8.0 for d in delays[1:]) and delays[4] > delays[1]
    m.receive(hello(), 10.0)
    m.token_available("QQBot x")
    m.receive(frame(0, "", s=5, t="RESUMED"), 10.0)
    assert m.connection_closed(4009, 11.0)[0].delay == 0.0


def test_connect_failure_backs_off() -> None:
    m = machine()
    first = m.connect_failed(0.0)[0]
    second = m.connect_failed(1.0)[0]
    assert isinstance(first, Reconnect) and not first.resume and first.delay > 0 and second.delay > 0


def test_duplicates_by_seq_event_id_and_message_id() -> None:
    m = machine()
    live(m)
    assert of(m.receive(msg(2), 0.1), Dispatch)
    assert of(m.receive(msg(2), 0.1), Duplicate)[0].key == "seq"
    again = frame(0, {"id": "m2"}, s=3, t="AT_MESSAGE_CREATE", id="AT_MESSAGE_CREATE:2")
    assert of(m.receive(again, 0.1), Duplicate)[0].key == "event_id"
    repush = frame(0, {"id": "m2"}, s=4, t="AT_MESSAGE_CREATE", id="other")
    assert of(m.receive(repush, 0.1), Duplicate)[0].key == "message_id"
    upd = frame(0, {"id": "g1"}, s=5, t="GUILD_UPDATE", id="e5")
    upd2 = frame(0, {"id": "g1"}, s=6, t="GUILD_UPDATE", id="e6")
    assert of(m.receive(upd, 0.1), Dispatch) and of(m.receive(upd2, 0.1), Dispatch)
    assert m.stats.duplicates == 3 and m.seq == 6


def test_seq_window_resets_with_a_new_session() -> None:
    m = machine()
    live(m)
    m.receive(msg(2), 0.1)
    m.receive(frame(9), 0.2)
    m.connection_closed(None, 0.3)
    m.connection_opened(1.0)
    m.receive(hello(), 1.0)
    m.token_available("QQBot x")
    m.receive(ready("sess-2", 1), 1.0)
    fresh = frame(0, {"id": "new"}, s=2, t="AT_MESSAGE_CREATE", id="AT_MESSAGE_CREATE:new")
    assert of(m.receive(fresh, 1.1), Dispatch)


BAD = [
    ("not json", "invalid JSON"),
    ("[1,2,3]", "not an object"),
    ('"str"', "not an object"),
    ('{"op": 42}', "unknown opcode"),
    ('{"op": "0"}', "non-integer 'op'"),
    ('{"op": 0, "t": "NO_SUCH_EVENT", "d": {}, "s": 9}', "unknown event name"),
    ('{"op": 0, "t": "AT_MESSAGE_CREATE", "d": [1], "s": 9}', "not an object"),
    ('{"op": 0, "t": "AT_MESSAGE_CREATE", "d": {}, "s": "9"}', "non-integer 's'"),
    ('{"op": 0, "d": {}}', "event name"),
    ('{"op": 2, "d": {}}', "unexpected opcode 2"),
]


@pytest.mark.parametrize(("raw", "why"), BAD)
def test_bad_frames_are_reported_not_raised(raw: str, why: str) -> None:
    m = machine()
    live(m)
    outs = m.receive(raw, 0.5)
    assert len(outs) == 1 and isinstance(outs[0], BadFrame) and why in outs[0].reason
    assert outs[0].raw == raw and m.stats.bad_frames == 1 and m.state is S.CONNECTED


def test_oversized_frame_and_validator_failure() -> None:
    def validate(name, data):
        if "boom" in data:
            raise ValueError("cannot parse")

    m = machine(max_frame_size=200, validate=validate)
    live(m)
    big = frame(0, {"content": "x" * 500}, s=2, t="AT_MESSAGE_CREATE")
    assert "oversized" in of(m.receive(big, 0.1), BadFrame)[0].reason
    bad = m.receive(frame(0, {"boom": 1}, s=3, t="AT_MESSAGE_CREATE"), 0.1)
    assert "failed to parse" in of(bad, BadFrame)[0].reason and not of(bad, Dispatch)
    assert m.seq == 3  # still counted for heartbeats/resume so it is not replayed forever


def test_handshake_timeout_and_misordered_frames() -> None:
    m = machine(handshake_timeout=5.0)
    m.connection_opened(0.0)
    assert of(m.receive(msg(1), 0.1), BadFrame)  # expected Hello
    assert m.next_deadline == 5.0 and m.tick(4.0) == []
    assert of(m.tick(5.0), CloseConnection)
    assert m.token_available("QQBot x") == []  # token after the socket is going away: ignored
    assert of(m.connection_closed(None, 5.1), Reconnect)
    assert m.connection_closed(None, 5.2) == []  # second close report: ignored
    assert of(m.receive(hello(), 5.3), BadFrame)  # no connection


def test_resumed_with_empty_string_data_and_status() -> None:
    m = machine()
    live(m)
    m.connection_closed(4009, 1.0)
    m.connection_opened(1.0)
    m.receive(hello(), 1.0)
    m.token_available("QQBot x")
    outs = m.receive('{"op":0,"s":7,"t":"RESUMED","d":""}', 1.1)
    assert of(outs, Dispatch)[0].data == "" and m.state is S.CONNECTED
    st = m.status()
    assert st["state"] == "connected" and st["seq"] == 7 and st["shard"] == [1, 4] and st["resumes"] == 1


def test_unacked_heartbeat_is_not_a_zombie_while_reading_is_blocked() -> None:
    m = machine()
    live(m)
    assert sent(m.tick(1.0)) == [{"op": 1, "d": 1}]
    assert sent(m.tick(2.0, acks_readable=False)) == [{"op": 1, "d": 1}]  # still beating
    assert of(m.tick(3.0), CloseConnection)


def test_an_undelivered_dispatch_is_replayed_on_resume_not_suppressed() -> None:
    m = machine()
    live(m)  # READY s=1
    d2 = of(m.receive(msg(2), 0.1), Dispatch)[0]
    d3 = of(m.receive(msg(3), 0.2), Dispatch)[0]
    assert m.undelivered(d2) == [] and m.seq == 3  # not the last dispatch: ignored
    assert m.undelivered(d3) == [] and m.seq == 2 and m.stats.dispatched == 2
    m.connection_closed(None, 0.3)  # the wrapper was stopped while handing d3 over
    m.connection_opened(1.0)
    m.receive(hello(), 1.0)
    assert sent(m.token_available("QQBot x"))[0]["d"]["seq"] == 2  # resume asks for d3 again
    m.receive(frame(0, "", t="RESUMED"), 1.0)
    assert of(m.receive(msg(3), 1.1), Dispatch)[0].event_id == d3.event_id  # the replay
    assert of(m.receive(msg(3), 1.2), Duplicate)  # delivered now: later copies are duplicates
    assert m.seq == 3 and m.stats.dispatched == 4  # READY, m2, RESUMED, m3


def test_an_undelivered_ready_does_not_bring_back_the_old_sessions_seq() -> None:
    m = machine()
    live(m)
    m.receive(msg(5), 0.1)
    m.connection_closed(4009, 0.3)  # resumable
    m.connection_opened(1.0)
    m.receive(hello(), 1.0)
    assert sent(m.token_available("QQBot x"))[0]["op"] == 6
    ready_out = of(m.receive(ready("sess-2", 1), 1.0), Dispatch)[0]  # the server started afresh
    m.undelivered(ready_out)
    assert m.session_id == "sess-2" and m.seq is None  # not 5 from the dropped session
