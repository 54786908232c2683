"""qgactor: a trio-native actor runtime for official QQ bots.

The public API of every layer is re-exported here: the actor kernel (``qgactor.runtime``),
the platform client (``qgactor.qq``) and the bot (``qgactor.bot``). Plugins, config, the
emulator and the testing kit live in their own subpackages (``qgactor.plugins``,
``qgactor.config``, ``qgactor.emulator``, ``qgactor.testing``).
"""

from __future__ import annotations

from qgactor._version import __version__
from qgactor.runtime import *  # noqa: F403
from qgactor.runtime import __all__ as _runtime_all
from qgactor.qq import *  # noqa: F403
from qgactor.qq import __all__ as _qq_all
from qgactor.bot import *  # noqa: F403
from qgactor.bot import __all__ as _bot_all

__all__ = ["__version__", *_runtime_all, *_qq_all, *_bot_all]
