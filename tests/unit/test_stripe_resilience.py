"""The guard around Stripe calls: which failures are retried, which count against the
circuit breaker, and that an open circuit fails fast without calling Stripe."""

from __future__ import annotations

import pytest
import stripe

from adapters.stripe.resilience import BreakerPolicy, Guard, RetryPolicy
from commands.ports import ProcessorUnavailable

FAST = RetryPolicy(attempts=3, timeout_s=5, wait_initial_s=0.001, wait_max_s=0.002, wait_jitter_s=0)


class Flaky:
    """Fails with `error` for the first `failures` calls, then answers "ok"."""

    def __init__(self, error: Exception, failures: int = 1_000) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


def connection_error() -> stripe.APIConnectionError:
    return stripe.APIConnectionError("connection refused")  # type: ignore[no-untyped-call]


def test_a_safe_call_is_retried_through_transient_failures() -> None:
    guard = Guard(retry=FAST)
    call = Flaky(stripe.APIError("503", http_status=503), failures=2)
    assert guard.retried("lookup", call) == "ok"
    assert call.calls == 3


def test_a_safe_call_that_keeps_failing_is_unavailable_after_its_attempts() -> None:
    guard = Guard(retry=FAST, breaker=BreakerPolicy(fail_max=10))
    call = Flaky(connection_error())
    with pytest.raises(ProcessorUnavailable):
        guard.retried("lookup", call)
    assert call.calls == 3


def test_an_unsafe_call_is_tried_once() -> None:
    guard = Guard(retry=FAST)
    call = Flaky(connection_error())
    with pytest.raises(ProcessorUnavailable):
        guard.once("charge", call)
    assert call.calls == 1


def test_a_decline_or_a_bad_request_is_passed_on_and_does_not_open_the_circuit() -> None:
    guard = Guard(retry=FAST, breaker=BreakerPolicy(fail_max=2))
    declined = stripe.CardError("declined", None, "card_declined", http_status=402)  # type: ignore[no-untyped-call]
    decline = Flaky(declined)
    for _ in range(5):
        with pytest.raises(stripe.CardError):
            guard.once("charge", decline)
    not_found = stripe.InvalidRequestError("no such customer", "customer", http_status=404)  # type: ignore[no-untyped-call]
    missing = Flaky(not_found)
    with pytest.raises(stripe.InvalidRequestError):
        guard.retried("get_customer", missing)
    assert missing.calls == 1  # not retried: Stripe answered
    assert not guard.is_open


def test_the_circuit_opens_after_consecutive_failures_and_then_fails_fast() -> None:
    guard = Guard(retry=FAST, breaker=BreakerPolicy(fail_max=3, reset_timeout_s=60))
    down = Flaky(connection_error())
    with pytest.raises(ProcessorUnavailable):
        guard.retried("lookup", down)  # three attempts: the third opens the circuit
    assert guard.is_open
    calls = down.calls
    healthy = Flaky(connection_error(), failures=0)
    with pytest.raises(ProcessorUnavailable, match="circuit open"):
        guard.retried("lookup", healthy)
    with pytest.raises(ProcessorUnavailable, match="circuit open"):
        guard.once("charge", healthy)
    assert (down.calls, healthy.calls) == (calls, 0)


def test_refused_credentials_are_unavailable_without_retries() -> None:
    guard = Guard(retry=FAST)
    call = Flaky(stripe.AuthenticationError("bad key", http_status=401))
    with pytest.raises(ProcessorUnavailable, match="credentials"):
        guard.retried("lookup", call)
    assert call.calls == 1
