"""Calling Braintree: outages become ProcessorUnavailable, safe reads are retried with
backoff (stamina), and a circuit breaker (pybreaker) fails fast while Braintree is down.

pybreaker 1.4.1 holds its lock for the whole guarded call, which would serialize every
Braintree request of the process behind one slow one. So the request runs outside the
breaker, and its outcome is then reported to the breaker (a call that replays it): the
breaker counts and opens exactly as if it had wrapped the request. Only outages count as
failures; declines, validation errors and 404s are answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, TypeVar
from xml.parsers.expat import ExpatError

import pybreaker
import requests
import stamina
import structlog
from braintree.exceptions import (
    AuthenticationError,
    AuthorizationError,
    GatewayTimeoutError,
    RequestTimeoutError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnexpectedError,
    UpgradeRequiredError,
)

from adapters.braintree.config import BraintreeConfig
from adapters.metrics import watch_breaker
from commands.ports import ProcessorUnavailable

T = TypeVar("T")
log = structlog.get_logger("braintree")

OUTAGES: tuple[type[BaseException], ...] = (
    ServerError,  # 500
    ServiceUnavailableError,  # 503
    GatewayTimeoutError,  # 504
    RequestTimeoutError,  # 408, and search timeouts
    TooManyRequestsError,  # 429
    UnexpectedError,  # other statuses, connection errors and timeouts (wrapped by the SDK)
    AuthenticationError,  # 401: wrong keys; nothing was done
    AuthorizationError,  # 403
    UpgradeRequiredError,  # 426
    requests.RequestException,
    ExpatError,  # a body that is not XML (a proxy's error page)
)


# the keys or the API version were refused: nothing was done, and asking again cannot help
REFUSED = (AuthenticationError, AuthorizationError, UpgradeRequiredError)


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGES)


class _Outage(Exception):
    """Internal: one request failed for lack of an answer (retryable if the call is safe)."""


class Guard:
    def __init__(self, config: BraintreeConfig) -> None:
        self._config = config
        self._storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=config.breaker_fail_max,
            reset_timeout=config.breaker_reset_s,
            exclude=[lambda error: not is_outage(error)],
            state_storage=self._storage,
            name="braintree",
        )
        watch_breaker("braintree", self.breaker)  # billing_processor_breaker_state, _opened_total

    def once(self, operation: str, request: Callable[[], T]) -> T:
        """A call that must not be repeated blindly (a sale, a refund, vaulting a nonce)."""
        try:
            return self._attempt(operation, request)
        except _Outage as outage:
            _unavailable(operation, outage)

    def read(self, operation: str, request: Callable[[], T]) -> T:
        """A call that is safe to repeat (finds, searches, idempotent updates)."""
        c = self._config
        try:
            for attempt in stamina.retry_context(
                on=_Outage,
                attempts=c.retry_attempts,
                timeout=c.retry_timeout_s,
                wait_initial=c.retry_wait_initial_s,
                wait_max=c.retry_wait_max_s,
                wait_jitter=c.retry_wait_initial_s,
            ):
                with attempt:
                    return self._attempt(operation, request)
        except _Outage as outage:
            _unavailable(operation, outage)
        raise AssertionError("unreachable: stamina either returns or raises")

    def _attempt(self, operation: str, request: Callable[[], T]) -> T:
        if self._open():
            raise ProcessorUnavailable(f"Braintree {operation}: circuit open, not asked")
        try:
            value = request()
        except Exception as error:
            self._report(error)
            if isinstance(error, REFUSED):
                log.error(
                    "braintree_credentials_refused", operation=operation, error=type(error).__name__
                )
                raise ProcessorUnavailable(f"Braintree {operation}: credentials refused") from error
            if is_outage(error):
                raise _Outage(type(error).__name__) from error
            raise
        self._report(None)
        return value

    def _open(self) -> bool:
        if self.breaker.current_state != pybreaker.STATE_OPEN:
            return False
        opened_at = self._storage.opened_at
        timeout = timedelta(seconds=self._config.breaker_reset_s)
        return opened_at is not None and datetime.now(UTC) < opened_at + timeout

    def _report(self, error: Exception | None) -> None:
        """Tell the breaker what the request did (it may open, half-open or close)."""
        try:
            self.breaker.call(_replay, error)
        except pybreaker.CircuitBreakerError:
            log.warning("braintree_circuit_open")
        except Exception as replayed:
            if replayed is not error:
                raise


def _replay(error: Exception | None) -> None:
    if error is not None:
        raise error


def _unavailable(operation: str, outage: _Outage) -> NoReturn:
    cause: Any = outage.__cause__
    log.warning("braintree_unavailable", operation=operation, error=type(cause).__name__)
    raise ProcessorUnavailable(f"Braintree {operation}: no answer ({outage})") from cause
