"""ledger.dunning.decide: when to retry a failed off-session collection, with which method,
and when to give up. The inputs come from accounts built from events, as the billing run
gathers them."""

from datetime import datetime

import pytest

from ledger.account import Account
from ledger.dunning import Decision, DunningPolicy, decide
from ledger.dunning import Step as Next
from ledger.payments import AttemptPurpose
from tests.unit.given import (
    T0,
    Step,
    at,
    attempt,
    card,
    credit,
    customer,
    failed,
    given,
    meta,
    paid,
    paypal,
    subscribed,
    system,
    uncollectible,
)

POLICY = DunningPolicy(retry_after_days=(1, 3, 5, 7))
INVOICE = "inv-sub-1"


def decision(
    account: Account, now: datetime, policy: DunningPolicy = POLICY, invoice: str = INVOICE
) -> Decision:
    return decide(
        policy,
        account.invoices[invoice],
        list(account.attempts.values()),
        account.methods,
        account.default_method_id,
        account.collection_path,
        now,
    )


def failure(
    attempt_id: str,
    method_id: str = "card-1",
    when: datetime = T0,
    decline: str = "insufficient_funds",
) -> list[Step]:
    """An off-session attempt that failed with a soft (default) or hard decline."""
    return [attempt(attempt_id, INVOICE, method_id, when=when), failed(attempt_id, decline, when)]


def failures(*days: float, method_id: str = "card-1") -> list[Step]:
    steps: list[Step] = []
    for n, day in enumerate(days, start=1):
        steps += failure(f"att-{n}", method_id, at(days=day))
    return steps


def attempt_with(method_id: str, due_at: datetime) -> Decision:
    return Decision(Next.ATTEMPT, method_id, due_at)


WAIT = Decision(Next.WAIT)
EXHAUSTED = Decision(Next.EXHAUSTED)


# --- the first attempt --------------------------------------------------------------------------


def test_a_card_invoice_is_first_charged_when_finalized_with_the_default_method() -> None:
    account = given(card("card-1"), card("card-2"), subscribed())
    assert decision(account, at()) == attempt_with("card-1", at())


def test_a_paypal_invoice_waits_while_it_is_not_yet_due() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True), subscribed())
    assert decision(account, at(days=6, hours=23)) == WAIT


def test_paypal_dunning_starts_when_the_invoice_is_overdue() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True), subscribed())
    assert decision(account, at(days=7, seconds=1)) == attempt_with("pp-1", at(days=7))


# --- the retry schedule -------------------------------------------------------------------------


def test_after_a_soft_decline_nothing_is_due_before_the_first_retry_day() -> None:
    account = given(card(), subscribed(), *failures(0))
    assert decision(account, at(hours=23)) == WAIT


def test_a_soft_decline_is_retried_with_the_same_method_on_the_first_retry_day() -> None:
    account = given(card("card-1"), card("card-2"), subscribed(), *failures(0))
    assert decision(account, at(days=1)) == attempt_with("card-1", at(days=1))


@pytest.mark.parametrize(
    ("failed_on_days", "next_retry_day"),
    [((0,), 1), ((0, 1), 3), ((0, 1, 3), 5), ((0, 1, 3, 5), 7)],
)
def test_retries_follow_the_schedule_counted_from_the_first_failure(
    failed_on_days: tuple[float, ...], next_retry_day: float
) -> None:
    account = given(card(), subscribed(), *failures(*failed_on_days))
    assert decision(account, at(days=10)) == attempt_with("card-1", at(days=next_retry_day))


def test_a_late_retry_does_not_push_the_schedule_back() -> None:
    account = given(card(), subscribed(), *failures(0, 2.5))
    assert decision(account, at(days=3)) == attempt_with("card-1", at(days=3))


def test_the_invoice_is_exhausted_when_every_retry_has_failed() -> None:
    account = given(card(), subscribed(), *failures(0, 1, 3, 5, 7))
    assert decision(account, at(days=8)) == EXHAUSTED


def test_a_shorter_policy_exhausts_sooner() -> None:
    account = given(card(), subscribed(), *failures(0, 2))
    assert decision(account, at(days=3), DunningPolicy(retry_after_days=(2,))) == EXHAUSTED


# --- hard declines and backup methods -------------------------------------------------------


def test_a_hard_decline_moves_to_a_backup_method_at_once() -> None:
    account = given(
        card("card-1"),
        card("card-2"),
        subscribed(),
        *failure("att-1", "card-1", at(hours=2), decline="expired_card"),
    )
    assert decision(account, at(hours=2)) == attempt_with("card-2", at(hours=2))


def test_a_hard_declined_method_is_never_retried() -> None:
    account = given(
        card("card-1"),
        card("card-2"),
        subscribed(),
        *failure("att-1", "card-1", at(), decline="expired_card"),
        *failure("att-2", "card-2", at(), decline="insufficient_funds"),
    )
    # The hard decline used no retry slot: the first soft failure's retry is a day later.
    assert decision(account, at(days=3)) == attempt_with("card-2", at(days=1))


def test_backup_methods_are_tried_most_recently_added_first() -> None:
    account = given(
        card("card-1"),
        card("card-2"),
        card("card-3"),
        subscribed(),
        *failure("att-1", "card-1", decline="stolen_card"),
    )
    assert decision(account, at()).method_id == "card-3"


def test_an_unusable_backup_method_is_skipped() -> None:
    account = given(
        card("card-1"),
        card("card-2"),
        card("card-3"),
        subscribed(),
        lambda a: a.expire_method("card-3", system()),
        *failure("att-1", "card-1", decline="stolen_card"),
    )
    assert decision(account, at()).method_id == "card-2"


def test_a_hard_decline_with_no_usable_backup_leaves_the_schedule_to_add_a_method() -> None:
    account = given(
        card("card-1"),
        subscribed(),
        *failure("att-1", "card-1", decline="expired_card"),
    )
    assert decision(account, at(days=1)) == WAIT
    assert decision(account, at(days=6, hours=23)) == WAIT
    assert decision(account, at(days=7)) == EXHAUSTED


def test_without_backup_methods_a_hard_decline_exhausts_when_the_schedule_ends() -> None:
    account = given(
        card("card-1"),
        card("card-2"),
        subscribed(),
        *failure("att-1", "card-1", decline="expired_card"),
    )
    policy = DunningPolicy(retry_after_days=(1, 3, 5, 7), try_backup_methods=False)
    assert decision(account, at(days=1), policy) == WAIT
    assert decision(account, at(days=7), policy) == EXHAUSTED


def test_a_revoked_paypal_agreement_falls_back_to_a_card() -> None:
    account = given(
        card("card-1"),
        paypal("pp-1", default=True),
        subscribed(),
        *failure("att-1", "pp-1", at(days=7, hours=1), "paypal_agreement_revoked"),
    )
    assert decision(account, at(days=7, hours=1)) == attempt_with("card-1", at(days=7, hours=1))


# --- no usable method -------------------------------------------------------------------------


def test_without_any_usable_method_the_customer_gets_the_whole_schedule_to_add_one() -> None:
    account = given(subscribed())
    assert decision(account, at(days=6, hours=23)) == WAIT


def test_without_any_usable_method_the_invoice_is_exhausted_after_the_schedule() -> None:
    account = given(subscribed())
    assert decision(account, at(days=7)) == EXHAUSTED


def test_without_a_default_the_most_recently_added_usable_method_is_used() -> None:
    account = given(
        card("card-1"),
        card("card-2"),
        lambda a: a.remove_method("card-1", customer()),
        lambda a: a.remove_method("card-2", customer()),
        subscribed(),
        card("card-3"),
    )
    assert decision(account, at()) == attempt_with("card-3", at())


# --- nothing to do ------------------------------------------------------------------------------


def test_nothing_is_due_while_an_attempt_is_in_flight() -> None:
    account = given(card(), subscribed(), attempt("att-1", INVOICE))
    assert decision(account, at(days=2)) == WAIT


def test_a_paid_invoice_needs_no_dunning() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    assert decision(account, at(days=2)) == WAIT


def test_an_uncollectible_invoice_is_left_to_the_bad_debt_path() -> None:
    account = given(card(), subscribed(), uncollectible(INVOICE))
    assert decision(account, at(days=2)) == WAIT


def test_a_void_invoice_needs_no_dunning() -> None:
    account = given(card(), subscribed(), lambda a: a.void_invoice(INVOICE, meta()))
    assert decision(account, at(days=2)) == WAIT


def test_an_invoice_covered_by_credit_needs_no_dunning() -> None:
    account = given(card(), credit("cr-1", 5000), subscribed())
    assert decision(account, at()) == WAIT


def test_failed_on_session_payments_do_not_count_as_dunning_attempts() -> None:
    account = given(
        card(),
        subscribed(),
        attempt("att-1", INVOICE, purpose=AttemptPurpose.ON_SESSION),
        failed("att-1", "insufficient_funds"),
    )
    assert decision(account, at()) == attempt_with("card-1", at())


def test_attempts_on_other_invoices_do_not_count() -> None:
    account = given(
        card(),
        subscribed("sub-1"),
        subscribed("sub-2"),
        *failure("att-1", "card-1", at()),
    )
    assert decision(account, at(), invoice="inv-sub-2") == attempt_with("card-1", at())


def test_the_same_state_always_gives_the_same_decision() -> None:
    account = given(card(), subscribed(), *failures(0, 1))
    assert decision(account, at(days=4)) == decision(account, at(days=4))


# --- the policy -------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [(3, 1), (-1, 2)])
def test_a_retry_schedule_must_be_non_negative_and_ascending(days: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="ascending"):
        DunningPolicy(retry_after_days=days)


def test_after_the_schedule_each_untried_backup_gets_one_attempt() -> None:
    account = given(
        card("card-2"),
        card("card-1"),
        subscribed(),
        *failures(0, 1, 3, 5, 7, method_id="card-1"),
    )
    assert decision(account, at(days=7)) == attempt_with("card-2", at(days=7))
    tried = given(
        card("card-2"),
        card("card-1"),
        subscribed(),
        *failures(0, 1, 3, 5, 7, method_id="card-1"),
        *failure("att-6", "card-2", at(days=7)),
    )
    assert decision(tried, at(days=8)) == EXHAUSTED
