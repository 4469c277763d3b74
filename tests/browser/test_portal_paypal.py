"""PayPal from the billing pages, in chromium, as a customer: with a card paying two
subscriptions automatically, they add PayPal through the payment page (Braintree's client
and PayPal checkout stand-ins against the local Braintree gateway, the Turnstile stand-in),
come back to their payment methods with the PayPal account listed as the default, and read
that every subscription is now invoiced and paid by PayPal (the send-invoice path); then
they remove PayPal, or make the card the default again, and read that every subscription is
charged automatically to the card again. The account aggregate agrees at each step, and
the renewals that follow show the path on the invoices page: sent, due in 7 days and
collected through Braintree then; back on the card, charged the day they renew."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from playwright.sync_api import Page, expect

from adapters.http.portal.links import make_portal_link
from adapters.http.portal.pages import day
from commands import dunning
from commands.base import load_account
from commands.models import RunBilling
from ledger.account import PAYPAL_DAYS_UNTIL_DUE
from ledger.methods import CollectionPath, MethodKind, MethodState, VaultPath
from tests.braintree_gateway import LocalBraintreeGateway
from tests.browser.conftest import caught_up, serious_violations
from tests.browser.pay import LivePay, pass_the_check
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer
from tests.integration.test_stripe_gateway import card, sdk_client

PLANS = ("pro-monthly-usd", "business-monthly-usd")
VISA = "Visa •••• 4242"
PAYPAL_EMAIL = "payer@example.com"  # the local gateway's PayPal payer
BY_CARD = f"Charged automatically to {VISA}"
BY_PAYPAL = f"Invoiced, paid by PayPal {PAYPAL_EMAIL}"


def card_paying_two_plans(pay: LivePay, localstripe: LocalStripeServer) -> UUID:
    """An account whose Visa pays two subscriptions (both charged at once, automatically)."""
    account_id = pay.open_account()
    vaulted = pay.service(
        f"/accounts/{account_id}/payment-methods/cards/vaulted",
        payment_method=card(sdk_client(localstripe)),
    )
    assert vaulted.status_code == 201, vaulted.text
    for plan_id in PLANS:
        bought = pay.service(f"/accounts/{account_id}/subscriptions", plan_id=plan_id)
        assert bought.json()["payment"]["status"] == "succeeded", bought.text
    return account_id


def open_billing(page: Page, pay: LivePay, account_id: UUID) -> None:
    caught_up(pay.container)
    page.goto(make_portal_link(pay.container, account_id, "test").url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing overview")


def every_plan_reads(page: Page, paid_how: str) -> None:
    expect(page.get_by_test_id("plan")).to_have_count(len(PLANS))
    expect(page.get_by_test_id("paid-how")).to_have_text([paid_how] * len(PLANS))


def go_to(page: Page, section: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=section).click()


def add_paypal(page: Page, pay: LivePay) -> None:
    """From the payment methods list, through the payment page, back to the list."""
    page.get_by_test_id("add-method").click()
    expect(page.get_by_test_id("add-rules")).to_contain_text(
        "with a PayPal account, each renewal is invoiced to you, due 7 days after it is issued"
    )
    page.get_by_test_id("add-paypal").click()
    expect(page.get_by_role("heading", name="Add a PayPal account")).to_be_visible()
    pass_the_check(page)
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("dialog", name="PayPal (test stand-in)").get_by_role(
        "button", name="Agree and continue"
    ).click()
    page.wait_for_url(f"{pay.base_url}/billing/payment-methods?*")


def path_of(pay: LivePay, account_id: UUID) -> CollectionPath:
    return load_account(pay.container.app, account_id).collection_path


def test_paypal_moves_every_subscription_to_invoices_and_removing_it_moves_them_back(
    page: Page,
    pay_live: LivePay,
    pay_localstripe: LocalStripeServer,
    pay_braintree: LocalBraintreeGateway,
) -> None:
    account_id = card_paying_two_plans(pay_live, pay_localstripe)
    open_billing(page, pay_live, account_id)
    every_plan_reads(page, BY_CARD)
    expect(page.get_by_test_id("collection")).to_contain_text(
        f"each renewal is charged to {VISA} on the day it renews"
    )

    go_to(page, "Payment methods")
    add_paypal(page, pay_live)
    expect(page.get_by_test_id("done")).to_have_text("Your payment method was added.")
    paypal_row = page.get_by_test_id("method").filter(has_text="PayPal")
    expect(paypal_row.get_by_test_id("method-name")).to_have_text(f"PayPal {PAYPAL_EMAIL}")
    expect(paypal_row.get_by_test_id("method-status")).to_have_text("Default")
    expect(page.get_by_test_id("collection")).to_have_text(
        f"Paid by PayPal: each renewal is invoiced to you, due 7 days after it is issued, and"
        f" collected from PayPal {PAYPAL_EMAIL} when it falls due. Your invoices are under"
        " Invoices."
    )
    account = load_account(pay_live.container.app, account_id)
    paypal = account.methods[account.default_method_id or ""]
    assert (paypal.kind, paypal.vault_path) == (MethodKind.PAYPAL, VaultPath.BILLING_AGREEMENT)
    assert paypal.payer_email == PAYPAL_EMAIL
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    go_to(page, "Overview")
    every_plan_reads(page, BY_PAYPAL)
    go_to(page, "Plan")
    expect(page.get_by_test_id("paid-how")).to_have_text([f"{BY_PAYPAL}."] * len(PLANS))

    go_to(page, "Payment methods")
    paypal_row.get_by_role("link", name=f"Remove PayPal {PAYPAL_EMAIL}").click()
    expect(page.get_by_test_id("paid-after")).to_have_text(
        f"After that, your subscriptions are charged automatically to {VISA} at each renewal."
    )
    page.get_by_role("button", name=f"Remove PayPal {PAYPAL_EMAIL}").click()
    expect(page.get_by_test_id("done")).to_have_text("The payment method was removed.")
    expect(page.get_by_test_id("method-name")).to_have_text([VISA])
    expect(page.get_by_test_id("method-status")).to_have_text(["Default"])
    expect(page.get_by_test_id("collection")).to_contain_text(f"charged to {VISA}")
    account = load_account(pay_live.container.app, account_id)
    assert account.methods[paypal.method_id].state is MethodState.REMOVED
    assert account.collection_path is CollectionPath.STRIPE_AUTOMATIC
    assert pay_braintree.calls.count("DELETE", r"/payment_methods/.*") == 1
    go_to(page, "Overview")
    every_plan_reads(page, BY_CARD)
    go_to(page, "Plan")
    expect(page.get_by_test_id("paid-how")).to_have_text([f"{BY_CARD}."] * len(PLANS))

    go_to(page, "Payment methods")  # the card is now the only one: it stays, and says why
    page.get_by_role("link", name=f"Remove {VISA}").click()
    expect(page.get_by_test_id("needed")).to_contain_text(
        f"{VISA} is your only payment method, and a subscription renews with it."
    )
    expect(page.get_by_role("button", name=f"Remove {VISA}")).to_have_count(0)
    assert serious_violations(page) == []


def test_making_the_card_the_default_again_moves_every_subscription_back(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer
) -> None:
    account_id = card_paying_two_plans(pay_live, pay_localstripe)
    open_billing(page, pay_live, account_id)
    go_to(page, "Payment methods")
    add_paypal(page, pay_live)
    assert path_of(pay_live, account_id) is CollectionPath.PAYPAL_SEND_INVOICE

    page.get_by_role("button", name=f"Make default {VISA}").click()
    expect(page.get_by_test_id("done")).to_have_text("Your default payment method was changed.")
    expect(page.get_by_test_id("collection")).to_contain_text(f"charged to {VISA}")
    assert path_of(pay_live, account_id) is CollectionPath.STRIPE_AUTOMATIC
    go_to(page, "Overview")
    every_plan_reads(page, BY_CARD)

    go_to(page, "Payment methods")  # and PayPal as the default again moves them again
    page.get_by_role("button", name=f"Make default PayPal {PAYPAL_EMAIL}").click()
    expect(page.get_by_test_id("collection")).to_contain_text("Paid by PayPal")
    assert path_of(pay_live, account_id) is CollectionPath.PAYPAL_SEND_INVOICE
    go_to(page, "Overview")
    every_plan_reads(page, BY_PAYPAL)


def run_billing(pay: LivePay, account_id: UUID) -> None:
    """The billing run (renewals and dunning due now), as the scheduler runs it."""
    dunning.run_billing(pay.container.deps, RunBilling(account_ids=[account_id]), system_ctx())
    caught_up(pay.container)


def standings(page: Page, pay: LivePay) -> list[str]:
    """What the invoices page says of each invoice, newest first."""
    page.goto(f"{pay.base_url}/billing/invoices")
    return page.get_by_test_id("invoice-standing").all_inner_texts()


def test_the_renewals_follow_the_path_invoiced_on_paypal_then_charged_on_the_card(
    page: Page,
    pay_live: LivePay,
    pay_localstripe: LocalStripeServer,
    pay_braintree: LocalBraintreeGateway,
    clock: FixedClock,
) -> None:
    account_id = card_paying_two_plans(pay_live, pay_localstripe)
    open_billing(page, pay_live, account_id)
    go_to(page, "Payment methods")
    add_paypal(page, pay_live)

    clock.advance(days=31)  # both subscriptions renew on PayPal: invoiced, nothing charged
    renewed_at = clock.now()
    run_billing(pay_live, account_id)
    due = day(renewed_at + timedelta(days=PAYPAL_DAYS_UNTIL_DUE))
    assert sorted(standings(page, pay_live)[:2]) == [
        f"Amount due 20.00 USD, by {due}",
        f"Amount due 200.00 USD, by {due}",
    ]
    assert pay_braintree.calls.count("POST", r"/transactions") == 0
    page.get_by_test_id("invoice-row").first.get_by_role("link").first.click()
    expect(page.get_by_test_id("invoice-collected")).to_have_text(
        f"It will be collected from PayPal {PAYPAL_EMAIL} on {due}, its due date: there is"
        " nothing for you to do."
    )
    clock.advance(days=PAYPAL_DAYS_UNTIL_DUE)  # due: collected from the PayPal billing agreement
    run_billing(pay_live, account_id)
    paid_on = f"Paid on {day(clock.now())}"
    assert standings(page, pay_live)[:2] == [paid_on, paid_on]
    assert pay_braintree.calls.count("POST", r"/transactions") == 2

    go_to(page, "Payment methods")
    page.get_by_role("button", name=f"Make default {VISA}").click()
    expect(page.get_by_test_id("done")).to_have_text("Your default payment method was changed.")
    clock.advance(days=31)  # renewed on the card: charged the day they renew
    run_billing(pay_live, account_id)
    paid_on = f"Paid on {day(clock.now())}"
    assert standings(page, pay_live)[:2] == [paid_on, paid_on]
    assert pay_braintree.calls.count("POST", r"/transactions") == 2
