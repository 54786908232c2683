"""Fixtures for the plugin tests (helpers live in ``plugins_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    d = tmp_path / "plugins"
    d.mkdir()
    return d
