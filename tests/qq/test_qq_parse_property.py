"""Property: parsing any JSON value never raises anything but EventParseError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qgactor.qq import EVENT_MODELS, Event, EventParseError, parse_event

_keys = st.sampled_from([
    "id", "content", "author", "mentions", "attachments", "member", "guild_id", "channel_id", "group_openid",
    "user", "roles", "message", "op_user", "emoji", "target", "data", "resolved", "thread_info", "post_info",
    "reply_info", "session_id", "shard", "timestamp", "bot", "is_you", "direct_message", "chat_type", "scene",
]) | st.text(max_size=8)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=12,
)
_names = st.sampled_from(sorted(EVENT_MODELS)) | st.text(max_size=12)


def _touch(event: Event) -> None:
    # the derived helpers must not raise either
    for attr in ("text", "mentioned_ids", "mentions_me", "scene", "author_id", "reply_target", "button_data",
                 "user_id", "passed"):
        if hasattr(type(event), attr):  # a field or property of this model: must not raise
            getattr(event, attr)
    attachments = getattr(event, "attachments", None)
    for attachment in attachments if isinstance(attachments, list) else []:
        if hasattr(attachment, "full_url"):
            attachment.full_url  # noqa: B018
    author = getattr(event, "author", None)
    if author is not None and hasattr(author, "openid"):
        author.openid  # noqa: B018
    repr(event)


@settings(max_examples=200, deadline=None)
@given(name=_names, data=st.dictionaries(_keys, _json, max_size=8))
def test_any_json_object_parses(name: str, data: dict[str, Any]) -> None:
    event = parse_event(name, data, event_id="E:1", bot_id="999")
    assert event.raw is data
    assert event.event_type == name
    _touch(event)


@settings(max_examples=100, deadline=None)
@given(name=_names, data=_json)
def test_any_json_value_parses_or_raises_event_parse_error(name: str, data: Any) -> None:
    try:
        event = parse_event(name, data)
    except EventParseError as exc:
        assert not isinstance(data, dict)
        assert exc.name == name
    else:
        assert isinstance(event, Event)
        _touch(event)
