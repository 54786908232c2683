"""Fixtures of the gateway tests (helpers live in ``gw_helpers``)."""

from __future__ import annotations

import pytest
import trio.testing


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """Virtual time for the sans-I/O and pacing tests."""
    return trio.testing.MockClock(autojump_threshold=0)
