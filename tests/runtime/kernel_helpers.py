"""Helpers shared by the kernel tests."""

from __future__ import annotations

from collections.abc import Callable

import trio


async def wait_until(cond: Callable[[], bool], timeout: float = 2.0, step: float = 0.001) -> None:
    """Poll ``cond`` every ``step`` seconds until it holds; ``trio.TooSlowError`` after ``timeout``."""
    with trio.fail_after(timeout):
        while not cond():
            await trio.sleep(step)
