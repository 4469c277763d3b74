"""3-D Secure in the read models, pure folds: an invoice shows its attempt waiting for the
customer, and account health is not stuck because of a wait until the wait has expired."""

from __future__ import annotations

from typing import Any

from ledger.envelope import envelope_of
from ledger.payments import ActionPolicy, AttemptPurpose
from projections.base import fold_all
from projections.health import HealthFacts, HealthProjection
from projections.invoices import AccountInvoices, InvoicesProjection
from queries.health import HealthPolicy, _reasons, _state
from tests.unit.given import at, attempt, card, failed, history, meta, subscribed, succeeded

INVOICE = "inv-sub-1"


def waits(attempt_id: str = "a-1", when: Any = None) -> Any:
    moment = when or at(hours=1)
    return lambda a: a.record_action_required(
        attempt_id, f"pi_{attempt_id}", ActionPolicy(), meta(moment)
    )


def envelopes(*steps: Any) -> list[Any]:
    return [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]


def health(*steps: Any) -> HealthFacts:
    [state] = fold_all(HealthProjection(), envelopes(*steps)).values()
    assert state is not None
    return state


def invoices(*steps: Any) -> AccountInvoices:
    [state] = fold_all(InvoicesProjection(), envelopes(*steps)).values()
    assert state is not None
    return state


ON_SESSION = (
    card(default=True),
    subscribed(on_session=True),
    attempt("a-1", purpose=AttemptPurpose.ON_SESSION, when=at(hours=1)),
)


def test_the_envelope_carries_the_processor_payment_and_the_expiry() -> None:
    *_, event = envelopes(*ON_SESSION, waits())
    assert event.event_type == "PaymentActionRequired"
    assert event.data == {
        "attempt_id": "a-1",
        "processor_payment_id": "pi_a-1",
        "expires_at": at(hours=24).isoformat(),
    }


def test_an_invoice_shows_its_payment_requires_action_then_its_outcome() -> None:
    row = invoices(*ON_SESSION, waits()).invoices[INVOICE]
    assert row.status == "open"
    [shown] = row.detail["attempts"]
    assert shown["status"] == "requires_action"
    assert shown["processor_payment_id"] == "pi_a-1"
    assert shown["action_expires_at"] == at(hours=24).isoformat()
    assert shown["settled_at"] is None
    paid = invoices(*ON_SESSION, waits(), succeeded("a-1", when=at(hours=2))).invoices[INVOICE]
    assert paid.status == "paid"
    assert paid.detail["attempts"][0]["status"] == "succeeded"


def test_health_keeps_a_wait_out_of_in_flight_and_shows_until_when() -> None:
    state = health(*ON_SESSION, waits())
    assert state.attempt_in_flight_since is None
    assert state.action_required_until == at(hours=24)
    [facts] = state.attempts.values()
    assert (facts.status, facts.action_expires_at) == ("requires_action", at(hours=24))
    settled = health(*ON_SESSION, waits(), failed("a-1", when=at(hours=2)))
    assert settled.action_required_until is None


def test_a_wait_for_bad_debt_payment_is_lifting() -> None:
    state = health(
        card(default=True),
        subscribed(),
        lambda a: a.mark_uncollectible(INVOICE, meta(at(days=20))),
        attempt("a-9", purpose=AttemptPurpose.BAD_DEBT, when=at(days=30)),
        waits("a-9", when=at(days=30)),
    )
    assert state.bad_debt_payment_in_flight
    assert state.action_required_until == at(days=30, hours=23)


def row_of(state: HealthFacts) -> dict[str, Any]:
    names = [
        "attempt_in_flight_since", "action_required_until", "dunning_anchor_at",
        "bad_debt_payment_in_flight", "uncollectible", "oldest_unpaid_due_at",
        "failed_attempts", "active_subscriptions", "usable_default_method",
        "last_failed_attempt_at", "closed",
    ]  # fmt: skip
    return {n: getattr(state, n) for n in names} | {"head": None, "tracked": 0, "poisoned": False}


def test_health_is_not_stuck_while_the_customer_may_still_authenticate() -> None:
    row, policy = row_of(health(*ON_SESSION, waits())), HealthPolicy()
    before = _reasons(row, at(hours=23), policy)
    assert "awaiting_customer_action" in before
    assert "attempt_in_flight" not in before
    assert _state(row, set(before)).value == "healthy"
    just_expired = _reasons(row, at(hours=24, seconds=60), policy)
    assert "awaiting_customer_action" not in just_expired
    assert "attempt_in_flight" not in just_expired  # the janitor has its 15 minutes
    overdue = _reasons(row, at(hours=24, seconds=16 * 60), policy)
    assert "attempt_in_flight" in overdue
    assert _state(row, set(overdue)).value == "stuck"
