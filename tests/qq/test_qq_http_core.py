"""``qgactor.qq.http`` internals on the echo path: the answer decoder agrees with ``json.loads``
(then falls back to the text), path parameters are quoted exactly as ``urllib.parse.quote``
would, cached auth headers follow the token, and ``exchange``/``request`` agree."""

from __future__ import annotations

import json
import math
from urllib.parse import quote

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from qgactor.qq.auth import LegacyToken, TokenSource
from qgactor.qq.http import _PATH_SAFE, HttpCore, Route, _decode
from qgactor.qq.transport import Response

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _answer(content: bytes) -> Response:
    return Response(200, {}, content)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([{}, {"separators": (",", ":")}, {"indent": 1}]),
       st.booleans(), st.sampled_from(["", " ", "\n"]))
def test_decode_agrees_with_json_loads(value, dump_kw, ascii_only, pad) -> None:  # type: ignore[no-untyped-def]
    content = (pad + json.dumps(value, ensure_ascii=ascii_only, **dump_kw) + pad).encode("utf-8")
    assert _decode(_answer(content)) == json.loads(content)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_decode_of_any_bytes_is_json_loads_or_the_text(content: bytes) -> None:
    try:
        expected = json.loads(content) if content else None
    except ValueError:
        expected = content.decode("utf-8", errors="replace")
    got = _decode(_answer(content))
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == expected


def test_decode_keeps_other_encodings_and_trailing_garbage() -> None:
    assert _decode(_answer('{"a": "é"}'.encode("utf-16"))) == {"a": "é"}
    assert _decode(_answer(b'\xef\xbb\xbf{"a":1}')) == {"a": 1}
    assert _decode(_answer(b'{"a":1}x')) == '{"a":1}x'
    assert _decode(_answer(b"")) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.text(alphabet="abcXYZ019_.-~@!$'()*+,;=:/?#%")))
def test_path_parameters_are_quoted_as_urllib_would(value) -> None:  # type: ignore[no-untyped-def]
    route = Route("GET", "/a/{x}/b", x=value)
    assert route.path == f"/a/{quote(str(value), safe=_PATH_SAFE)}/b"
    assert route.key == f"GET /a/{{x}}/b#{value}"


async def test_cached_headers_follow_the_token(autojump_clock) -> None:
    ts = TokenSource("123", "secret", clock=trio.current_time)
    assert ts.headers_now() is None  # nothing fetched yet: the caller must await headers()
    ts._token, ts._expires_at, ts._lifetime = "tok1", trio.current_time() + 100, 100.0
    first = ts.headers_now()
    assert first == {"Authorization": "QQBot tok1", "X-Union-Appid": "123"}
    assert ts.headers_now() is first  # built once per token
    with pytest.raises(TypeError):
        first["Authorization"] = "x"  # type: ignore[index]  # read-only: shared by requests
    assert dict(first) == await ts.headers()
    await trio.sleep(60)  # inside the refresh margin (min(60, lifetime / 2) = 50 s before expiry)
    assert ts.headers_now() is None
    ts._token, ts._expires_at = "tok2", trio.current_time() + 100
    assert ts.headers_now() == {"Authorization": "QQBot tok2", "X-Union-Appid": "123"}
    legacy = LegacyToken("42", "t0k")
    assert legacy.headers_now() == await legacy.headers() == {"Authorization": "Bot 42.t0k", "X-Union-Appid": "42"}
    assert "t0k" not in repr(legacy)


class _Client:
    """Answers every request with one canned response and records what it was asked."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.answer = Response(status, headers or {"x-tps-trace-id": "T1"}, body)
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    async def request(self, method: str, path: str, **kw):  # type: ignore[no-untyped-def]
        self.calls.append((method, path, dict(kw["headers"])))
        await trio.lowlevel.checkpoint()
        return self.answer


async def test_exchange_and_request_agree_and_send_the_cached_headers() -> None:
    client = _Client(200, b'{"id":"m1","timestamp":1}')
    core = HttpCore(LegacyToken("42", "t0k"), client)
    route = Route("POST", "/v2/groups/{group_openid}/messages", group_openid="G1")
    status, data, trace, attempts = await core.exchange(route, json={"content": "x"})
    response = await core.request(route, json={"content": "x"})
    assert (status, data, trace, attempts) == (response.status, response.data, response.trace_id,
                                                response.attempts) == (200, {"id": "m1", "timestamp": 1}, "T1", 1)
    assert client.calls == [("POST", "/v2/groups/G1/messages",
                             {"Authorization": "Bot 42.t0k", "X-Union-Appid": "42"})] * 2
    assert core.last_trace_id == "T1"
    assert core.concurrency.borrowed_tokens == 0
