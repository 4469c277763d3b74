"""A plan change and a bad-debt payment in a customer's words, from the /v1 answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from adapters.http.portal.bad_debt_words import method_in_words, outcome_in_words, total_owed
from adapters.http.portal.plan_words import (
    done_in_words,
    every,
    now_in_words,
    plan_name,
    renewal_in_words,
)
from adapters.http.routers.billing import BadDebtPaid, BillingWritten, Payment
from adapters.http.routers.plan_preview import NextRenewal, PlanChangePreview
from ledger.invoices import DisplayStatus
from ledger.money import Money
from ledger.subscriptions import Plan
from queries.account_detail import MethodView
from queries.invoices import InvoiceSummary

MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
BUSINESS = Plan("business-monthly-usd", "Business", 1, Money(20000, "USD"))
YEARLY_JPY = Plan("pro-yearly-jpy", "Pro", 12, Money(25000, "JPY"))


def preview(**fields: Any) -> PlanChangePreview:
    base: dict[str, Any] = {
        "account_id": uuid4(),
        "subscription_id": "sub-1",
        "from_plan_id": "pro-monthly-usd",
        "to_plan_id": "business-monthly-usd",
        "currency": "USD",
        "quoted_at": MAY_1,
        "lines": [],
        "net": 12000,
        "credit_applied": 0,
        "amount_due_now": 12000,
        "due_at": None,
        "credit_granted": 0,
        "next_renewal": NextRenewal(at=MAY_1, price=20000, credit_applied=0, amount_due=20000),
        "ends_at": None,
    }
    return PlanChangePreview(**(base | fields))


def test_plans_are_named_with_their_price_and_interval() -> None:
    assert plan_name(BUSINESS) == "Business (200.00 USD every month)"
    assert every(YEARLY_JPY) == "every year"
    assert every(Plan("q", "Pro", 3, Money(1, "USD"))) == "every 3 months"


def test_an_upgrade_says_what_is_charged_now_and_what_credit_pays() -> None:
    assert now_in_words(preview()) == ["You will be charged 120.00 USD now."]
    with_credit = preview(credit_applied=2000, amount_due_now=10000)
    assert now_in_words(with_credit) == [
        "You will be charged 100.00 USD now.",
        "Your credit pays 20.00 USD of the change.",
    ]
    invoiced = preview(due_at=MAY_1)
    assert now_in_words(invoiced) == ["You will be invoiced 120.00 USD now, due by 1 May 2026."]


def test_a_downgrade_says_the_credit_it_adds() -> None:
    down = preview(net=-9000, amount_due_now=0, credit_granted=9000)
    assert now_in_words(down) == [
        "Nothing is charged now.",
        "90.00 USD is added to your credit; it pays your next invoices first.",
    ]
    assert now_in_words(preview(net=0, amount_due_now=0)) == ["Nothing is charged or credited now."]
    covered = preview(credit_applied=12000, amount_due_now=0)
    assert now_in_words(covered) == ["Your credit pays the whole change (120.00 USD)."]


def test_the_next_renewal_or_the_end() -> None:
    assert renewal_in_words(preview(), BUSINESS) == (
        "From 1 May 2026 you will be billed 200.00 USD every month."
    )
    credit = NextRenewal(at=MAY_1, price=20000, credit_applied=500, amount_due=19500)
    assert renewal_in_words(preview(next_renewal=credit), BUSINESS).endswith(
        "Your credit would pay 5.00 USD of the first renewal."
    )
    ending = preview(next_renewal=None, ends_at=MAY_1)
    assert renewal_in_words(ending, BUSINESS) == (
        "Your subscription ends on 1 May 2026; it will not renew."
    )


def written(status: str | None) -> BillingWritten:
    payment = (
        None
        if status is None
        else Payment(attempt_id="a", invoice_id="i", status=status, decline_code="do_not_honor")
    )
    return BillingWritten(
        account_id=uuid4(), version=3, position=9, replayed=False, payment=payment
    )


def test_what_the_change_did() -> None:
    assert done_in_words(written("succeeded"), "120.00 USD") == (
        "Your plan is changed. You were charged 120.00 USD."
    )
    assert done_in_words(written(None), "0.00 USD") == "Your plan is changed. Nothing was charged."
    declined = done_in_words(written("failed"), "120.00 USD")
    assert "not changed" in declined
    assert "do_not_honor" not in declined
    assert "confirm" in done_in_words(written("requires_action"), "120.00 USD")


def summary(invoice_id: str, number: str, due: int) -> InvoiceSummary:
    return InvoiceSummary(
        invoice_id=invoice_id,
        number=number,
        status="uncollectible",
        display_status=DisplayStatus.UNCOLLECTIBLE,
        created_at=MAY_1,
        finalized_at=MAY_1,
        due_at=None,
        paid_at=None,
        marked_uncollectible_at=MAY_1,
        voided_at=None,
        currency="USD",
        total=due,
        credit_applied=0,
        amount_due=due,
        paid_out_of_band=False,
    )


def test_a_partial_bad_debt_payment_says_what_is_still_unpaid_and_what_to_do() -> None:
    one, two = summary("i1", "AB-0001", 2000), summary("i2", "AB-0002", 3000)
    assert total_owed([one, two]) == "50.00 USD"
    paid = BadDebtPaid(
        account_id=uuid4(),
        payments=[
            Payment(attempt_id="a1", invoice_id="i1", status="succeeded", decline_code=None),
            Payment(attempt_id="a2", invoice_id="i2", status="failed", decline_code="do_not_honor"),
        ],
        recovered=["i1"],
        still_uncollectible=["i2"],
        bad_debt=True,
        version=5,
    )
    said = outcome_in_words(paid, {"i1": one, "i2": two})
    assert said[0] == "Invoice AB-0001 (20.00 USD): paid."
    assert (
        said[1]
        == "Invoice AB-0002 (30.00 USD): the payment was declined; nothing was charged for it."
    )
    assert said[2].startswith("Still unpaid: Invoice AB-0002 (30.00 USD). Purchases stay paused")
    assert not any("do_not_honor" in s for s in said)


def test_a_whole_bad_debt_payment_lifts_the_pause() -> None:
    one = summary("i1", "AB-0001", 2000)
    paid = BadDebtPaid(
        account_id=uuid4(),
        payments=[Payment(attempt_id="a1", invoice_id="i1", status="succeeded", decline_code=None)],
        recovered=["i1"],
        still_uncollectible=[],
        bad_debt=False,
        version=5,
    )
    assert outcome_in_words(paid, {"i1": one})[-1] == (
        "Everything is paid: you can change plans and buy again."
    )


def method(**fields: Any) -> MethodView:
    base: dict[str, Any] = {
        "method_id": "m1",
        "kind": "card",
        "processor_ref": "pm_1",
        "default": True,
        "state": "active",
        "state_changed_at": None,
        "added_at": MAY_1,
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
        "valid_until": None,
        "expiry": None,
        "payer_email": None,
        "billing_agreement_id": None,
        "vault_path": None,
    }
    return MethodView(**(base | fields))


def test_the_method_that_will_be_charged_in_words() -> None:
    assert method_in_words(method()) == "Visa ending in 4242"
    assert method_in_words(method(brand="american_express", last4="0005")) == (
        "American Express ending in 0005"
    )
    paypal = method(kind="paypal", brand=None, last4=None, payer_email="payer@example.com")
    assert method_in_words(paypal) == "PayPal (payer@example.com)"


def test_a_payment_waiting_for_the_bank_says_to_confirm_it_not_to_change_method() -> None:
    one = summary("i1", "AB-0001", 2000)
    paid = BadDebtPaid(
        account_id=uuid4(),
        payments=[
            Payment(attempt_id="a1", invoice_id="i1", status="requires_action", decline_code=None)
        ],
        recovered=[],
        still_uncollectible=["i1"],
        bad_debt=True,
        version=5,
    )
    said = outcome_in_words(paid, {"i1": one})
    assert said[0] == "Invoice AB-0001 (20.00 USD): your bank asks you to confirm the payment."
    assert said[1].endswith("paid: confirm the payment your bank asks about.")
