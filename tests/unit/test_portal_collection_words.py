"""How the subscriptions are paid, as the billing pages say it: from the collection path
and the default method (charged automatically, or invoiced and collected from PayPal), and
what a removal leads to, by the domain's own rules (the most recently added other usable
method becomes the default; a PayPal billing agreement as the default: send-invoice)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.http.portal.collection_words import collected_when, paid_how
from ledger.account import PAYPAL_DAYS_UNTIL_DUE
from ledger.invoices import DisplayStatus
from queries.account_detail import (
    AccountDetailView,
    MethodView,
    SubscriptionView,
    after_removing,
    needed_for_renewals,
)
from queries.invoices import InvoiceSummary

ADDED = datetime(2026, 1, 1, tzinfo=UTC)


def method(method_id: str, kind: str = "card", **fields: Any) -> MethodView:
    given: dict[str, Any] = {
        "method_id": method_id,
        "kind": kind,
        "processor_ref": f"ref-{method_id}",
        "default": False,
        "state": "active",
        "state_changed_at": None,
        "added_at": ADDED,
        "brand": "visa" if kind == "card" else None,
        "last4": "4242" if kind == "card" else None,
        "exp_month": 12 if kind == "card" else None,
        "exp_year": 2030 if kind == "card" else None,
        "valid_until": None,
        "expiry": None,
        "payer_email": "payer@example.com" if kind == "paypal" else None,
        "billing_agreement_id": "B-1" if kind == "paypal" else None,
        "vault_path": "billing_agreement" if kind == "paypal" else None,
    }
    return MethodView(**{**given, **fields})


def subscription(cancel_at_period_end: bool = False) -> SubscriptionView:
    return SubscriptionView(
        subscription_id="s-1",
        plan_id="pro-monthly-usd",
        status="active",
        period_start=ADDED,
        period_end=datetime(2026, 2, 1, tzinfo=UTC),
        cancel_at_period_end=cancel_at_period_end,
        canceled_at=None,
        subscribed_at=ADDED,
        renewal_due=False,
    )


def detail(
    *methods: MethodView,
    path: str = "charge_automatically",
    subscriptions: tuple[SubscriptionView, ...] = (),
) -> AccountDetailView:
    default = next((m for m in methods if m.default), None)
    return AccountDetailView(
        collection_path=path,
        default_method=default,
        subscriptions=subscriptions,
        methods=methods,
        credits=(),
        disputes=(),
        bad_debt=None,
    )


def test_a_card_default_is_charged_automatically() -> None:
    paid = paid_how("charge_automatically", method("c", default=True))
    assert f"{paid.how} {paid.via}" == "Charged automatically to Visa •••• 4242"
    assert paid.sentence == (
        "Charged automatically: each renewal is charged to Visa •••• 4242 on the day it renews."
    )


def test_a_paypal_agreement_default_is_invoiced_and_collected_from_paypal() -> None:
    paid = paid_how("send_invoice", method("p", "paypal", default=True))
    assert f"{paid.how} {paid.via}" == "Invoiced, paid by PayPal payer@example.com"
    assert f"due {PAYPAL_DAYS_UNTIL_DUE} days after it is issued" in paid.sentence
    assert "collected from PayPal payer@example.com when it falls due" in paid.then


def test_a_paypal_vaulted_the_legacy_way_is_charged_automatically() -> None:
    legacy = method("p", "paypal", default=True, vault_path="legacy")
    paid = paid_how("charge_automatically", legacy)
    assert f"{paid.how} {paid.via}" == "Charged automatically to PayPal payer@example.com"


def test_without_a_usable_default_nothing_pays() -> None:
    for default in (None, method("c", default=True, state="expired")):
        assert paid_how("charge_automatically", default).how == "No payment method"


def test_removing_the_paypal_default_makes_the_newest_other_method_the_default() -> None:
    older, newer = method("c1"), method("c2", last4="4444")
    paypal = method("p", "paypal", default=True)
    successor, path = after_removing(detail(older, newer, paypal, path="send_invoice"), "p")
    assert successor == newer
    assert path == "charge_automatically"


def test_removing_a_card_that_is_not_the_default_changes_nothing() -> None:
    card, paypal = method("c"), method("p", "paypal", default=True)
    successor, path = after_removing(detail(card, paypal, path="send_invoice"), "c")
    assert successor == paypal
    assert path == "send_invoice"


def test_removing_the_card_default_moves_to_a_paypal_agreement_and_skips_unusable_ones() -> None:
    paypal = method("p", "paypal")
    expired = method("x", state="expired", last4="0002")
    card = method("c", default=True)
    successor, path = after_removing(detail(paypal, expired, card), "c")
    assert successor == paypal
    assert path == "send_invoice"
    assert after_removing(detail(card), "c") == (None, "charge_automatically")


def invoice(status: DisplayStatus, amount_due: int = 2000) -> InvoiceSummary:
    fields = dict.fromkeys(InvoiceSummary.model_fields)
    fields.update(
        invoice_id="i-1",
        number="A-0001",
        status="open",
        display_status=status,
        created_at=ADDED,
        finalized_at=ADDED,
        due_at=datetime(2026, 1, 8, tzinfo=UTC),
        currency="USD",
        total=2000,
        credit_applied=0,
        amount_due=amount_due,
        paid_out_of_band=False,
    )
    return InvoiceSummary.model_validate(fields)


def test_an_open_invoice_on_paypal_says_when_it_is_collected() -> None:
    paypal = method("p", "paypal", default=True)
    said = collected_when(invoice(DisplayStatus.OPEN), "send_invoice", paypal)
    assert said == (
        "It will be collected from PayPal payer@example.com on 8 January 2026, its due date:"
        " there is nothing for you to do."
    )


def test_nothing_is_said_of_other_invoices_or_paths() -> None:
    paypal, card = method("p", "paypal", default=True), method("c", default=True)
    assert collected_when(invoice(DisplayStatus.PAST_DUE), "send_invoice", paypal) is None
    assert collected_when(invoice(DisplayStatus.OPEN, 0), "send_invoice", paypal) is None
    assert collected_when(invoice(DisplayStatus.OPEN), "charge_automatically", card) is None
    assert collected_when(invoice(DisplayStatus.OPEN), "send_invoice", None) is None


def test_the_only_usable_method_of_a_renewing_subscription_is_needed() -> None:
    card, expired = method("c", default=True), method("x", state="expired", last4="0002")
    renews = (subscription(),)
    assert needed_for_renewals(detail(card, expired, subscriptions=renews), "c")
    assert not needed_for_renewals(detail(card, method("p", "paypal"), subscriptions=renews), "c")
    assert not needed_for_renewals(detail(card, expired, subscriptions=renews), "x")
    assert not needed_for_renewals(detail(card), "c")
    ending = (subscription(cancel_at_period_end=True),)
    assert not needed_for_renewals(detail(card, subscriptions=ending), "c")
