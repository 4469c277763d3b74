"""Reconciliation, the pure part: the ledger's view of an account (the aggregate) against
what the processors answered (gathered by commands/reconcile.py), as a list of findings.

Each finding says what disagrees (`kind`), where (`processor`, `subject`), both sides'
values, and the repairs that fix it (`Repair`: a repair command and what it names; none
when no command can repair it and a person has to look). Nothing here decides who is right:
drift at the processor is shown, never overwritten either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from commands.customers import SYNCED_FIELDS, drifted_fields
from commands.janitor import NOT_RECEIVED
from commands.models import RepairAction
from commands.ports import (
    ChargeResult,
    DisputeState,
    ProcessorDispute,
    ProcessorPayment,
    ProviderCustomer,
)
from ledger.account import Account
from ledger.methods import MethodKind, PaymentMethod
from ledger.payments import AttemptStatus, DisputeStatus, PaymentAttempt, Processor

# An attempt younger than this is a payment in flight, not a mismatch: reconciliation never
# clobbers it (the same wait as the health read model's `stuck_after`).
SETTLE_AFTER = timedelta(minutes=15)


class FindingKind(StrEnum):
    CUSTOMER_NOT_LINKED = "customer_not_linked"  # no customer at a processor that needs one
    CUSTOMER_MISSING = "customer_missing"  # the linked customer is gone at the processor
    CUSTOMER_WRONG_ACCOUNT = "customer_wrong_account"  # its metadata names another account
    CUSTOMER_DRIFTED = "customer_drifted"  # edited at the processor since the ledger wrote it
    CUSTOMER_NOT_SYNCED = "customer_not_synced"  # the ledger changed; the processor not yet
    METHOD_MISSING_AT_PROCESSOR = "method_missing_at_processor"
    METHOD_UNKNOWN_TO_LEDGER = "method_unknown_to_ledger"  # attached there, not usable here
    DEFAULT_MISMATCH = "default_mismatch"  # the collecting processor's default differs
    ATTEMPT_UNRESOLVED = "attempt_unresolved"  # in flight here past SETTLE_AFTER
    PAYMENT_OUTCOME_MISMATCH = "payment_outcome_mismatch"  # succeeded on one side only
    PAYMENT_MISSING_AT_PROCESSOR = "payment_missing_at_processor"
    PAYMENT_ID_MISMATCH = "payment_id_mismatch"  # both succeeded, different payment ids
    REFUND_UNKNOWN_TO_LEDGER = "refund_unknown_to_ledger"  # made at the processor only
    REFUND_MISSING_AT_PROCESSOR = "refund_missing_at_processor"  # recorded here only
    REFUND_AMOUNT_MISMATCH = "refund_amount_mismatch"  # same refunds, other totals
    DISPUTE_UNKNOWN_TO_LEDGER = "dispute_unknown_to_ledger"  # a chargeback there only
    DISPUTE_STATE_MISMATCH = "dispute_state_mismatch"  # open / won / lost differ
    DISPUTE_MISSING_AT_PROCESSOR = "dispute_missing_at_processor"  # recorded here only


@dataclass(frozen=True)
class Repair:
    """A repair of a finding: the `RepairReconciliation` of the finding's account with
    these fields (the others unset). The edges show it their way: the CLI as a command
    line, HTTP as the body of a repair request."""

    action: RepairAction
    processor: Processor | None = None
    method_ref: str | None = None
    method_id: str | None = None
    attempt_id: str | None = None
    refund_id: str | None = None
    dispute_id: str | None = None


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    processor: Processor
    subject: str  # a customer id, method id or reference, or an attempt id
    ledger_value: str | None
    processor_value: str | None
    repairs: tuple[Repair, ...] = ()  # any one repairs it; none: a person must look
    detail: str = ""


@dataclass(frozen=True)
class CustomerView:
    """A linked customer as its processor holds it (None: the processor has no such
    customer) and the payment-method references attached to it there."""

    customer_id: str
    customer: ProviderCustomer | None
    method_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessorView:
    """What the processors answered. A processor in `configured` but not in `customers`
    was not asked about customers (unavailable or nothing linked); an attempt absent from
    `charges` (or `payments`, its captured payment, refunds and disputes) was not asked
    about (None in it: the processor never saw the charge, or has no such payment)."""

    configured: frozenset[Processor]
    customers: Mapping[Processor, CustomerView] = field(default_factory=dict)
    charges: Mapping[str, ChargeResult | None] = field(default_factory=dict)
    payments: Mapping[str, ProcessorPayment | None] = field(default_factory=dict)
    unavailable: frozenset[Processor] = frozenset()


def processor_of(method: PaymentMethod) -> Processor:
    return Processor.BRAINTREE if method.kind is MethodKind.PAYPAL else Processor.STRIPE


def needs_customer(account: Account, processor: Processor) -> bool:
    """Stripe always has the account's customer (sync on open); Braintree once the account
    has a PayPal method."""
    if processor is Processor.STRIPE:
        return True
    return any(processor_of(m) is processor for m in account.methods.values() if m.usable)


def attempts_to_check(account: Account, now: datetime) -> list[PaymentAttempt]:
    """Attempts the processor is asked about: in flight past SETTLE_AFTER (not while the
    customer may still authenticate), settled with a processor payment id, and failures
    recorded as never received (the processor may have charged after all)."""
    return [a for a in account.attempts.values() if _worth_checking(a, now)]


def _worth_checking(attempt: PaymentAttempt, now: datetime) -> bool:
    if attempt.in_flight:
        waiting = attempt.awaiting_customer and not attempt.action_expired(now)
        return not waiting and now - attempt.started_at >= SETTLE_AFTER
    return attempt.processor_payment_id is not None or attempt.decline_code == NOT_RECEIVED


def compare(account: Account, view: ProcessorView, now: datetime) -> list[Finding]:
    found: list[Finding] = []
    for processor in sorted(view.configured - view.unavailable):
        found.extend(_customer_findings(account, view, processor))
    for attempt in attempts_to_check(account, now):
        if attempt.attempt_id in view.charges:
            charge = view.charges[attempt.attempt_id]
            found.extend(_payment_findings(account, attempt, charge))
        if (payment := view.payments.get(attempt.attempt_id)) is not None:
            found.extend(_refund_findings(account, attempt, payment))
            found.extend(_dispute_findings(account, attempt, payment))
    return found


# --- customers ---------------------------------------------------------------------------


def _customer_findings(account: Account, view: ProcessorView, p: Processor) -> Iterator[Finding]:
    linked = account.provider_customers.get(p.value)
    if linked is None:
        if needs_customer(account, p):
            push = Repair(RepairAction.PUSH_CUSTOMER, processor=p)
            yield Finding(
                kind=FindingKind.CUSTOMER_NOT_LINKED,
                processor=p,
                subject=str(account.id),
                ledger_value=None,
                processor_value=None,
                repairs=(push,),
            )
        return
    seen = view.customers.get(p)
    if seen is None:
        return
    if seen.customer is None:
        yield Finding(
            kind=FindingKind.CUSTOMER_MISSING,
            processor=p,
            subject=linked,
            ledger_value=linked,
            processor_value=None,
            detail="the linked customer no longer exists at the processor: link another by hand",
        )
        return
    yield from _identity_findings(account, p, seen.customer)
    yield from _method_findings(account, p, seen)


def _identity_findings(
    account: Account, p: Processor, remote: ProviderCustomer
) -> Iterator[Finding]:
    if remote.account_id != str(account.id):
        yield Finding(
            kind=FindingKind.CUSTOMER_WRONG_ACCOUNT,
            processor=p,
            subject=remote.customer_id,
            ledger_value=str(account.id),
            processor_value=remote.account_id,
            detail="the customer's metadata does not name this account",
        )
    wanted = {"name": account.profile.name, "email": account.profile.email}
    now = {"name": remote.name or "", "email": remote.email or ""}
    if now == wanted:
        return
    last = account.provider_synced.get(p.value)
    drifted = drifted_fields(last, remote)
    push = Repair(RepairAction.PUSH_CUSTOMER, processor=p)
    if drifted:
        before = last or wanted
        adopt = Repair(RepairAction.ADOPT_CUSTOMER, processor=p)
        yield Finding(
            kind=FindingKind.CUSTOMER_DRIFTED,
            processor=p,
            subject=remote.customer_id,
            ledger_value=_fields_text({f: before.get(f, "") for f in drifted}),
            processor_value=_fields_text({f: now[f] for f in drifted}),
            repairs=(adopt, push),
            detail="changed at the processor: "
            + ", ".join(drifted)
            + ("" if last else " (the ledger never wrote this customer)"),
        )
        return
    stale = tuple(f for f in SYNCED_FIELDS if now[f] != wanted[f])
    yield Finding(
        kind=FindingKind.CUSTOMER_NOT_SYNCED,
        processor=p,
        subject=remote.customer_id,
        ledger_value=_fields_text({f: wanted[f] for f in stale}),
        processor_value=_fields_text({f: now[f] for f in stale}),
        repairs=(push,),
        detail="the billing profile changed since the last sync",
    )


def _fields_text(fields: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in fields.items())


# --- payment methods ---------------------------------------------------------------------


def _method_findings(account: Account, p: Processor, seen: CustomerView) -> Iterator[Finding]:
    mine = [m for m in account.methods.values() if processor_of(m) is p]
    usable = {m.processor_ref: m for m in mine if m.usable}
    for ref, method in usable.items():
        if ref not in seen.method_refs:
            yield Finding(
                kind=FindingKind.METHOD_MISSING_AT_PROCESSOR,
                processor=p,
                subject=method.method_id,
                ledger_value=ref,
                processor_value=None,
                repairs=(Repair(RepairAction.REMOVE_METHOD, method_id=method.method_id),),
                detail="usable in the ledger, not attached to the customer at the processor",
            )
    states = {m.processor_ref: m.state.value for m in mine}
    for ref in seen.method_refs:
        if ref not in usable:
            yield Finding(
                kind=FindingKind.METHOD_UNKNOWN_TO_LEDGER,
                processor=p,
                subject=ref,
                ledger_value=states.get(ref),
                processor_value="attached",
                repairs=(Repair(RepairAction.DETACH_METHOD, processor=p, method_ref=ref),),
                detail="attached to the customer at the processor, not a usable method here",
            )
    if seen.customer is not None:
        yield from _default_findings(account, p, seen.customer, seen.method_refs)


def _default_findings(
    account: Account, p: Processor, remote: ProviderCustomer, refs: tuple[str, ...]
) -> Iterator[Finding]:
    """Only the processor that collects with the ledger's default (the collection path)
    must hold it as its default."""
    default = account.methods.get(account.default_method_id or "")
    if default is None or not default.usable or processor_of(default) is not p:
        return
    held = remote.default_method_ref
    if held == default.processor_ref or default.processor_ref not in refs:
        return  # in step, or already reported as missing at the processor
    yield Finding(
        kind=FindingKind.DEFAULT_MISMATCH,
        processor=p,
        subject=default.method_id,
        ledger_value=default.processor_ref,
        processor_value=held,
        repairs=(Repair(RepairAction.PUSH_DEFAULT, processor=p),),
        detail=f"collection path {account.collection_path.value}",
    )


# --- payments ----------------------------------------------------------------------------


def _payment_findings(
    account: Account, attempt: PaymentAttempt, charge: ChargeResult | None
) -> Iterator[Finding]:
    p, subject = attempt.processor, attempt.attempt_id
    there = _outcome_text(charge)
    if attempt.in_flight:
        resolvable = charge is None or not charge.requires_action
        resolve = Repair(RepairAction.RESOLVE_ATTEMPT, attempt_id=subject)
        yield Finding(
            kind=FindingKind.ATTEMPT_UNRESOLVED,
            processor=p,
            subject=subject,
            ledger_value=attempt.status.value,
            processor_value=there,
            repairs=(resolve,) if resolvable else (),
            detail=f"in flight since {attempt.started_at.isoformat()}",
        )
    elif attempt.status is AttemptStatus.SUCCEEDED:
        yield from _succeeded_findings(attempt, charge, there)
    elif charge is not None and charge.succeeded:
        yield Finding(
            kind=FindingKind.PAYMENT_OUTCOME_MISMATCH,
            processor=p,
            subject=subject,
            ledger_value=f"failed: {attempt.decline_code}",
            processor_value=there,
            detail="the processor took the payment the ledger records as failed: refund it there,"
            " or record it out of band if the invoice is still owed",
        )


def _succeeded_findings(
    attempt: PaymentAttempt, charge: ChargeResult | None, there: str
) -> Iterator[Finding]:
    p, subject = attempt.processor, attempt.attempt_id
    if charge is None:
        kind = FindingKind.PAYMENT_MISSING_AT_PROCESSOR
        yield Finding(
            kind=kind,
            processor=p,
            subject=subject,
            ledger_value="succeeded",
            processor_value=there,
            detail="investigate at the processor",
        )
    elif not charge.succeeded:
        yield Finding(
            kind=FindingKind.PAYMENT_OUTCOME_MISMATCH,
            processor=p,
            subject=subject,
            ledger_value="succeeded",
            processor_value=there,
            detail="the ledger records a payment the processor does not hold as succeeded",
        )
    elif charge.processor_payment_id not in (None, attempt.processor_payment_id):
        yield Finding(
            kind=FindingKind.PAYMENT_ID_MISMATCH,
            processor=p,
            subject=subject,
            ledger_value=attempt.processor_payment_id,
            processor_value=charge.processor_payment_id,
            detail="two payments at the processor for one attempt?",
        )


def _outcome_text(charge: ChargeResult | None) -> str:
    if charge is None:
        return "not received"
    if charge.succeeded:
        return "succeeded"
    if charge.requires_action:
        return "requires_action"
    return f"failed: {charge.decline_code}"


# --- refunds -----------------------------------------------------------------------------


def _refund_findings(
    account: Account, attempt: PaymentAttempt, payment: ProcessorPayment
) -> Iterator[Finding]:
    """Refunds are matched by the processor's id (refunds made there) or the ledger's id
    sent along (refunds the ledger made). A void carries no refund id: it matches the
    ledger's refunds when they refunded the whole payment (the ledger's full refund of an
    unsettled Braintree sale is a void)."""
    p, subject = attempt.processor, attempt.attempt_id
    ours = {rid for rid, aid in account.refund_ids.items() if aid == subject}
    matched: set[str] = set()
    mismatched = False
    for refund in payment.refunds:
        known = ours & {refund.refund_id, refund.ledger_refund_id or ""}
        if not known and refund.voided and ours and attempt.refunded == refund.amount:
            known = set(ours)
        matched |= known
        if known:
            continue
        mismatched = True
        yield Finding(
            kind=FindingKind.REFUND_UNKNOWN_TO_LEDGER,
            processor=p,
            subject=refund.refund_id,
            ledger_value=None,
            processor_value=f"{refund.amount} {payment.currency}",
            repairs=(
                Repair(RepairAction.RECORD_REFUND, attempt_id=subject, refund_id=refund.refund_id),
            ),
            detail=f"a refund of attempt {subject} made at the processor",
        )
    for missing in sorted(ours - matched):
        mismatched = True
        yield Finding(
            kind=FindingKind.REFUND_MISSING_AT_PROCESSOR,
            processor=p,
            subject=missing,
            ledger_value=f"refund of attempt {subject}",
            processor_value=None,
            detail="recorded in the ledger, unknown to the processor: investigate there",
        )
    there = sum(r.amount for r in payment.refunds)
    if not mismatched and there != attempt.refunded:
        yield Finding(
            kind=FindingKind.REFUND_AMOUNT_MISMATCH,
            processor=p,
            subject=subject,
            ledger_value=str(attempt.refunded),
            processor_value=str(there),
            detail=f"refunded in total, minor units of {payment.currency}",
        )


# --- disputes ----------------------------------------------------------------------------

LEDGER_DISPUTE_STATES = {
    DisputeStatus.NEEDS_RESPONSE: DisputeState.OPEN,
    DisputeStatus.UNDER_REVIEW: DisputeState.OPEN,
    DisputeStatus.WON: DisputeState.WON,
    DisputeStatus.LOST: DisputeState.LOST,
}


def _dispute_findings(
    account: Account, attempt: PaymentAttempt, payment: ProcessorPayment
) -> Iterator[Finding]:
    """The ledger holds at most one dispute per payment, without the processor's id: it is
    matched to the processor's dispute of the same state and amount, else of the same
    amount, else the first. Nothing is compared when disputes were not asked (None)."""
    if payment.disputes is None:
        return
    p, subject = attempt.processor, attempt.attempt_id
    ledger = LEDGER_DISPUTE_STATES.get(attempt.dispute) if attempt.dispute else None
    there = list(payment.disputes)
    if ledger is None:
        for dispute in there:
            yield _unknown_dispute(account, attempt, payment, dispute, recordable=True)
        return
    mine = _dispute_text(ledger, attempt.disputed_amount, payment.currency)
    match = _matching(there, ledger, attempt.disputed_amount)
    if match is None:
        yield Finding(
            kind=FindingKind.DISPUTE_MISSING_AT_PROCESSOR,
            processor=p,
            subject=subject,
            ledger_value=mine,
            processor_value=None,
            detail="recorded in the ledger, unknown to the processor: investigate there",
        )
        return
    for other in there:
        if other is not match:
            yield _unknown_dispute(account, attempt, payment, other, recordable=False)
    if match.state is not ledger:
        behind = ledger is DisputeState.OPEN
        yield Finding(
            kind=FindingKind.DISPUTE_STATE_MISMATCH,
            processor=p,
            subject=match.dispute_id,
            ledger_value=mine,
            processor_value=_dispute_text(match.state, match.amount, payment.currency),
            repairs=(_record_dispute(subject, match),) if behind else (),
            detail=f"the dispute of attempt {subject}"
            + ("" if behind else ": the ledger has it closed, the processor does not agree"),
        )


def _matching(
    there: list[ProcessorDispute], state: DisputeState, amount: int
) -> ProcessorDispute | None:
    same = [d for d in there if d.amount == amount]
    return next((d for d in same if d.state is state), None) or next(iter(same or there), None)


def _unknown_dispute(
    account: Account,
    attempt: PaymentAttempt,
    payment: ProcessorPayment,
    dispute: ProcessorDispute,
    *,
    recordable: bool,
) -> Finding:
    detail = f"a dispute of attempt {attempt.attempt_id} at the processor"
    if not recordable:
        detail += ": the ledger holds one dispute per payment, and has another"
    return Finding(
        kind=FindingKind.DISPUTE_UNKNOWN_TO_LEDGER,
        processor=attempt.processor,
        subject=dispute.dispute_id,
        ledger_value=None,
        processor_value=_dispute_text(dispute.state, dispute.amount, payment.currency),
        repairs=(_record_dispute(attempt.attempt_id, dispute),) if recordable else (),
        detail=detail,
    )


def _record_dispute(attempt_id: str, dispute: ProcessorDispute) -> Repair:
    return Repair(RepairAction.RECORD_DISPUTE, attempt_id=attempt_id, dispute_id=dispute.dispute_id)


def _dispute_text(state: DisputeState, amount: int, currency: str) -> str:
    return f"{state.value} {amount} {currency}"
