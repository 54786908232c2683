"""The emulator's HTTP/1.1 + websocket server on trio.

httptools (llhttp) parses requests, :mod:`.wire` writes the answers (headers checked
against injection), wsproto does every websocket step (handshake, frames, close); this
package moves bytes between them and the sockets and calls the application. It replaced hypercorn for the emulator (hypercorn's
per-request machinery cost more than the emulator's own work; figures in
``benchmarks/notes/emulator.md``).

- :class:`HttpServer`: accept loop, one task per connection, idle sweeper.
- :class:`HttpApp`: what it serves (``http``, ``websocket``, ``refusal``).
- :class:`ServerWebSocket`: an accepted websocket (``receive``, ``send_texts``, ``close``, ``abort``).
"""

from .connection import HttpApp, HttpConnection, ServerLimits, http_date
from .listener import HttpServer, base_url, bind
from .sockio import SocketIO
from .websocket import ServerWebSocket, WebsocketHandler

__all__ = [
    "HttpServer", "HttpApp", "HttpConnection", "ServerLimits", "ServerWebSocket", "WebsocketHandler",
    "SocketIO", "bind", "base_url", "http_date",
]
