"""Reconciliation, the asking part: loads the account from the store (the ledger's view),
asks each configured processor about it, and compares (commands/reconcile_compare.py).

Read only: a check records nothing in the store. A processor that cannot be asked is an
error of this check (its comparisons are skipped, never guessed), not a failure of it, so
a run over many accounts goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commands.base import Deps, load_account
from commands.ports import (
    ChargeResult,
    ProcessorPayment,
    ProcessorRefused,
    ProcessorUnavailable,
    ProviderCustomer,
    ProviderCustomerNotFound,
)
from commands.reconcile_compare import (
    CustomerView,
    Finding,
    ProcessorView,
    attempts_to_check,
    compare,
)
from ledger.account import Account
from ledger.errors import DomainError
from ledger.payments import AttemptStatus, Processor

_UNREACHABLE = (ProcessorUnavailable, ProcessorRefused)


@dataclass(frozen=True)
class CheckError:
    processor: Processor
    subject: str  # the customer or attempt the processor could not be asked about
    message: str


@dataclass(frozen=True)
class AccountCheck:
    account_id: UUID
    account_version: int  # the ledger's view that was compared
    checked_at: datetime
    findings: tuple[Finding, ...]
    errors: tuple[CheckError, ...]


def configured(deps: Deps) -> frozenset[Processor]:
    found = set()
    if deps.processors.stripe_customers is not None:
        found.add(Processor.STRIPE)
    if deps.processors.paypal is not None:
        found.add(Processor.BRAINTREE)
    return frozenset(found)


def check_account(deps: Deps, account_id: UUID) -> AccountCheck:
    """Raises AccountNotFound; every processor failure is in the check's `errors`."""
    account = load_account(deps.app, account_id)
    now = deps.clock.now()
    errors: list[CheckError] = []
    view = _gather(deps, account, now, errors)
    findings = compare(account, view, now)
    return AccountCheck(account_id, account.version, now, tuple(findings), tuple(errors))


def _gather(deps: Deps, account: Account, now: datetime, errors: list[CheckError]) -> ProcessorView:
    customers: dict[Processor, CustomerView] = {}
    unavailable: set[Processor] = set()
    for processor in sorted(configured(deps)):
        linked = account.provider_customers.get(processor.value)
        if linked is None:
            continue
        try:
            customers[processor] = _customer_view(deps, processor, linked)
        except _UNREACHABLE as down:
            errors.append(CheckError(processor, linked, _message(down)))
            unavailable.add(processor)
    skipped = frozenset(unavailable)
    charges = _charges(deps, account, now, skipped, errors)
    payments = _payments(deps, account, skipped, errors)
    return ProcessorView(configured(deps), customers, charges, payments, skipped)


def _customer_view(deps: Deps, processor: Processor, customer_id: str) -> CustomerView:
    if processor is Processor.BRAINTREE and deps.processors.paypal is not None:
        found = deps.processors.paypal.find_customer(customer_id)
        if found is None:
            return CustomerView(customer_id, None)
        remote = ProviderCustomer(
            found.customer_id, found.customer_id, found.name, found.email, found.default_method_ref
        )
        return CustomerView(customer_id, remote, found.method_refs)
    directory = deps.processors.stripe_customers
    if directory is None:
        raise ProcessorUnavailable(f"{processor.value} is not configured")
    customer = directory.get_customer(customer_id)
    if customer is None or deps.processors.cards is None:
        return CustomerView(customer_id, customer)
    try:
        refs = deps.processors.cards.list_cards(customer_id)
    except ProviderCustomerNotFound:  # deleted between the two calls
        return CustomerView(customer_id, None)
    return CustomerView(customer_id, customer, refs)


def _charges(
    deps: Deps,
    account: Account,
    now: datetime,
    unavailable: frozenset[Processor],
    errors: list[CheckError],
) -> dict[str, ChargeResult | None]:
    charges: dict[str, ChargeResult | None] = {}
    for attempt in attempts_to_check(account, now):
        if attempt.processor in unavailable:
            continue
        try:
            charges[attempt.attempt_id] = deps.gateway.find_charge(
                attempt.attempt_id, attempt.processor
            )
        except _UNREACHABLE as down:
            errors.append(CheckError(attempt.processor, attempt.attempt_id, _message(down)))
    return charges


def _payments(
    deps: Deps, account: Account, unavailable: frozenset[Processor], errors: list[CheckError]
) -> dict[str, ProcessorPayment | None]:
    """Captured payments with their refunds and disputes, where the processor's adapter can
    tell (a PaymentLookup for the attempt's processor)."""
    payments: dict[str, ProcessorPayment | None] = {}
    for attempt in account.attempts.values():
        lookup = deps.processors.payments.get(attempt.processor)
        payment_id = attempt.processor_payment_id
        if lookup is None or payment_id is None or attempt.processor in unavailable:
            continue
        if attempt.status is not AttemptStatus.SUCCEEDED:
            continue
        try:
            payments[attempt.attempt_id] = lookup.find_payment(payment_id)
        except _UNREACHABLE as down:
            errors.append(CheckError(attempt.processor, attempt.attempt_id, _message(down)))
    return payments


def _message(error: DomainError) -> str:
    return f"{error.code}: {error.detail}"
