"""Placeholder (filled in below)."""

from __future__ import annotations

from ..http import Router
from ..platform import Platform


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""
