"""``qgactor.qq.http1`` and ``http1_request``: the sans-I/O HTTP/1.1 client wire format, against h11.

Random answers, valid and malformed, split at random byte boundaries: ``ResponseParser`` must
give the same status, headers, body, keep-alive decision and leftover bytes as h11 0.16, or
reject exactly when h11 does (with a ``ProtocolError``). Random requests: ``RequestEncoder``
must write the bytes h11 writes, or refuse exactly what h11 refuses. ``QGACTOR_HTTP1_EXAMPLES``
sets how many random answers to try (default 600; a long run: 50000).
"""

from __future__ import annotations

import os
from typing import Any

import h11
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qgactor.qq.http1 import MAX_HEAD_SIZE, ResponseParser
from qgactor.qq.http1_request import RequestEncoder
from qgactor.qq.transport_errors import ProtocolError

EXAMPLES = int(os.environ.get("QGACTOR_HTTP1_EXAMPLES", "600"))
Outcome = tuple[Any, ...]
REJECT: Outcome = ("reject",)


def _headers_dict(pairs: Any) -> dict[str, str]:
    """Header pairs as the transport exposes them (what the h11-based transport built)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key, text = bytes(name).decode("latin-1"), bytes(value).decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def run_h11(method: str, pieces: list[bytes]) -> Outcome:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=method, target="/", headers=[("host", "example")]))
    conn.send(h11.EndOfMessage())
    status, headers, body = 0, {}, []
    try:
        for index, piece in enumerate([*pieces, b""]):
            conn.receive_data(piece)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    break
                if type(event) is h11.Response:
                    status, headers = event.status_code, _headers_dict(event.headers)
                elif type(event) is h11.Data:
                    body.append(bytes(event.data))
                elif type(event) is h11.EndOfMessage:
                    by_eof = index == len(pieces)
                    # deliberate difference: an answer with a body framed by both
                    # Transfer-Encoding and Content-Length ends its connection (RFC 9112
                    # 6.3); h11 would reuse it
                    both = ("transfer-encoding" in headers and "content-length" in headers
                            and method != "HEAD" and status not in (204, 304))
                    keep = conn.their_state is h11.DONE and not by_eof and not both
                    return ("ok", status, headers, b"".join(body), keep, bytes(conn.trailing_data[0]))
                elif type(event) is not h11.InformationalResponse:  # pragma: no cover
                    raise AssertionError(f"unexpected {event!r}")
    except h11.RemoteProtocolError:
        return REJECT
    raise AssertionError("h11 neither finished nor failed after EOF")  # pragma: no cover


def run_ours(method: str, pieces: list[bytes]) -> Outcome:
    parser = ResponseParser(head_request=method == "HEAD")
    try:
        done = False
        for piece in pieces:
            if piece and parser.feed(piece):
                done = True
                break
        if not done:
            assert parser.feed_eof()
    except ProtocolError as exc:
        assert str(exc)  # a message saying what was wrong
        return REJECT
    return ("ok", parser.status, parser.headers, parser.body(), parser.keep_alive, parser.trailing)


# ---------------------------------------------------------------- answer strategies

_TCHARS = "!#$%&'*+-.^_`|~abcxyzABCXYZ0189"
_VALUE_CHARS = st.sampled_from(["a", "Z", "0", " ", "\t", ",", ";", "=", '"', "\x01", "\x7f", "\x80", "\xff",
                                "\x00", "\r", "\x0b", ":", "é"])
_SPICE = st.integers(0, 30)  # how often a part is malformed: 0 means "make it bad" (~3 %)


@st.composite
def header_value(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)):
        return draw(st.sampled_from(["application/json", "x", "a b", "", "  padded\t", "1, 2", "v=1; q=\"a,b\""]))
    return draw(st.text(_VALUE_CHARS, max_size=8))


@st.composite
def header_line(draw: st.DrawFn, body_len: int) -> str:
    kind = draw(st.integers(0, 12))
    if kind == 0:
        name = draw(st.text(st.sampled_from(_TCHARS + " :@\x00é"), max_size=6))
        return f"{name}: {draw(header_value())}"
    if kind == 1:
        lengths = [str(body_len), f"{body_len}, {body_len}", f" {body_len} ", str(body_len + 1), "-1", "abc", "",
                   "1" * 21, "0" * 21, f"{body_len},"]
        return f"Content-Length: {draw(st.sampled_from(lengths))}"
    if kind == 2:
        codings = ["chunked", "Chunked", "gzip", "chunked, chunked", "gzip, chunked", ""]
        return f"Transfer-Encoding: {draw(st.sampled_from(codings))}"
    if kind == 3:
        options = ["close", "keep-alive", "Keep-Alive, Close", "upgrade", " close "]
        return f"Connection: {draw(st.sampled_from(options))}"
    if kind == 4:
        return f" folded{draw(header_value())}"  # obsolete line folding
    if kind == 5:
        return draw(st.sampled_from(["NoColon", "Name :x", "x:" "\x00", ":empty-name", "a: b\rc", "a:b"]))
    name = draw(st.text(st.sampled_from(_TCHARS), min_size=1, max_size=6))
    return f"{name}: {draw(header_value())}"


def _chunked(draw: st.DrawFn, body: bytes) -> bytes:
    out = []
    rest = body
    while rest:
        size = draw(st.integers(1, len(rest)))
        ext = draw(st.sampled_from(["", "", ";a=b", " ", ";x\r"]))
        digits = draw(st.sampled_from(["%x", "%X", "%04x"])) % size
        if not draw(_SPICE):
            digits = draw(st.sampled_from(["g", "", " 1", "1" * 21, "-1"]))
        end = b"\r\n" if draw(_SPICE) else draw(st.sampled_from([b"\n", b"xx", b""]))
        out.append(f"{digits}{ext}\r\n".encode("latin-1") + rest[:size] + end)
        rest = rest[size:]
    last = draw(st.sampled_from(["0\r\n", "0;ext=1\r\n", "000\r\n"]))
    trailer = draw(st.sampled_from(["\r\n", "\n", "X-T: 1\r\n\r\n", "X-T: 1\n\n", "Content-Length: x\r\n\r\n",
                                    "bad trailer\r\n\r\n", " folded\r\n\r\n", "\r"]))
    out.append((last + trailer).encode("latin-1"))
    return b"".join(out)


@st.composite
def answer(draw: st.DrawFn) -> bytes:
    parts: list[bytes] = []
    for _ in range(draw(st.integers(0, 2)) if not draw(st.integers(0, 3)) else 0):
        code = draw(st.sampled_from([100, 102, 103, 199, 101]))
        interim = [f"HTTP/1.1 {code} Info"] + [draw(header_line(0)) for _ in range(draw(st.integers(0, 2)))]
        parts.append(("\r\n".join(interim) + "\r\n\r\n").encode("latin-1"))
    body = draw(st.binary(max_size=40))
    version = draw(st.sampled_from(["1.1"] * 6 + ["1.0", "2.0", "0.9", "1.x", "11"]))
    code = draw(st.sampled_from(["200"] * 4 + ["201", "204", "304", "404", "500", "999", "099", "2000", "20", "abc"]))
    reason = draw(st.sampled_from([" OK", " OK", "", " ", " Not\tFound", " caf\xe9", " bad\x00", " a\rb", "OK"]))
    lines = [f"HTTP/{version} {code}{reason}"]
    framing = draw(st.sampled_from(["length", "length", "chunked", "close", "none"]))
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    lines += [draw(header_line(len(body))) for _ in range(draw(st.integers(0, 4)))]
    if framing == "close":
        lines.append("Connection: close")
    if draw(st.booleans()):
        draw(st.randoms()).shuffle(lines[1:])
    newline = "\r\n" if draw(st.integers(0, 5)) else "\n"
    head = (newline.join(lines) + newline + newline).encode("latin-1")
    if not draw(_SPICE):
        head = draw(st.sampled_from([b"\r\n", b"\n", b" ", b"\x16\x03\x01"])) + head
    payload = _chunked(draw, body) if framing == "chunked" else body
    extra = draw(st.sampled_from([b""] * 5 + [b"HTTP/1.1 200 OK\r\n", b"x"]))
    return b"".join(parts) + head + payload + extra


@st.composite
def split(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    pieces, last = [], 0
    for cut in [*cuts, len(data)]:
        if cut > last:  # an empty piece would mean the end of the connection
            pieces.append(data[last:cut])
        last = cut
    return pieces


@st.composite
def scenario(draw: st.DrawFn) -> tuple[str, list[bytes]]:
    method = draw(st.sampled_from(["GET", "POST", "POST", "HEAD", "DELETE"]))
    data = draw(answer())
    return method, draw(split(data))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
@example(("GET", [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]))
@example(("GET", [b"HTTP/1.1 200 OK\r", b"\nTransfer-Encoding: chunked\r\n\r\n2\r", b"\nok\r\n0\r\n\r", b"\n"]))
@example(("GET", [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nbody"]))
@example(("GET", [b"\r", b"\nHTTP/1.1 200 OK\r\n\r\n"]))
@example(("HEAD", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"]))
@example(("GET", [b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\nX: a\r\n  b\r\nx: c\r\n\r\n1"]))
def test_parser_agrees_with_h11(case: tuple[str, list[bytes]]) -> None:
    method, pieces = case
    assert run_ours(method, pieces) == run_h11(method, pieces)


@given(scenario())
@settings(max_examples=max(100, EXAMPLES // 6), deadline=None)
def test_splitting_does_not_change_the_outcome(case: tuple[str, list[bytes]]) -> None:
    method, pieces = case
    whole = b"".join(pieces)
    outcome = run_ours(method, pieces)[:5]  # what follows the answer depends on where the piece ended
    assert run_ours(method, [whole])[:5] == outcome
    assert run_ours(method, [bytes([b]) for b in whole])[:5] == outcome


# ---------------------------------------------------------------- answers, by hand

def _parse(data: bytes | list[bytes], method: str = "GET") -> ResponseParser:
    parser = ResponseParser(head_request=method == "HEAD")
    for piece in [data] if isinstance(data, bytes) else data:
        if parser.feed(piece):
            return parser
    assert parser.feed_eof()
    return parser


def test_a_typical_answer_in_two_pieces() -> None:
    parser = ResponseParser()
    assert not parser.feed(b"HTTP/1.1 200 \r\nContent-Type: application/json\r\nX-Tps-trace-ID: 3\r\n"
                           b"content-length: 7\r\nX-A: 1\r\nx-a: 2\r\n\r\n")
    assert parser.status == 200 and parser.headers == {
        "content-type": "application/json", "x-tps-trace-id": "3", "content-length": "7", "x-a": "1, 2"}
    assert not parser.feed(b'{"a"') and parser.feed(b':1}')
    assert parser.body() == b'{"a":1}' and parser.keep_alive and parser.trailing == b""


@pytest.mark.parametrize(("data", "keep"), [
    (b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\r\n\r\nuntil the end", False),
    (b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", True),
    # both framings (RFC 9112 6.3): chunked wins, and the connection is not used again
    (b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n", False),
])
def test_keep_alive_decision(data: bytes, keep: bool) -> None:
    assert _parse(data).keep_alive is keep


def test_no_body_for_head_204_304_and_interim_answers_skipped() -> None:
    assert _parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD").body() == b""
    parser = _parse(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nextra")
    assert parser.body() == b"" and parser.trailing == b"extra"  # the transport closes such a connection
    parser = _parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
                    b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!")
    assert (parser.status, parser.body(), parser.headers) == (201, b"!", {"content-length": "1"})


@pytest.mark.parametrize(("data", "message"), [
    (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"),
    (b"HTTP/1.1 200 OK\r\nbad line\r\n\r\n", "invalid HTTP header line 'bad line'"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "invalid HTTP status line"),
    (b"\x16\x03\x01\x02\x00", "does not start with an HTTP status line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart", "6 bytes before the end"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", "does not end with CRLF"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk-size line"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "middle of a chunked body"),
    (b"HTTP/1.1 200 OK\r\nContent-", "before the end of the answer's head"),
])
def test_malformed_answers_are_refused_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        _parse(data)


def test_an_endless_head_is_refused() -> None:
    parser = ResponseParser()
    assert not parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError, match="head is over"):
        for _ in range(MAX_HEAD_SIZE // 1000 + 2):
            parser.feed(b"X-Filler: " + b"a" * 988 + b"\r\n")


def test_whitespace_before_a_chunk_extension_is_parsed_and_dropped() -> None:
    # RFC 9112 7.1.1 chunk-ext = *( BWS ";" ...), and RFC 9110 5.6.3: a recipient MUST parse
    # such bad whitespace (h11 0.16 refuses it)
    parser = _parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5 ;a=b\r\nhello\r\n1\t; x\r\n!\r\n0 ;end\r\n\r\n")
    assert parser.body() == b"hello!" and parser.keep_alive and parser.trailing == b""


def test_chunked_body_with_trailers_and_a_big_content_length_body() -> None:
    parser = _parse([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5;x=y\r\nhello\r\n",
                     b"6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"])
    assert parser.body() == b"hello world" and parser.headers["transfer-encoding"] == "chunked"
    big = bytes(range(256)) * 4096
    pieces = [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big)]
    pieces += [big[i:i + 65536] for i in range(0, len(big), 65536)]
    assert _parse(pieces).body() == big


# ---------------------------------------------------------------- requests

_NAMES = st.one_of(st.sampled_from(["Authorization", "user-agent", "Content-Type", "X-Union-Appid", "connection",
                                    "bad name", "", "é", "a:b", "Accept\r\nX"]),
                   st.text(st.sampled_from(_TCHARS + " \x00"), min_size=0, max_size=5))
_VALUES = st.one_of(st.sampled_from(["QQBot abc.DEF-123", "application/json", "close", "", "a  b", " lead", "trail ",
                                     "x\r\ny: z", "\x01ctl", "tab\there", "caf\xe9", "\x7f"]),
                    st.text(_VALUE_CHARS, max_size=6))


def h11_head(method: str, target: str, host: str, headers: list[tuple[str, str]],
             length: int | None) -> bytes | None:
    all_headers = [("host", host), *headers] + ([("content-length", str(length))] if length is not None else [])
    try:
        return h11.Connection(h11.CLIENT).send(h11.Request(method=method, target=target, headers=all_headers))
    except (h11.LocalProtocolError, UnicodeEncodeError):
        return None


@settings(max_examples=max(300, EXAMPLES), deadline=None)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "G ET", "", "GÉT", "X-CUSTOM"]),
       target=st.sampled_from(["/v2/groups/ABC/messages", "/x?a=1&b=%20", "*", "", "/a b", "/é", "/\x7f"]),
       host=st.sampled_from(["127.0.0.1:8080", "api.sgroup.qq.com", "[::1]:80", "bad host", "", "é.example"]),
       headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=4),
       length=st.one_of(st.none(), st.integers(0, 10**6)))
def test_request_heads_agree_with_h11(method: str, target: str, host: str, headers: list[tuple[str, str]],
                                      length: int | None) -> None:
    headers = [(n, v) for n, v in headers if n.lower() not in ("host", "content-length", "transfer-encoding")]
    expected = h11_head(method, target, host, headers, length)
    encoder = RequestEncoder(host)
    for _ in range(2):  # the second time from the cache
        try:
            ours, closes = encoder.encode(method, target, headers, length)
        except ValueError as exc:
            assert expected is None, f"refused what h11 sends: {exc}"
            continue
        assert ours == expected
        assert closes is any(n.lower() == "connection" and "close" in [t.strip() for t in v.lower().split(",")]
                             for n, v in headers)


def test_request_head_refusals_say_what_is_wrong() -> None:
    encoder = RequestEncoder("example:80")
    assert encoder.encode("POST", "/p", [("Authorization", "QQBot t")], 2) == (
        b"POST /p HTTP/1.1\r\nhost: example:80\r\nAuthorization: QQBot t\r\ncontent-length: 2\r\n\r\n", False)
    with pytest.raises(ValueError, match="writes it itself"):
        encoder.encode("GET", "/", [("Content-Length", "3")], None)
    with pytest.raises(ValueError, match="header name 'bad name'"):
        encoder.encode("GET", "/", [("bad name", "x")], None)
    with pytest.raises(ValueError, match="value for HTTP header 'X-Token'") as info:
        encoder.encode("GET", "/", [("X-Token", "secret\r\nInjected: 1")], None)
    assert "secret" not in str(info.value)  # values may be credentials: never echoed
    with pytest.raises(ValueError, match="request target"):
        encoder.encode("GET", "/a b", [], None)
    with pytest.raises(ValueError, match="HTTP method"):
        encoder.encode("G T", "/", [], None)
    with pytest.raises(ValueError, match="Host header"):
        RequestEncoder("bücher.example").encode("GET", "/", [], None)
