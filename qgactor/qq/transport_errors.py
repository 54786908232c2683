"""The error hierarchy of qgactor's HTTP transport (``qgactor.qq.transport``).

``TransportError``: the request got no complete HTTP answer. ``NotSentError`` and its
subclasses mark the failures after which the request provably never reached the server, so
``qgactor.qq.http`` may retry even a non-idempotent send; after any other one the request may
have been processed.
"""

from __future__ import annotations

__all__ = [
    "TransportError", "NotSentError", "ConnectError", "ConnectTimeout", "PoolTimeout",
    "ReadTimeout", "WriteTimeout", "ReadError", "WriteError", "ProtocolError",
]


class TransportError(Exception):
    """The request got no complete HTTP answer (network, timeout or protocol failure)."""


class NotSentError(TransportError):
    """A transport failure after which the request provably never reached the server."""


class ConnectError(NotSentError):
    """The connection could not be opened (DNS, refused, TLS handshake). Check the URL and network."""


class ConnectTimeout(ConnectError):
    """Opening the connection took longer than the timeout."""


class PoolTimeout(NotSentError):
    """No connection slot became free within the timeout (``max_connections`` are all busy)."""


class WriteError(TransportError):
    """Sending the request failed; the server may have received part or all of it."""


class WriteTimeout(WriteError):
    """Sending the request took longer than the timeout; it may have been processed."""


class ReadError(TransportError):
    """The connection failed while waiting for or reading the answer; the request may have been processed."""


class ReadTimeout(ReadError):
    """The answer did not arrive within the timeout; the request may have been processed."""


class ProtocolError(ReadError):
    """The server broke HTTP/1.1 (bad framing, closed mid-answer); the request may have been processed."""
