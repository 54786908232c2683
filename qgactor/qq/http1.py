"""HTTP/1.1 answers as a client reads them, sans-I/O: bytes in, status, headers and body out.

``ResponseParser`` takes the bytes of one answer, in pieces of any size, and gives back its
status, headers and body (its counterpart for requests is ``qgactor.qq.http1_request``). It
does no I/O; ``qgactor.qq.transport`` feeds it what ``qgactor.qq.http1_connection`` reads. It
follows the grammar of RFC 9112 and accepts and rejects what ``h11`` 0.16 does
(``tests/qq/test_qq_http1.py`` checks that differentially with hypothesis) at a tenth of the
cost: a complete head is parsed with a handful of C-level regex calls and one dict, instead
of an event object per part and a re-validation of every header.

What an answer may be (as in h11): a status line ``HTTP/d.d NNN [reason]``; header lines
``name: value`` (obsolete line folding joined with a space); lines ending in CRLF or a bare
LF; ``1xx`` answers before the final one are skipped (``101`` is refused: we never ask to
switch protocols); the body framed by ``Transfer-Encoding: chunked`` (trailers validated,
then dropped), else ``Content-Length``, else by the end of the connection; no body for
``HEAD``, ``204`` and ``304``. Anything else raises ``ProtocolError`` saying what was wrong.
Two deliberate differences from h11: an answer with both ``Transfer-Encoding`` and
``Content-Length`` (RFC 9112 6.3: a possible smuggling or splitting attempt) is read as
chunked but ends its connection (``keep_alive`` is false); whitespace between a chunk size
and its extensions (RFC 9112 7.1.1 BWS) is accepted.
"""

from __future__ import annotations

import re

from qgactor.qq.transport_errors import ProtocolError

__all__ = ["ResponseParser", "MAX_HEAD_SIZE"]

#: An answer head (or a chunk-size line, or a trailer block) still incomplete past this many
#: bytes is refused: the server is not speaking HTTP or sends absurd headers.
MAX_HEAD_SIZE = 65536

_TOKEN = r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
#: A visible character or obs-text, as a latin-1 str: anything but NUL and whitespace
#: (control characters are tolerated, as in h11: some servers send them).
_VCHAR = r"[^\x00\t\n\x0b\x0c\r ]"
_CONTENT = rf"{_VCHAR}+(?:[ \t]+{_VCHAR}+)*"
_HEADER = rf"({_TOKEN}):[ \t]*((?:{_CONTENT})?)[ \t]*"
_HEADER_LINE = re.compile(_HEADER)
#: Every line of a validated header block, in one C call (``^`` and ``\n`` bound each match).
_HEADER_LINES = re.compile(rf"^{_HEADER}\n", re.M)
_STATUS_LINE = re.compile(r"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: [^\x00\n\x0b\x0c\r]*)?")
_BLANK_LINE = re.compile(rb"\n\r?\n")
#: A chunk size, then extensions (dropped; whitespace before them is RFC 9112's BWS, which a
#: recipient must accept), then CRLF.
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,20})[ \t]*(?:;.*)?[ \t]*\r\n")
_DIGITS = re.compile(r"[0-9]{1,20}")

_HEAD, _LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = range(8)


class ResponseParser:
    """One answer, fed in pieces: ``ResponseParser(head_request=False)``.

    ``feed(data)`` returns ``True`` once the answer is complete; ``feed_eof()`` says the
    server closed the connection (``True`` if that completed a body delimited by the close).
    Then ``status``, ``headers`` (lower-cased names; repeated ones joined with ``", "``),
    ``body()``, ``keep_alive`` (HTTP/1.1 without ``Connection: close``, not delimited by
    the close, not framed by both Transfer-Encoding and Content-Length) and ``trailing`` (bytes the server sent after the answer) are set. Both raise
    ``ProtocolError`` for anything HTTP/1.1 does not allow; feeding after that is an error.
    """

    __slots__ = ("head_request", "status", "headers", "keep_alive", "trailing",
                 "_state", "_buf", "_search", "_chunks", "_left")

    def __init__(self, head_request: bool = False) -> None:
        self.head_request = head_request
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = True
        self.trailing = b""
        self._state = _HEAD
        self._buf = b""  # unconsumed bytes (a bytearray once pieces have to be joined)
        self._search = 0  # where the blank-line search resumes in _buf
        self._chunks: list[bytes] = []
        self._left = 0

    def body(self) -> bytes:
        """The body received so far (all of it once the answer is complete)."""
        chunks = self._chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def feed(self, data: bytes) -> bool:
        """Parse ``data``; ``True`` once the answer is complete. Raises ``ProtocolError``."""
        state = self._state
        if state == _LENGTH and not self._buf:  # the common second piece: the rest of the body
            left = self._left
            if len(data) < left:
                self._chunks.append(data)
                self._left = left - len(data)
                return False
            self._chunks.append(data[:left] if len(data) > left else data)
            self.trailing = data[left:]
            self._state = _DONE
            return True
        if state == _DONE:
            raise RuntimeError("the answer is already complete")
        if self._buf:
            buf = self._buf
            if not isinstance(buf, bytearray):
                buf = self._buf = bytearray(buf)
            buf += data
        else:
            self._buf = data
        return self._run()

    def feed_eof(self) -> bool:
        """The server closed the connection: ``True`` if the answer is thereby complete (a body
        delimited by the close); raises ``ProtocolError`` if it was cut short."""
        state = self._state
        if state == _UNTIL_CLOSE:
            self._state = _DONE
            return True
        if state == _DONE:
            return True
        if state == _HEAD:
            raise ProtocolError("the server closed the connection before the end of the answer's head")
        if state == _LENGTH:
            raise ProtocolError(f"the server closed the connection {self._left} bytes before the end of "
                                "the body its Content-Length announced")
        raise ProtocolError("the server closed the connection in the middle of a chunked body")

    def _run(self) -> bool:
        while True:
            state = self._state
            buf = self._buf
            if state == _HEAD:
                if not self._head(buf):
                    return False
            elif state == _LENGTH:
                if not self._counted(buf, _DONE):
                    return False
            elif state == _UNTIL_CLOSE:
                if buf:
                    self._chunks.append(bytes(buf))
                    self._buf = b""
                return False
            elif state == _DONE:
                self.trailing = bytes(buf)
                self._buf = b""
                return True
            elif not self._chunked(buf):
                return False

    def _head(self, buf: bytes | bytearray) -> bool:
        if not buf:
            return False
        if buf[0] < 0x21:  # a blank line or whitespace first: not a status line, complete or not
            raise ProtocolError(f"the answer does not start with an HTTP status line: {bytes(buf[:40])!r}")
        match = _BLANK_LINE.search(buf, self._search)
        if match is None:
            if len(buf) > MAX_HEAD_SIZE:
                raise ProtocolError(f"the answer's head is over {MAX_HEAD_SIZE} bytes without ending")
            self._search = max(0, len(buf) - 2)
            return False
        end = match.start() + 1
        text = buf[:end].decode("latin-1").replace("\r\n", "\n")
        self._buf = buf[match.end():]
        self._search = 0
        newline = text.index("\n")
        line = text[:newline]
        status_match = _STATUS_LINE.fullmatch(line)
        if status_match is None:
            raise ProtocolError(f"invalid HTTP status line {line[:100]!r}")
        status = int(status_match[2])
        headers = _parse_headers(text[newline + 1:])
        if status < 200:
            if status < 100:
                raise ProtocolError(f"invalid HTTP status code {status}")
            if status == 101:
                raise ProtocolError("the server switched protocols (101), which this client never asks for")
            return True  # an interim answer: the final one follows
        self.status = status
        self.headers = headers
        if status_match[1] < "1.1" or "close" in _tokens(headers.get("connection")):
            self.keep_alive = False
        if self.head_request or status == 204 or status == 304:
            self._state = _DONE
        elif "transfer-encoding" in headers:
            self._state = _CHUNK_SIZE_LINE
            if "content-length" in headers:  # RFC 9112 6.3: chunked wins, but the framings
                self.keep_alive = False  # disagree (smuggling, splitting): trust nothing after it
        elif "content-length" in headers:
            self._left = int(headers["content-length"])
            self._state = _LENGTH if self._left else _DONE
        else:
            self.keep_alive = False
            self._state = _UNTIL_CLOSE
        return True

    def _counted(self, buf: bytes | bytearray, then: int) -> bool:
        """Take up to ``self._left`` body bytes from ``buf`` (a Content-Length body or one
        chunk's data); once all are in, go to state ``then``. ``False`` when it needs more."""
        if not buf:
            return False
        left = self._left
        self._chunks.append(bytes(buf[:left]))
        if len(buf) < left:
            self._left = left - len(buf)
            self._buf = b""
            return False
        self._buf = buf[left:]
        self._state = then
        return True

    def _chunked(self, buf: bytes | bytearray) -> bool:
        """One step of a chunked body; ``False`` when it needs more bytes."""
        state = self._state
        if state == _CHUNK_DATA:
            if not self._counted(buf, _CHUNK_END):
                return False
        elif state == _CHUNK_END:
            if len(buf) < 2:
                if buf and buf[0] != 0x0D:
                    raise ProtocolError(f"a chunk of the body does not end with CRLF: {bytes(buf)!r}")
                return False
            if buf[:2] != b"\r\n":
                raise ProtocolError(f"a chunk of the body does not end with CRLF: {bytes(buf[:2])!r}")
            self._buf = buf[2:]
            self._state = _CHUNK_SIZE_LINE
        elif state == _CHUNK_SIZE_LINE:
            end = buf.find(b"\r\n", self._search)
            if end < 0:
                if len(buf) > MAX_HEAD_SIZE:
                    raise ProtocolError(f"a chunk-size line is over {MAX_HEAD_SIZE} bytes")
                self._search = max(0, len(buf) - 1)
                return False
            self._search = 0
            line = buf[:end + 2]
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise ProtocolError(f"invalid chunk-size line {bytes(line[:100])!r}")
            self._buf = buf[end + 2:]
            self._left = int(match[1], 16)
            self._state = _CHUNK_DATA if self._left else _TRAILERS
        else:  # _TRAILERS
            if buf[:1] == b"\n" or buf[:2] == b"\r\n":
                self._buf = buf[1 if buf[:1] == b"\n" else 2:]
                self._state = _DONE
                return True
            match = _BLANK_LINE.search(buf, self._search)
            if match is None:
                if len(buf) > MAX_HEAD_SIZE:
                    raise ProtocolError(f"the body's trailers are over {MAX_HEAD_SIZE} bytes without ending")
                self._search = max(0, len(buf) - 2)
                return False
            _parse_headers(buf[:match.start() + 1].decode("latin-1").replace("\r\n", "\n"))  # validated, dropped
            self._buf = buf[match.end():]
            self._search = 0
            self._state = _DONE
        return True


def _tokens(value: str | None) -> list[str]:
    if not value:
        return []
    return [token.strip() for token in value.lower().split(",")]


def _parse_headers(block: str) -> dict[str, str]:
    """``name: value`` lines, each ending in ``\\n``, into a dict (see ``ResponseParser``);
    the framing headers are checked as h11 does. Raises ``ProtocolError``."""
    pairs = _HEADER_LINES.findall(block)
    if len(pairs) != block.count("\n"):
        pairs = _slow_pairs(block)
    headers: dict[str, str] = {}
    lengths: set[str] | None = None
    for name, value in pairs:
        key = name.lower()
        if key == "content-length":
            found = {part.strip() for part in value.split(",")}
            if lengths is None:
                lengths = found
                headers[key] = value
            else:
                lengths |= found
            continue
        if key in headers:
            if key == "transfer-encoding":
                raise ProtocolError("the answer has more than one Transfer-Encoding header")
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    if lengths is not None:
        if len(lengths) != 1:
            raise ProtocolError(f"the answer has conflicting Content-Length values {sorted(lengths)}")
        (length,) = lengths
        if not _DIGITS.fullmatch(length):
            raise ProtocolError(f"invalid Content-Length {length[:40]!r}")
        headers["content-length"] = length
    coding = headers.get("transfer-encoding")
    if coding is not None:
        coding = coding.lower()
        if coding != "chunked":
            raise ProtocolError(f"unsupported Transfer-Encoding {coding[:40]!r} (only chunked is)")
        headers["transfer-encoding"] = coding
    return headers


def _slow_pairs(block: str) -> list[tuple[str, str]]:
    """Header lines one by one: obsolete line folding, and the offending line in the error."""
    lines: list[str] = []
    for line in block.split("\n")[:-1]:
        if line[:1] in (" ", "\t"):
            if not lines:
                raise ProtocolError(f"the answer's first header line is a continuation: {line[:100]!r}")
            lines[-1] += " " + line.lstrip(" \t")
        else:
            lines.append(line)
    pairs = []
    for line in lines:
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid HTTP header line {line[:100]!r}")
        pairs.append((match[1], match[2]))
    return pairs
