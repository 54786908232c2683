"""A local emulator of the QQ Open Platform (REST, token endpoint, websocket gateway, webhook).

    from qgactor.emulator import open_emulator

    async with open_emulator(heartbeat_interval_ms=500) as emu:
        ...  # point a bot at emu.api_url / emu.token_url, log in with emu.appid / emu.secret
        sent = await emu.control.send_message("group", "hello")
        reply = await emu.control.wait_for_reply(sent["message_id"])

It serves the spec (``shared/qq-protocol.md``), not our client: it shares only protocol
constants with ``qgactor.qq``. Standalone: ``python -m qgactor.emulator`` (``--help``).

Default world (``default_world.toml``): appid ``102000001``; bot user ``5566778899001122334``;
users alice ``144115218181000001`` (C2C openid ``A11CE000000000000000000000000001``), bob
``144115218181000002`` (``B0B00000000000000000000000000002``), carol ``144115218181000003``;
guild ``18700000000001`` (shard 1 of 2; text channels ``100010`` general, ``100011``
bot-commands, voice ``100012``, forum ``100013``, category ``100014``; role ``10001``) and
guild ``18700004194305`` (shard 0 of 2; channel ``200010``); groups
``C9F778FE6ADF9D1D1DBE395BF744A33A`` (alice owner ``E4F4AEA33253A2797FB897C50B81D7ED``, bob,
carol admin) and ``D0F778FE6ADF9D1D1DBE395BF744A33B``.
"""

from .client import ControlClient, ControlError
from .config import EmulatorConfig
from .platform import Platform
from .server import Emulator, open_emulator, serve_emulator, tune_gc_for_serving
from .signing import public_key_bytes, seed_from_secret, sign_payload, validation_signature
from .world import World, WorldError

__all__ = [
    "open_emulator", "serve_emulator", "Emulator", "EmulatorConfig", "World", "WorldError",
    "ControlClient", "ControlError", "Platform", "public_key_bytes", "seed_from_secret",
    "sign_payload", "validation_signature", "tune_gc_for_serving",
]
