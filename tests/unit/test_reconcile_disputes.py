"""Disputes in reconciliation: the comparison (pure: the ledger's one dispute per payment
against the processor's disputes), a void matched to the ledger's full refund, and the
`record-dispute` repair with fakes (the opening, the closing, or both in one save; refused
when the ledger is not behind)."""

from __future__ import annotations

import dataclasses
from uuid import UUID, uuid4

import pytest

from commands.base import Deps, ProcessorAccounts, load_account
from commands.models import RepairAction, RepairReconciliation
from commands.ports import (
    ChargeResult,
    DisputeState,
    ProcessorDispute,
    ProcessorPayment,
    ProcessorRefund,
)
from commands.reconcile_compare import (
    Finding,
    FindingKind,
    ProcessorView,
    Repair,
    compare,
)
from commands.reconcile_repairs import RepairNotApplicable, repair
from ledger import events as ev
from ledger.account import Account
from ledger.payments import DisputeStatus, Processor
from tests.fakes.billing import subscribe, usd_account
from tests.fakes.builders import in_memory_deps, support_ctx
from tests.unit.given import Step, at, card, gbp, given, meta, paid, subscribed
from tests.unit.test_reconcile_repairs import Payments

LATER = at(hours=1)
OPEN, WON, LOST = DisputeState.OPEN, DisputeState.WON, DisputeState.LOST


def opened(amount: int = 3000, attempt_id: str = "a-1") -> Step:
    return lambda a: a.open_dispute(attempt_id, "dp_ledger", gbp(amount), meta())


def closed(won: bool, attempt_id: str = "a-1") -> Step:
    return lambda a: a.close_dispute(attempt_id, won, meta())


def refunded(amount: int, refund_id: str = "ours-1") -> Step:
    return lambda a: a.refund("a-1", refund_id, gbp(amount), meta())


def paid_account(*steps: Step) -> Account:
    return given(card("card-1", default=True), subscribed(), paid("a-1"), *steps)


def checked(
    account: Account,
    disputes: tuple[ProcessorDispute, ...] | None,
    refunds: tuple[ProcessorRefund, ...] = (),
) -> list[Finding]:
    """Only the payment's findings (no processor's customers are compared)."""
    payment = ProcessorPayment("pay_a-1", 3000, "GBP", refunds, disputes)
    charge = ChargeResult(succeeded=True, processor_payment_id="pay_a-1")
    view = ProcessorView(frozenset(), {}, {"a-1": charge}, {"a-1": payment})
    return compare(account, view, LATER)


def dispute(state: DisputeState, amount: int = 3000, dispute_id: str = "dp_1") -> ProcessorDispute:
    return ProcessorDispute(dispute_id, state, amount)


def test_disputes_not_asked_are_not_compared() -> None:
    assert checked(paid_account(opened()), None) == []
    assert checked(paid_account(), None) == []


@pytest.mark.parametrize(
    ("steps", "state"),
    [((), None), ((opened(),), OPEN), ((opened(), closed(True)), WON)],
)
def test_the_same_dispute_on_both_sides_is_in_step(
    steps: tuple[Step, ...], state: DisputeState | None
) -> None:
    there = () if state is None else (dispute(state),)
    assert checked(paid_account(*steps), there) == []


def test_a_dispute_at_the_processor_only_is_unknown_with_the_record_dispute_repair() -> None:
    [found] = checked(paid_account(), (dispute(LOST, 1200),))
    assert (found.kind, found.subject, found.ledger_value, found.processor_value) == (
        FindingKind.DISPUTE_UNKNOWN_TO_LEDGER,
        "dp_1",
        None,
        "lost 1200 GBP",
    )
    assert found.repairs == (
        Repair(RepairAction.RECORD_DISPUTE, attempt_id="a-1", dispute_id="dp_1"),
    )


def test_a_dispute_in_the_ledger_only_is_missing_at_the_processor() -> None:
    [found] = checked(paid_account(opened()), ())
    assert (found.kind, found.subject, found.ledger_value, found.repairs) == (
        FindingKind.DISPUTE_MISSING_AT_PROCESSOR,
        "a-1",
        "open 3000 GBP",
        (),
    )


def test_a_dispute_closed_at_the_processor_and_open_here_is_repaired_by_recording_it() -> None:
    [found] = checked(paid_account(opened()), (dispute(WON),))
    assert (found.kind, found.ledger_value, found.processor_value) == (
        FindingKind.DISPUTE_STATE_MISMATCH,
        "open 3000 GBP",
        "won 3000 GBP",
    )
    assert found.repairs == (
        Repair(RepairAction.RECORD_DISPUTE, attempt_id="a-1", dispute_id="dp_1"),
    )


@pytest.mark.parametrize(
    ("won", "there"),
    [(True, LOST), (False, OPEN), (True, OPEN)],
    ids=["won-lost", "lost-open", "won-open"],
)
def test_a_dispute_the_ledger_closed_otherwise_has_no_repair(
    won: bool, there: DisputeState
) -> None:
    [found] = checked(paid_account(opened(), closed(won)), (dispute(there),))
    assert (found.kind, found.repairs) == (FindingKind.DISPUTE_STATE_MISMATCH, ())
    assert "the ledger has it closed" in found.detail


def test_the_ledgers_dispute_is_matched_by_state_and_amount_and_another_is_shown() -> None:
    account = paid_account(opened(1000), closed(False))
    there = (dispute(OPEN, 1000, "dp_new"), dispute(LOST, 1000, "dp_old"))
    [other] = checked(account, there)
    assert (other.kind, other.subject, other.repairs) == (
        FindingKind.DISPUTE_UNKNOWN_TO_LEDGER,
        "dp_new",
        (),
    )
    assert "one dispute per payment" in other.detail


def test_a_void_matches_the_ledgers_full_refund_and_not_a_partial_one() -> None:
    void = ProcessorRefund("pay_a-1", None, 3000, voided=True)
    assert checked(paid_account(refunded(3000)), None, (void,)) == []
    found = checked(paid_account(refunded(1000)), None, (void,))
    assert {f.kind for f in found} == {
        FindingKind.REFUND_UNKNOWN_TO_LEDGER,
        FindingKind.REFUND_MISSING_AT_PROCESSOR,
    }


# --- the record-dispute repair -----------------------------------------------------------


def paid_with_disputes(deps: Deps) -> tuple[Deps, UUID, str, Payments]:
    account_id = usd_account(deps)
    payment = subscribe(deps, account_id, on_session=False).payment
    assert payment is not None
    attempt = load_account(deps.app, account_id).attempts[payment.attempt_id]
    assert attempt.processor_payment_id is not None
    lookup = Payments()
    lookup.payments[attempt.processor_payment_id] = ProcessorPayment(
        attempt.processor_payment_id, attempt.amount.amount, "USD", (), ()
    )
    with_lookup = ProcessorAccounts(payments={Processor.STRIPE: lookup})
    return dataclasses.replace(deps, processors=with_lookup), account_id, attempt.attempt_id, lookup


def at_processor(lookup: Payments, *disputes: ProcessorDispute) -> None:
    [(payment_id, payment)] = lookup.payments.items()
    lookup.payments[payment_id] = dataclasses.replace(payment, disputes=disputes)


def record(deps: Deps, account_id: UUID, attempt_id: str, dispute_id: str = "dp_1") -> str:
    cmd = RepairReconciliation(
        account_id=account_id,
        action=RepairAction.RECORD_DISPUTE,
        attempt_id=attempt_id,
        dispute_id=dispute_id,
    )
    return repair(deps, cmd, support_ctx("chargeback seen at the processor", uuid4())).detail


def events_of(deps: Deps, account_id: UUID, kind: type[ev.AccountEvent]) -> list[ev.AccountEvent]:
    return [e for e in deps.app.repository.event_store.get(account_id) if isinstance(e, kind)]


def test_record_dispute_opens_then_closes_as_the_processor_has_it() -> None:
    deps, account_id, attempt_id, lookup = paid_with_disputes(in_memory_deps())
    at_processor(lookup, dispute(OPEN, 500))
    assert record(deps, account_id, attempt_id) == "recorded the dispute open, 500 USD"
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert (attempt.dispute, attempt.disputed_amount) == (DisputeStatus.NEEDS_RESPONSE, 500)
    [opening] = events_of(deps, account_id, ev.DisputeOpened)
    assert isinstance(opening, ev.DisputeOpened)
    assert opening.dispute_id == "dp_1"
    with pytest.raises(RepairNotApplicable):  # nothing new at the processor: refused
        record(deps, account_id, attempt_id)

    at_processor(lookup, dispute(LOST, 500))
    assert record(deps, account_id, attempt_id) == "recorded the dispute lost, 500 USD"
    assert load_account(deps.app, account_id).attempts[attempt_id].dispute is DisputeStatus.LOST
    at_processor(lookup, dispute(OPEN, 500))
    with pytest.raises(RepairNotApplicable):  # a closed dispute is never reopened
        record(deps, account_id, attempt_id)
    assert len(events_of(deps, account_id, ev.DisputeClosed)) == 1
    assert len(events_of(deps, account_id, ev.ReconciliationRepaired)) == 2


def test_record_dispute_of_a_decided_dispute_records_opening_and_closing_together() -> None:
    deps, account_id, attempt_id, lookup = paid_with_disputes(in_memory_deps())
    at_processor(lookup, dispute(WON, 500))
    before = load_account(deps.app, account_id).version
    record(deps, account_id, attempt_id)
    account = load_account(deps.app, account_id)
    assert account.attempts[attempt_id].dispute is DisputeStatus.WON
    assert account.version == before + 3  # opened, closed, repaired: one save


def test_record_dispute_refuses_an_unknown_dispute_and_disputes_not_asked() -> None:
    deps, account_id, attempt_id, lookup = paid_with_disputes(in_memory_deps())
    at_processor(lookup, dispute(OPEN))
    with pytest.raises(RepairNotApplicable, match="no dispute dp_x"):
        record(deps, account_id, attempt_id, "dp_x")
    [(payment_id, payment)] = lookup.payments.items()
    lookup.payments[payment_id] = dataclasses.replace(payment, disputes=None)
    with pytest.raises(RepairNotApplicable, match="not asked about disputes"):
        record(deps, account_id, attempt_id)
    assert load_account(deps.app, account_id).attempts[attempt_id].dispute is None
