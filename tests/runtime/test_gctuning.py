"""``tune_gc_for_throughput``: thresholds set, start-up objects frozen (or not), bad input refused.
The process-wide settings are restored after each test."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from qgactor.runtime import THROUGHPUT_GC_THRESHOLDS, tune_gc_for_throughput


@pytest.fixture
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_freezes_and_sets_thresholds(restore_gc: None) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    tune_gc_for_throughput((12_345, 7, 9))
    assert gc.get_threshold() == (12_345, 7, 9)
    assert gc.get_freeze_count() > 0


def test_without_freeze_only_thresholds_change(restore_gc: None) -> None:
    gc.unfreeze()
    tune_gc_for_throughput(freeze=False)
    assert gc.get_threshold() == THROUGHPUT_GC_THRESHOLDS
    assert gc.get_freeze_count() == 0


def test_negative_threshold_is_refused_and_changes_nothing(restore_gc: None) -> None:
    before = gc.get_threshold()
    with pytest.raises(ValueError, match="must not be negative"):
        tune_gc_for_throughput((-1, 10, 10))
    assert gc.get_threshold() == before
