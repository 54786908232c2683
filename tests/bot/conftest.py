"""Fixtures for the bot tests."""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """A MockClock that jumps ahead whenever every task is blocked (used by pytest-trio for
    tests that request it)."""
    return trio.testing.MockClock(autojump_threshold=0)
