"""Fixtures of the apps tests (helpers live in ``apps_helpers.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps_helpers import QGACTOR, run_qgactor


@pytest.fixture
def qgactor():
    """``run_qgactor`` as a fixture: ``qgactor("status", cwd=tmp_path)``."""
    if not QGACTOR.exists():
        pytest.fail(f"{QGACTOR} is missing: install the package (pip install -e .)")
    return run_qgactor


@pytest.fixture
def qgactor_exe() -> Path:
    """The installed ``qgactor`` executable next to this Python."""
    if not QGACTOR.exists():
        pytest.fail(f"{QGACTOR} is missing: install the package (pip install -e .)")
    return QGACTOR


@pytest.fixture(autouse=True)
def _restore_logging():
    """In-process ``main()`` calls install log handlers on the root logger; remove them after."""
    import logging

    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if getattr(h, "_qgactor", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
