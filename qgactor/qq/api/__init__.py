"""The REST client, split into one mixin per endpoint group."""

from __future__ import annotations

from qgactor.qq.api.client import ApiClient

__all__ = ["ApiClient"]
