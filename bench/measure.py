"""What every benchmark returns, and the small statistics they share."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.cpu import CpuShare, sample, share


@dataclass(frozen=True)
class Throughput:
    """`events` went through `stage` in `seconds` (wall clock)."""

    key: str
    stage: str
    events: int
    seconds: float
    cpu: CpuShare
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "events_per_s": round(self.per_second, 1)}


def percentiles(samples_s: Sequence[float], points: Sequence[float]) -> dict[str, float]:
    """Nearest-rank percentiles of samples in seconds, as milliseconds keyed `p50` etc."""
    if not samples_s:
        return {f"p{p:g}": float("nan") for p in points}
    ordered = sorted(samples_s)
    rank = {p: max(1, math.ceil(p / 100 * len(ordered))) for p in points}
    return {f"p{p:g}": round(ordered[rank[p] - 1] * 1000, 2) for p in points}


def latency_summary(samples_s: Sequence[float]) -> dict[str, float]:
    summary = percentiles(samples_s, (50, 90, 99))
    summary["max"] = round(max(samples_s, default=float("nan")) * 1000, 2)
    summary["count"] = len(samples_s)
    return summary


class Stopwatch:
    """Wall time, and how busy the whole machine was meanwhile (other work shows there)."""

    def __init__(self) -> None:
        self._cpu = sample()  # first: the scan of /proc takes a few ms
        self.began = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.began

    def cpu(self) -> CpuShare:
        """How busy the machine was since the start, and how much of that was other work."""
        return share(self._cpu, sample())


def say(message: str) -> None:
    """Progress on stderr, so stdout carries only the results table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
