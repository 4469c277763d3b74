"""3-D Secure in the domain: an attempt waiting for the customer is in flight (it blocks a
second attempt and anything that would settle its invoice), is not a failure, and is
settled by a later success or failure, or by its expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from commands.application import LedgerApplication
from ledger.account import Account
from ledger.dunning import DunningPolicy, Step, decide
from ledger.invoices import InvoiceStatus
from ledger.journal import LedgerAccount
from ledger.payments import (
    AUTHENTICATION_NOT_COMPLETED,
    ActionNotExpired,
    ActionPolicy,
    AttemptInFlight,
    AttemptNotPending,
    AttemptPurpose,
    AttemptStatus,
    FailureKind,
)
from ledger.subscriptions import SubscriptionStatus
from tests.unit.given import (
    PROFILE,
    at,
    attempt,
    card,
    failed,
    given,
    kinds,
    meta,
    moves,
    replayed,
    subscribed,
    succeeded,
    system,
)

POLICY = ActionPolicy()
INVOICE = "inv-sub-1"


def action_required(attempt_id: str = "a-1") -> Any:
    return lambda a: a.record_action_required(attempt_id, f"pi_{attempt_id}", POLICY, meta(at()))


def on_session_attempt() -> Any:
    return attempt("a-1", purpose=AttemptPurpose.ON_SESSION)


def waiting(purpose: AttemptPurpose = AttemptPurpose.ON_SESSION) -> Account:
    """An on-session subscription (or an off-session one) whose payment waits for the
    customer since T0."""
    return given(
        card(default=True),
        subscribed(on_session=purpose is AttemptPurpose.ON_SESSION),
        attempt("a-1", purpose=purpose),
        action_required(),
    )


def test_the_expiry_comes_from_the_policy_by_purpose() -> None:
    assert POLICY.expires_at(AttemptPurpose.ON_SESSION, at()) == at(hours=23)
    assert POLICY.expires_at(AttemptPurpose.BAD_DEBT, at()) == at(hours=23)
    assert POLICY.expires_at(AttemptPurpose.COLLECTION, at()) == at(days=3)
    account = waiting(AttemptPurpose.COLLECTION)
    a = account.attempts["a-1"]
    assert (a.status, a.processor_payment_id) == (AttemptStatus.REQUIRES_ACTION, "pi_a-1")
    assert a.action_expires_at == at(days=3)
    assert a.in_flight
    assert a.awaiting_customer
    assert (a.decline_code, a.failure, a.settled_at) == (None, None, None)


def test_the_event_records_the_processor_payment_and_the_expiry() -> None:
    account = given(card(default=True), subscribed(on_session=True), attempt("a-1"))
    account.record_action_required("a-1", "pi_1", POLICY, meta(at(hours=1)))
    [event] = list[Any](account.collect_events())
    assert kinds([event]) == ["PaymentActionRequired"]
    assert (event.attempt_id, event.processor_payment_id) == ("a-1", "pi_1")
    assert event.expires_at == at(days=3, hours=1)  # collection purpose: off-session wait


def test_a_waiting_attempt_blocks_a_second_attempt_and_settling_its_invoice() -> None:
    account = waiting()
    with pytest.raises(AttemptInFlight):
        account.start_attempt("a-2", INVOICE, "card-1", AttemptPurpose.ON_SESSION, meta())
    with pytest.raises(AttemptInFlight):
        account.void_invoice(INVOICE, meta())
    with pytest.raises(AttemptInFlight):
        account.mark_uncollectible(INVOICE, system())
    with pytest.raises(AttemptInFlight):
        account.remove_method("card-1", meta())
    assert account.invoices[INVOICE].status is InvoiceStatus.OPEN
    assert account.collect_events() == []


def test_the_processor_asks_for_action_once() -> None:
    account = waiting()
    with pytest.raises(AttemptNotPending):
        account.record_action_required("a-1", "pi_other", POLICY, meta())


def test_a_waiting_attempt_is_neither_retried_nor_counted_by_dunning() -> None:
    account = waiting(AttemptPurpose.COLLECTION)
    decision = decide(
        DunningPolicy(),
        account.invoices[INVOICE],
        list(account.attempts.values()),
        account.methods,
        account.default_method_id,
        account.collection_path,
        at(days=30),
    )
    assert decision.step is Step.WAIT  # not exhausted, not retried: it is in flight


def test_a_success_after_authentication_pays_the_invoice() -> None:
    account = waiting()
    account.record_success("a-1", "pi_a-1", meta(at(seconds=300)))
    [event] = account.collect_events()
    assert kinds([event]) == ["PaymentSucceeded"]
    assert moves(event) == {LedgerAccount.CASH_STRIPE: 3000, LedgerAccount.RECEIVABLE: -3000}
    assert account.invoices[INVOICE].status is InvoiceStatus.PAID
    assert account.attempts["a-1"].status is AttemptStatus.SUCCEEDED
    assert account.subscriptions["sub-1"].status is SubscriptionStatus.ACTIVE


def test_a_failed_authentication_on_session_voids_and_rolls_back() -> None:
    account = waiting()
    account.record_failure("a-1", "payment_intent_authentication_failure", meta(at(seconds=300)))
    events = account.collect_events()
    assert kinds(events) == ["PaymentFailed", "InvoiceVoided", "SubscriptionChanged"]
    assert account.invoices[INVOICE].status is InvoiceStatus.VOID
    assert account.subscriptions["sub-1"].status is SubscriptionStatus.CANCELED


def test_a_wait_cannot_be_expired_early_nor_twice() -> None:
    account = waiting()
    with pytest.raises(ActionNotExpired):
        account.expire_action("a-1", meta(at(hours=22, seconds=3599)))
    account.expire_action("a-1", meta(at(hours=23)))
    account.collect_events()
    with pytest.raises(ActionNotExpired):
        account.expire_action("a-1", meta(at(hours=24)))
    not_waiting = given(card(default=True), subscribed(), attempt("a-1"))
    with pytest.raises(ActionNotExpired):
        not_waiting.expire_action("a-1", meta(at(days=10)))


def test_an_expired_on_session_wait_is_a_soft_failure_that_rolls_the_purchase_back() -> None:
    account = waiting()
    account.expire_action("a-1", meta(at(hours=23)))
    events = list[Any](account.collect_events())
    assert kinds(events) == ["PaymentFailed", "InvoiceVoided", "SubscriptionChanged"]
    assert (events[0].decline_code, events[0].failure) == (
        AUTHENTICATION_NOT_COMPLETED,
        FailureKind.SOFT,
    )
    assert account.invoices[INVOICE].status is InvoiceStatus.VOID
    assert account.subscriptions["sub-1"].status is SubscriptionStatus.CANCELED
    assert not account.receivable.is_positive


def test_an_expired_off_session_wait_leaves_the_invoice_to_dunning() -> None:
    account = waiting(AttemptPurpose.COLLECTION)
    account.expire_action("a-1", meta(at(days=3)))
    assert kinds(account.collect_events()) == ["PaymentFailed"]
    assert account.invoices[INVOICE].status is InvoiceStatus.OPEN
    policy = DunningPolicy()
    invoice, attempts = account.invoices[INVOICE], list(account.attempts.values())
    args = (account.methods, account.default_method_id, account.collection_path)
    assert decide(policy, invoice, attempts, *args, at(days=3, hours=1)).step is Step.WAIT
    retry = decide(policy, invoice, attempts, *args, at(days=4))
    assert (retry.step, retry.method_id, retry.due_at) == (Step.ATTEMPT, "card-1", at(days=4))


def test_a_late_outcome_of_a_settled_attempt_is_refused() -> None:
    account = waiting()
    account.expire_action("a-1", meta(at(hours=23)))
    account.collect_events()
    with pytest.raises(AttemptNotPending):
        account.record_success("a-1", "pi_a-1", meta(at(hours=24)))


def test_replay_and_snapshot_restore_the_waiting_attempt() -> None:
    app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    live = Account.open(uuid4(), PROFILE, meta())
    for step in (card(default=True), subscribed(on_session=True), on_session_attempt()):
        step(live)
    action_required()(live)
    app.save(live)
    app.take_snapshot(live.id)
    from_events = replayed(app.events.get(live.id))  # transcoded events
    restored: Account = app.repository.get(live.id)
    assert from_events.attempts["a-1"] == restored.attempts["a-1"] == live.attempts["a-1"]
    assert restored.attempts["a-1"].status is AttemptStatus.REQUIRES_ACTION
    assert restored.attempts["a-1"].action_expires_at == at() + timedelta(hours=23)


def test_a_waiting_off_session_attempt_is_settled_by_its_outcome() -> None:
    paid = given(
        card(default=True), subscribed(), attempt("a-1"), action_required(), succeeded("a-1")
    )
    assert paid.invoices[INVOICE].status is InvoiceStatus.PAID
    declined = given(
        card(default=True), subscribed(), attempt("a-1"), action_required(), failed("a-1")
    )
    assert declined.attempts["a-1"].status is AttemptStatus.FAILED
