"""When Stripe cannot be asked: a circuit breaker (pybreaker) around every call, and
retries with exponential backoff and jitter (stamina) for calls that are safe to repeat.

Which calls are safe: reads (retrieve, list, search) and updates that set a value (customer
fields, the default card, attach, detach). Never a create whose outcome is unknown: a
PaymentIntent or refund that timed out may have happened, so the gateway looks it up
instead of sending it again (localstripe does not honour idempotency keys, and our
deduplication must not rely on the processor's anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pybreaker
import stamina
import stripe
import structlog

from adapters.metrics import watch_breaker
from commands.ports import ProcessorUnavailable

T = TypeVar("T")
log = structlog.get_logger(__name__)

# Stripe did not answer, or answered that it cannot serve now: worth a retry when the call
# is safe, and a failure for the breaker.
TRANSIENT: tuple[type[Exception], ...] = (
    stripe.APIConnectionError,  # connection refused or reset, timeout, TLS
    stripe.APIError,  # 5xx
    stripe.RateLimitError,  # 429: the request was not processed
)
# Stripe refuses our credentials: not worth a retry, but the processor is unusable.
REFUSED: tuple[type[Exception], ...] = (stripe.AuthenticationError, stripe.PermissionError)
# Everything that means "could not ask": mapped to ProcessorUnavailable.
UNAVAILABLE: tuple[type[Exception], ...] = (pybreaker.CircuitBreakerError, *TRANSIENT, *REFUSED)


def _is_business_answer(error: BaseException) -> bool:
    """Stripe answered and said no (a decline, an invalid request): it is healthy, so the
    breaker counts the call as a success."""
    return isinstance(
        error, stripe.CardError | stripe.InvalidRequestError | stripe.IdempotencyError
    )


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    timeout_s: float = 10.0  # across all attempts
    wait_initial_s: float = 0.1
    wait_max_s: float = 2.0
    wait_jitter_s: float = 0.2


@dataclass(frozen=True)
class BreakerPolicy:
    fail_max: int = 5  # consecutive failures that open the circuit
    reset_timeout_s: float = 30.0  # then one trial call is let through


class Guard:
    """Runs calls to one processor behind its breaker; turns "could not ask" into
    ProcessorUnavailable and lets every other Stripe error through to the caller."""

    def __init__(
        self,
        name: str = "stripe",
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
    ) -> None:
        self.name = name
        self.retry_policy = retry or RetryPolicy()
        policy = breaker or BreakerPolicy()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=policy.fail_max,
            reset_timeout=policy.reset_timeout_s,
            exclude=[_is_business_answer],
            name=name,
        )
        watch_breaker(name, self.breaker)  # billing_processor_breaker_state, _opened_total

    @property
    def is_open(self) -> bool:
        return str(self.breaker.current_state) == pybreaker.STATE_OPEN

    def once(self, operation: str, call: Callable[[], T]) -> T:
        """One try, for calls that must not be repeated blindly."""
        try:
            return self.breaker.call(call)
        except UNAVAILABLE as error:
            raise self._unavailable(operation, error) from error

    def retried(self, operation: str, call: Callable[[], T]) -> T:
        """Retries with backoff on transient failures, for calls that are safe to repeat. An
        open circuit ends the retries at once (CircuitBreakerError is not retried)."""
        policy = self.retry_policy
        try:
            for attempt in stamina.retry_context(
                on=TRANSIENT,
                attempts=policy.attempts,
                timeout=policy.timeout_s,
                wait_initial=policy.wait_initial_s,
                wait_max=policy.wait_max_s,
                wait_jitter=policy.wait_jitter_s,
            ):
                with attempt:
                    return self.breaker.call(call)
        except UNAVAILABLE as error:
            raise self._unavailable(operation, error) from error
        raise AssertionError("unreachable: the retry loop returns or raises")

    def _unavailable(self, operation: str, error: BaseException) -> ProcessorUnavailable:
        fields = {"processor": self.name, "operation": operation, "error": type(error).__name__}
        if isinstance(error, pybreaker.CircuitBreakerError):
            log.warning("processor_circuit_open", **fields)
            return ProcessorUnavailable(f"{self.name} is unavailable (circuit open)")
        if isinstance(error, REFUSED):
            log.error("processor_refused_credentials", **fields)
            return ProcessorUnavailable(f"{self.name} refused our credentials")
        log.warning(
            "processor_unavailable", request_id=getattr(error, "request_id", None), **fields
        )
        return ProcessorUnavailable(f"{self.name} did not answer ({operation})")
