"""A processor's circuit breaker as Prometheus sees it: every series from the start, the
current state 1 (half open during a trial call), each opening counted, a re-opening after a
failed trial included."""

from __future__ import annotations

import time

import pybreaker
import pytest
from prometheus_client import REGISTRY

from adapters.metrics import watch_breaker

PROCESSOR = "unit-breaker"
STATES = ("closed", "open", "half_open")


def shown() -> dict[str, float | None]:
    labels = {"processor": PROCESSOR}
    return {
        state: REGISTRY.get_sample_value(
            "billing_processor_breaker_state", {**labels, "state": state}
        )
        for state in STATES
    }


def openings() -> float | None:
    return REGISTRY.get_sample_value(
        "billing_processor_breaker_opened_total", {"processor": PROCESSOR}
    )


def state(name: str) -> dict[str, float | None]:
    return {s: 1.0 if s == name else 0.0 for s in STATES}


def fail() -> None:
    raise ConnectionError("the processor does not answer")


def test_the_state_and_the_openings_follow_the_breaker() -> None:
    breaker = pybreaker.CircuitBreaker(fail_max=2, reset_timeout=0.05)
    watch_breaker(PROCESSOR, breaker)
    assert (shown(), openings()) == (state("closed"), 0)  # from the start

    for _ in range(2):
        with pytest.raises((ConnectionError, pybreaker.CircuitBreakerError)):
            breaker.call(fail)
    assert (shown(), openings()) == (state("open"), 1)

    time.sleep(0.06)
    with pytest.raises((ConnectionError, pybreaker.CircuitBreakerError)):
        breaker.call(fail)  # the trial fails: open again
    assert (shown(), openings()) == (state("open"), 2)

    time.sleep(0.06)
    during: list[dict[str, float | None]] = []
    breaker.call(lambda: during.append(shown()))  # the trial succeeds
    assert during == [state("half_open")]
    assert (shown(), openings()) == (state("closed"), 2)
