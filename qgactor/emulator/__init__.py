"""A local emulator of the QQ Open Platform (REST, token endpoint, websocket gateway, webhook).

    from qgactor.emulator import open_emulator

    async with open_emulator(heartbeat_interval_ms=500) as emu:
        ...  # point a bot at emu.api_url / emu.token_url, log in with emu.appid / emu.secret
        sent = await emu.control.send_message("group", "hello")
        reply = await emu.control.wait_for_reply(sent["message_id"])

It serves the spec (``shared/qq-protocol.md``), not our client: it shares only protocol
constants with ``qgactor.qq``. Standalone: ``python -m qgactor.emulator``.
"""

from .client import ControlClient, ControlError
from .config import EmulatorConfig
from .platform import Platform
from .server import Emulator, open_emulator, serve_emulator
from .signing import public_key_bytes, seed_from_secret, sign_payload, validation_signature
from .world import World, WorldError

__all__ = [
    "open_emulator", "serve_emulator", "Emulator", "EmulatorConfig", "World", "WorldError",
    "ControlClient", "ControlError", "Platform", "public_key_bytes", "seed_from_secret",
    "sign_payload", "validation_signature",
]
