"""The business flow fold, pure: an account's events as public envelopes, counted by metric
and labels (projections/business_flow.py), with what it keeps to label later events."""

from __future__ import annotations

import dataclasses
from typing import Any

from ledger.envelope import envelope_of
from ledger.payments import ActionPolicy, AttemptPurpose, Processor
from projections.base import fold_all
from projections.business_flow import (
    ATTEMPTS,
    BAD_DEBT_PAYMENTS,
    DECLINES,
    DUNNING_OUTCOMES,
    DUNNING_STEPS,
    OUTCOMES,
    RECOMPUTES,
    TRANSITIONS,
    WRITE_OFFS,
    BusinessFlowProjection,
    FlowState,
    Key,
    key,
    step_label,
)
from tests.unit.given import (
    at,
    attempt,
    card,
    failed,
    history,
    meta,
    out_of_band,
    paypal,
    subscribed,
    succeeded,
    support,
    uncollectible,
)

BAD_DEBT = AttemptPurpose.BAD_DEBT


def folded(*steps: Any) -> FlowState:
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]
    [state] = fold_all(BusinessFlowProjection(), envelopes).values()
    assert state is not None
    return state


def of(state: FlowState, metric: str) -> dict[Key, int]:
    return {k: n for k, n in state.counts.items() if k[0] == metric}


def outcome(outcome: str, decline_kind: str = "none", session: str = "off") -> Key:
    return key(
        OUTCOMES, processor="stripe", session=session, outcome=outcome, decline_kind=decline_kind
    )


def to(*statuses: str) -> dict[Key, int]:
    counts: dict[Key, int] = {}
    for status in statuses:
        k = key(TRANSITIONS, to=status)
        counts[k] = counts.get(k, 0) + 1
    return counts


def test_a_collection_paid_at_once_is_an_off_session_attempt_and_a_paid_invoice() -> None:
    state = folded(card(default=True), subscribed(), attempt("a-1"), succeeded("a-1"))
    assert state.counts == {
        key(ATTEMPTS, processor="stripe", session="off"): 1,
        outcome("succeeded"): 1,
        **to("drafted", "open", "paid"),
    }
    assert (state.attempts, state.invoices) == ({}, {})  # paid: nothing left to label


def test_on_session_and_bad_debt_payments_are_on_session_paypal_is_braintree() -> None:
    on = folded(
        card(default=True),
        subscribed(on_session=True),
        attempt("a-1", purpose=AttemptPurpose.ON_SESSION),
    )
    assert of(on, ATTEMPTS) == {key(ATTEMPTS, processor="stripe", session="on"): 1}
    bad = folded(
        paypal(default=True),
        subscribed(),
        uncollectible(),
        attempt("b-1", method_id="pp-1", purpose=BAD_DEBT),
    )
    assert of(bad, ATTEMPTS) == {key(ATTEMPTS, processor="braintree", session="on"): 1}


def test_declines_count_their_kind_and_code_and_the_retries_are_dunning_steps() -> None:
    state = folded(
        card(default=True),
        card("card-2"),
        subscribed(),
        attempt("a-1"),
        failed("a-1", "insufficient_funds"),
        attempt("a-2", when=at(days=1)),
        failed("a-2", "expired_card", when=at(days=1)),
        attempt("a-3", method_id="card-2", when=at(days=1)),
        succeeded("a-3", when=at(days=1)),
    )
    assert of(state, OUTCOMES) == {
        outcome("failed", "soft"): 1,
        outcome("failed", "hard"): 1,
        outcome("succeeded"): 1,
    }
    assert of(state, DECLINES) == {
        key(DECLINES, processor="stripe", decline_code="insufficient_funds"): 1,
        key(DECLINES, processor="stripe", decline_code="expired_card"): 1,
    }
    assert of(state, DUNNING_STEPS) == {
        key(DUNNING_STEPS, step="1"): 1,  # a-2, after one failure
        key(DUNNING_STEPS, step="2"): 1,  # a-3, after two
    }
    assert of(state, DUNNING_OUTCOMES) == {key(DUNNING_OUTCOMES, outcome="recovered"): 1}


def test_an_on_session_failure_is_no_dunning_and_a_first_collection_is_no_retry() -> None:
    state = folded(
        card(default=True),
        subscribed(),
        attempt("a-1", purpose=AttemptPurpose.ON_SESSION),
        failed("a-1"),
        attempt("a-2"),
        succeeded("a-2"),
    )
    assert of(state, DUNNING_STEPS) == {}
    assert of(state, DUNNING_OUTCOMES) == {}  # paid, but it never failed a collection
    assert outcome("failed", "soft", session="on") in state.counts


def test_a_payment_waiting_for_the_customer_then_succeeding_counts_both_outcomes() -> None:
    def action_required(account: Any) -> None:
        account.record_action_required("a-1", "pi_1", ActionPolicy(), meta())

    state = folded(card(default=True), subscribed(), attempt("a-1"), action_required)
    assert of(state, OUTCOMES) == {outcome("action_required"): 1}
    assert set(state.attempts) == {"a-1"}  # still in flight: its outcome is to come
    done = folded(
        card(default=True), subscribed(), attempt("a-1"), action_required, succeeded("a-1")
    )
    assert of(done, OUTCOMES) == {outcome("action_required"): 1, outcome("succeeded"): 1}


def test_dunning_exhausts_when_the_ledger_gives_up_not_when_support_marks_by_hand() -> None:
    by_dunning = folded(card(default=True), subscribed(), attempt("a-1"), failed("a-1"))
    exhausted = folded(
        card(default=True), subscribed(), attempt("a-1"), failed("a-1"), uncollectible()
    )
    assert of(by_dunning, DUNNING_OUTCOMES) == {}
    assert of(exhausted, DUNNING_OUTCOMES) == {key(DUNNING_OUTCOMES, outcome="exhausted"): 1}
    assert of(exhausted, TRANSITIONS) == to("drafted", "open", "uncollectible")

    def by_support(account: Any) -> None:
        account.mark_uncollectible("inv-sub-1", support())

    by_hand = folded(card(default=True), subscribed(), by_support)
    assert of(by_hand, DUNNING_OUTCOMES) == {}
    assert of(by_hand, TRANSITIONS) == to("drafted", "open", "uncollectible")


def test_bad_debt_payments_are_partial_until_nothing_uncollectible_is_left() -> None:
    steps = [
        card(default=True),
        subscribed(),
        subscribed("sub-2"),
        uncollectible(),
        uncollectible("inv-sub-2"),
        attempt("b-1", purpose=BAD_DEBT),
        succeeded("b-1"),
    ]
    first = folded(*steps)
    assert of(first, BAD_DEBT_PAYMENTS) == {key(BAD_DEBT_PAYMENTS, coverage="partial"): 1}
    both = folded(*steps, attempt("b-2", "inv-sub-2", purpose=BAD_DEBT), succeeded("b-2"))
    assert of(both, BAD_DEBT_PAYMENTS) == {
        key(BAD_DEBT_PAYMENTS, coverage="partial"): 1,
        key(BAD_DEBT_PAYMENTS, coverage="full"): 1,
    }
    assert of(both, TRANSITIONS)[key(TRANSITIONS, to="recovered")] == 2
    assert key(TRANSITIONS, to="paid") not in both.counts
    assert of(both, DUNNING_OUTCOMES) == {key(DUNNING_OUTCOMES, outcome="exhausted"): 2}


def test_money_support_records_for_an_uncollectible_invoice_is_a_full_bad_debt_payment() -> None:
    def recorded(account: Any) -> None:
        account.pay_out_of_band("inv-sub-1", Processor.BRAINTREE, "bt_txn_1", support())

    state = folded(card(default=True), subscribed(), uncollectible(), recorded)
    assert of(state, BAD_DEBT_PAYMENTS) == {key(BAD_DEBT_PAYMENTS, coverage="full"): 1}
    assert of(state, TRANSITIONS)[key(TRANSITIONS, to="recovered")] == 1
    open_paid = folded(card(default=True), subscribed(), out_of_band())
    assert of(open_paid, TRANSITIONS) == to("drafted", "open", "paid")
    assert of(open_paid, BAD_DEBT_PAYMENTS) == {}


def test_a_write_off_is_counted_and_a_void_of_an_open_invoice_is_not_one() -> None:
    def void(when_support: bool) -> Any:
        return lambda a: a.void_invoice("inv-sub-1", support() if when_support else meta())

    written_off = folded(card(default=True), subscribed(), uncollectible(), void(True))
    assert of(written_off, WRITE_OFFS) == {key(WRITE_OFFS): 1}
    assert of(written_off, TRANSITIONS) == to("drafted", "open", "uncollectible", "written_off")
    voided = folded(card(default=True), subscribed(), void(False))
    assert of(voided, WRITE_OFFS) == {}
    assert of(voided, TRANSITIONS) == to("drafted", "open", "voided")
    assert voided.invoices == {}


def test_a_recompute_request_is_counted_as_requested() -> None:
    def recompute(account: Any) -> None:
        account.request_recompute(["accounts"], support())

    state = folded(recompute, recompute)
    assert state.counts == {key(RECOMPUTES, outcome="requested"): 2}


def test_an_account_with_nothing_to_count_has_no_state() -> None:
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(card(default=True)))]
    assert fold_all(BusinessFlowProjection(), envelopes) == {envelopes[0].account_id: None}


def test_the_dunning_step_label_is_bounded() -> None:
    assert [step_label(n) for n in (1, 4, 9, 10, 37)] == ["1", "4", "9", "10+", "10+"]


def test_a_failure_published_before_it_carried_its_kind_gets_it_from_its_code() -> None:
    steps = [card(default=True), subscribed(), attempt("a-1"), failed("a-1", "expired_card")]
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]
    v1 = [
        dataclasses.replace(e, data={k: v for k, v in e.data.items() if k != "failure"})
        if e.event_type == "PaymentFailed"
        else e
        for e in envelopes
    ]
    [state] = fold_all(BusinessFlowProjection(), v1).values()
    assert state is not None
    assert of(state, OUTCOMES) == {outcome("failed", "hard"): 1}
