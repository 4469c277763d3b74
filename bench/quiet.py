"""Other work on the machine skews every number: measure how busy it is before starting."""

from __future__ import annotations

import time

from bench.cpu import cpu_times
from bench.measure import say

QUIET_BUSY = 0.10  # share of all cores busy
SAMPLE_S = 2.0


def busy_share(sample_s: float = SAMPLE_S) -> float:
    busy0, total0 = cpu_times()
    time.sleep(sample_s)
    busy1, total1 = cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet(timeout_s: float) -> float:
    """Waits (up to `timeout_s`) until the machine is nearly idle; returns the last share."""
    deadline = time.monotonic() + timeout_s
    share = busy_share()
    while share > QUIET_BUSY and time.monotonic() < deadline:
        say(f"machine {share:.0%} busy: waiting for it to quiet down")
        share = busy_share(5.0)
    if share > QUIET_BUSY:
        say(f"machine still {share:.0%} busy: other work will skew the results")
    return share
