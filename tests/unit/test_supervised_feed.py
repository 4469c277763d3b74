"""The store feed's supervisor: a failure is logged and the feed starts again after a
growing backoff; it is `restarting` until a round reaches the head again."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import pytest
from structlog.testing import CapturingLogger

from projections import feed as feed_module
from projections.feed import FeedState, SupervisedFeed


def test_the_feed_restarts_with_a_growing_backoff_and_reports_its_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The module's own logger, replaced: structlog's capture_logs misses a logger that an
    # earlier test's configuration cached on first use.
    logger = CapturingLogger()
    monkeypatch.setattr(feed_module, "log", logger)
    started: list[float] = []
    recovered = threading.Event()

    def run(stop: threading.Event, caught_up: Callable[[], None]) -> None:
        started.append(time.monotonic())
        if len(started) <= 3:
            raise ValueError(f"failure {len(started)}")
        caught_up()
        recovered.set()
        stop.wait()

    feed = SupervisedFeed(run, backoff_s=0.05, max_backoff_s=0.15)
    feed.start()
    assert recovered.wait(5)
    running = feed.health()
    feed.stop()
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert [round(g, 2) >= d for g, d in zip(gaps, (0.05, 0.1, 0.15), strict=True)] == [True] * 3
    assert running.state == FeedState.RUNNING
    assert running.ready
    assert (running.restarts, running.last_error) == (3, "ValueError: failure 3")
    assert feed.health().state == FeedState.STOPPED
    failed = [c for c in logger.calls if c.args == ("store_feed.failed",)]
    assert [c.method_name for c in failed] == ["error"] * 3
    assert [c.kwargs["restart_in_s"] for c in failed] == [0.05, 0.1, 0.15]


def test_a_feed_that_fails_is_not_ready_until_it_has_caught_up_again() -> None:
    failed_once = threading.Event()
    release = threading.Event()

    def run(stop: threading.Event, caught_up: Callable[[], None]) -> None:
        if not failed_once.is_set():
            failed_once.set()
            raise RuntimeError("connection refused")
        release.wait(5)  # restarted, catching up: not at the head yet
        caught_up()
        stop.wait()

    feed = SupervisedFeed(run, backoff_s=0.01)
    feed.start()
    try:
        assert failed_once.wait(5)
        time.sleep(0.1)
        assert feed.health().state == FeedState.RESTARTING
        assert not feed.health().ready
        release.set()
        deadline = time.monotonic() + 5
        while not feed.health().ready and time.monotonic() < deadline:
            time.sleep(0.01)
        assert feed.health().ready
    finally:
        release.set()
        feed.stop()
