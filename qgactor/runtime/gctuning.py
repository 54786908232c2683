"""Garbage-collector settings for a process that a long-running trio program owns.

CPython's cyclic collector runs a young-generation pass every 700 net allocations and, every
so often, a full pass over every tracked object. A bot or server under load allocates many
short-lived objects (parsed events, coroutines, request records) and, when work queues up,
keeps enough of them alive for them to be promoted: full passes over a large heap then cost
as much as the work itself (measured for the echo bot: 12-18 % of its CPU during a burst).
Objects alive at start-up (modules, the actor tree, the world) never become garbage, so they
are frozen out of collection, and the young generation is collected less often.
"""

from __future__ import annotations

import gc

__all__ = ["THROUGHPUT_GC_THRESHOLDS", "tune_gc_for_throughput"]

#: ``gc.set_threshold`` values used by :func:`tune_gc_for_throughput` by default.
THROUGHPUT_GC_THRESHOLDS: tuple[int, int, int] = (10_000, 20, 20)


def tune_gc_for_throughput(thresholds: tuple[int, int, int] = THROUGHPUT_GC_THRESHOLDS, *,
                           freeze: bool = True) -> None:
    """Collect once, with ``freeze`` move every object alive now out of future collections
    (``gc.freeze``), and set the collector's ``thresholds``.

    Process-wide: call it only from code that owns the process (``Bot.run()`` and ``qgactor
    run`` do, once the bot is up; an application embedding a bot decides for itself). Cycles
    are still collected, less often. A frozen object that later becomes part of a garbage
    cycle is never reclaimed, so a process that replaces code at run time (``qgactor run``
    hot-reloads plugins: an old module and its functions form such a cycle) passes
    ``freeze=False``. Raises ``ValueError`` if a threshold is negative.
    """
    if any(t < 0 for t in thresholds):
        raise ValueError(f"garbage-collector thresholds must not be negative, got {thresholds}")
    gc.collect()
    if freeze:
        gc.freeze()
    gc.set_threshold(*thresholds)
