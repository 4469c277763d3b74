"""adapters/heap.settle: what exists once a process is built leaves the collector's sight."""

from __future__ import annotations

import gc

from adapters import heap


def test_settling_freezes_what_exists_and_later_objects_are_collected_as_usual() -> None:
    try:
        heap.settle()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # made after settling: still collected
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
