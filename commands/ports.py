"""Ports the write side depends on; adapters and test fakes implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from ledger.errors import DomainError
from ledger.money import Money
from ledger.payments import Processor
from ledger.subscriptions import Plan


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class IdSource(Protocol):
    def __call__(self) -> UUID: ...


@dataclass(frozen=True)
class ChargeRequest:
    attempt_id: str  # the idempotency key sent to the processor
    processor: Processor
    method_ref: str
    customer_ref: str | None
    amount: Money
    on_session: bool


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    processor_payment_id: str | None = None
    decline_code: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str  # the idempotency key sent to the processor
    processor: Processor
    processor_payment_id: str
    amount: Money


class ProcessorUnavailable(DomainError):
    """The payment processor did not answer; the outcome is unknown and will be resolved."""

    code = "processor_unavailable"
    http_status = 503


class PaymentGateway(Protocol):
    """Charges and refunds at Stripe (cards) or Braintree (PayPal). Raises
    ProcessorUnavailable when the outcome is unknown (timeout, outage)."""

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(self, request: RefundRequest) -> str:
        """Returns the processor's refund id."""
        ...

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        """What became of an earlier charge sent with this attempt id: its result, or None
        when the processor never saw it (then, and only then, charging again is safe).
        Raises ProcessorUnavailable when the processor cannot be asked."""
        ...


class Catalogue(Protocol):
    def plan(self, plan_id: str) -> Plan:
        """Raises PlanNotFound."""
        ...
