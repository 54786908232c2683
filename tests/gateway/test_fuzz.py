"""Hypothesis: no input sequence makes the gateway machine or frame parser raise or leave its states."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qgactor.qq.gateway import BackoffPolicy, GatewayConfig, GatewayMachine
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
from qgactor.qq.gateway_frames import Envelope, parse_envelope
from qgactor.qq.protocol import CLOSE_CODES, EVENT_INTENTS

OUTPUT_TYPES = (SendFrame, NeedToken, Dispatch, SessionStarted, CloseConnection, Reconnect, Fatal, BadFrame, Duplicate)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)

plausible_frames = st.builds(
    lambda op, d, s, t, i: json.dumps({k: v for k, v in {"op": op, "d": d, "s": s, "t": t, "id": i}.items() if v is not None}),
    st.sampled_from([0, 1, 2, 6, 7, 9, 10, 11, 12, 13, 99]) | st.integers(),
    json_values
    | st.fixed_dictionaries({"heartbeat_interval": st.integers(-5, 50000)})
    | st.fixed_dictionaries({"session_id": st.text(max_size=4), "user": json_values})
    | st.fixed_dictionaries({"id": st.text(max_size=3)}),
    st.none() | st.integers(-3, 50),
    st.none() | st.sampled_from(sorted(EVENT_INTENTS)) | st.text(max_size=5),
    st.none() | st.text(max_size=4) | st.integers(),
)
frames = plausible_frames | st.text(max_size=30) | st.binary(max_size=30)

inputs = st.one_of(
    st.tuples(st.just("open")),
    st.tuples(st.just("fail")),
    st.tuples(st.just("token"), st.text(max_size=5)),
    st.tuples(st.just("recv"), frames),
    st.tuples(st.just("tick"), st.floats(0, 100)),
    st.tuples(st.just("close"), st.none() | st.sampled_from(sorted(CLOSE_CODES)) | st.integers(0, 5000)),
    st.tuples(st.just("reset")),
    st.tuples(st.just("stop")),
    st.tuples(st.just("undeliver")),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(inputs, max_size=40))
def test_machine_never_raises_and_stays_in_defined_states(seq) -> None:
    m = GatewayMachine(GatewayConfig(intents=1, max_frame_size=200, backoff=BackoffPolicy(0.1, 1.0)),
                       rng=random.Random(0))
    now = 0.0
    last: Dispatch | None = None
    for item in seq:
        kind = item[0]
        if kind == "open":
            outs = m.connection_opened(now)
        elif kind == "fail":
            outs = m.connect_failed(now)
        elif kind == "token":
            outs = m.token_available(item[1])
        elif kind == "recv":
            outs = m.receive(item[1], now)
        elif kind == "tick":
            now += item[1]
            outs = m.tick(now)
        elif kind == "close":
            outs = m.connection_closed(item[1], now)
        elif kind == "stop":
            outs = m.stop("credentials rejected")
            assert outs == [m.fatal] and m.state is GatewayState.STOPPED
        elif kind == "undeliver":  # the wrapper could not hand the last dispatch over
            seq_before = m.seq
            outs = m.undelivered(last) if last is not None else []
            assert m.seq == seq_before or (last is not None and seq_before == last.seq)
        else:
            outs = m.reset()
        assert isinstance(m.state, GatewayState)
        assert all(isinstance(o, OUTPUT_TYPES) for o in outs)
        for o in outs:
            if isinstance(o, Dispatch):
                last = o
            if isinstance(o, Reconnect):
                assert 0.0 <= o.delay <= 1.0
            if isinstance(o, Dispatch):
                assert m.state in (GatewayState.CONNECTED, GatewayState.RESUMING, GatewayState.CLOSING)
        assert (m.state is GatewayState.STOPPED) == (m.fatal is not None)
        if m.seq is not None:
            assert m.seq > 0
        if m.state is GatewayState.IDENTIFYING:
            assert m.session_id is None
        if m.state is GatewayState.RESUMING:
            assert m.session_id is not None
        m.status()


@settings(max_examples=300, deadline=None)
@given(frames)
def test_parse_envelope_total(raw) -> None:
    out = parse_envelope(raw, max_size=200)
    assert isinstance(out, (Envelope, BadFrame))
    if isinstance(out, Envelope) and out.op == 0:
        assert out.t in EVENT_INTENTS
