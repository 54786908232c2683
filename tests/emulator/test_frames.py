"""Dispatch frames are written without building the payload object; the text must be exactly
what encoding the payload would give (key order, separators, escapes, non-ASCII kept)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from qgactor.emulator.http import dump_json
from qgactor.emulator.sessions import GatewaySession

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(name=st.text(min_size=1), data=json_values, event_id=st.none() | st.text())
def test_frame_text_is_the_encoded_payload(name: str, data: Any, event_id: str | None) -> None:
    session = GatewaySession("s", 0, 1, 1, 10)
    text = session.frame(name, data, event_id)
    payload: dict[str, Any] = {"op": 0, "s": 1, "t": name, "d": data}
    if event_id is not None:
        payload["id"] = event_id
    assert text == json.dumps(payload, ensure_ascii=False)
    assert json.loads(text) == json.loads(json.dumps(payload))
    # the same with the payload encoded once for several sessions
    again = GatewaySession("t", 0, 1, 1, 10).frame(name, data, event_id, data_json=dump_json(data))
    assert again == text
    assert list(session.replay_after(0)) == [text]
