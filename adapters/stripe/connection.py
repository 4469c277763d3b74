"""What every Stripe port shares: one SDK client, one guard (breaker and retries) and how
this Stripe answers lookups; and the helpers that read Stripe's objects and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import stripe
import structlog

from adapters.stripe.client import ChargeLookup
from adapters.stripe.resilience import Guard
from commands.ports import ProcessorRefused, ProcessorUnavailable, ProviderCustomerNotFound
from ledger.payments import Processor

log = structlog.get_logger(__name__)
T = TypeVar("T")
S = TypeVar("S", bound=stripe.StripeObject)
PAGE_SIZE = 100


@dataclass(frozen=True)
class StripeConnection:
    client: stripe.StripeClient
    guard: Guard = field(default_factory=lambda: Guard("stripe"))
    # How objects are found again by their metadata (adapters/stripe/client.py).
    lookup: ChargeLookup = "search"
    # Whether this Stripe has the Disputes API (localstripe has not).
    disputes: bool = True

    def read(self, operation: str, call: Callable[[], S]) -> dict[str, Any] | None:
        """The object as plain dicts, None when Stripe does not know its id."""
        try:
            return data_of(self.guard.retried(operation, call))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise

    def find_quietly(self, find: Callable[[], T | None]) -> T | None:
        """A lookup after an unknown outcome: None when it cannot be made either."""
        try:
            return self.guard.retried("lookup_after_unknown", find)
        except ProcessorUnavailable:
            return None

    def intents_for(self, attempt_id: str) -> list[stripe.PaymentIntent]:
        """The PaymentIntents made for this attempt (not retried here)."""
        intents = self.client.v1.payment_intents
        if self.lookup == "search":
            query = f"metadata['attempt_id']:'{_quoted(attempt_id)}'"
            return list(intents.search({"query": query, "limit": PAGE_SIZE}).auto_paging_iter())
        pages = intents.list({"limit": PAGE_SIZE}).auto_paging_iter()
        return list(with_metadata(pages, "attempt_id", attempt_id))

    def customer_for(self, account_id: str) -> stripe.Customer | None:
        """The oldest customer made for this account (not retried here)."""
        customers = self.client.v1.customers
        if self.lookup == "search":
            query = f"metadata['account_id']:'{_quoted(account_id)}'"
            matches = list(customers.search({"query": query, "limit": 10}).auto_paging_iter())
        else:
            pages = customers.list({"limit": PAGE_SIZE}).auto_paging_iter()
            matches = list(with_metadata(pages, "account_id", account_id))
        return min(matches, key=lambda c: c.created) if matches else None


class StripePort:
    """A port's adapter over the shared connection."""

    def __init__(self, connection: StripeConnection) -> None:
        self._stripe = connection
        self._client = connection.client

    @property
    def guard(self) -> Guard:
        return self._stripe.guard


def require_stripe(processor: Processor) -> None:
    if processor is not Processor.STRIPE:
        raise ValueError(f"the Stripe gateway cannot serve {processor.value}")


def with_metadata(objects: Iterable[S], key: str, value: str) -> Iterator[S]:
    for obj in objects:
        metadata: Mapping[str, Any] = data_of(obj).get("metadata") or {}
        if metadata.get(key) == value:
            yield obj


def _quoted(value: str) -> str:
    """A value inside single quotes of Stripe's search query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def data_of(obj: stripe.StripeObject) -> dict[str, Any]:
    """The object's fields as plain dicts (StripeObject is deliberately not a dict)."""
    return obj.to_dict()


def id_of(value: object) -> str | None:
    """An id from a field that holds either the id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(getattr(value, "id", value))


def error_body(error: stripe.StripeError) -> Mapping[str, Any]:
    body = error.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {"code": error.code}


def refused(operation: str, error: stripe.StripeError) -> ProcessorRefused:
    log.warning(
        "stripe_refused",
        operation=operation,
        code=error.code,
        http_status=error.http_status,
        request_id=error.request_id,
    )
    return ProcessorRefused(f"Stripe refused the {operation}: {error.user_message}")


def refused_for_customer(
    operation: str, error: stripe.InvalidRequestError, customer_id: str
) -> ProviderCustomerNotFound | ProcessorRefused:
    """A 404 is an unknown customer; any other refusal is ProcessorRefused."""
    if error.http_status == 404:
        return ProviderCustomerNotFound(f"no Stripe customer {customer_id}")
    return refused(operation, error)
