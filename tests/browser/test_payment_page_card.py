"""The payment page, card path, in chromium: Stripe.js (the stand-in) confirms the session's
SetupIntent at localstripe, Turnstile (the stand-in) gives a token the local siteverify
accepts, and the ledger vaults the card as the default before sending the customer back."""

from __future__ import annotations

import re
from uuid import UUID

from playwright.sync_api import Page, expect

from commands.base import load_account
from ledger.methods import MethodKind
from tests.browser.pay import LivePay, pass_the_check
from tests.harness import LocalStripeServer
from tests.integration.test_stripe_gateway import card, sdk_client

VISA = "4242424242424242"
DECLINED_AT_ATTACH = "4000000000000002"


def enter_card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVC").fill("123")


def methods(pay: LivePay, account_id: UUID) -> list[tuple[MethodKind, str | None, bool]]:
    account = load_account(pay.container.app, account_id)
    return [
        (m.kind, m.last4, m.method_id == account.default_method_id)
        for m in account.methods.values()
    ]


def test_a_card_is_added_as_the_default_and_the_customer_lands_on_the_return_url(
    page: Page, pay_live: LivePay
) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    expect(page.get_by_role("heading", name="Add a card")).to_be_visible()
    enter_card(page, VISA)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url(pay_live.standins.return_url)
    expect(page.get_by_role("heading", name="Back at the shop")).to_be_visible()
    assert methods(pay_live, account_id) == [(MethodKind.CARD, "4242", True)]


def test_a_card_declined_at_attach_shows_the_decline_and_vaults_nothing(
    page: Page, pay_live: LivePay
) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    enter_card(page, DECLINED_AT_ATTACH)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined. Nothing was saved.")
    assert methods(pay_live, account_id) == []


THREE_D_SECURE = "4000002500003155"


def test_a_3d_secure_card_is_added_after_the_customer_authenticates(
    page: Page, pay_live: LivePay
) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    enter_card(page, THREE_D_SECURE)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    dialog = page.get_by_role("dialog", name="3-D Secure (test stand-in)")
    expect(dialog).to_be_visible()
    assert methods(pay_live, account_id) == []  # nothing before the customer authenticates
    dialog.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(pay_live.standins.return_url)
    assert methods(pay_live, account_id) == [(MethodKind.CARD, "3155", True)]


def test_a_failed_3d_secure_authentication_vaults_nothing(page: Page, pay_live: LivePay) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    enter_card(page, THREE_D_SECURE)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("alert")).to_contain_text("unable to authenticate")
    assert methods(pay_live, account_id) == []


def test_a_failed_turnstile_check_vaults_nothing_and_a_new_check_succeeds(
    page: Page, pay_live: LivePay
) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    enter_card(page, VISA)
    pay_live.standins.turnstile_fails = True
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_have_text(
        "We could not confirm that you are a person. Please complete the check again."
    )
    assert methods(pay_live, account_id) == []
    assert pay_live.turnstile.checks  # the ledger asked siteverify, which refused
    pay_live.standins.turnstile_fails = False
    pass_the_check(page)  # the widget was reset: a new check, the same confirmed card
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url(pay_live.standins.return_url)
    assert methods(pay_live, account_id) == [(MethodKind.CARD, "4242", True)]


def test_saving_without_the_check_is_refused_in_the_page(page: Page, pay_live: LivePay) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    enter_card(page, VISA)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Please complete the check that you are a person first."
    )
    assert methods(pay_live, account_id) == []


def with_an_open_invoice(pay_live: LivePay, localstripe: LocalStripeServer) -> UUID:
    """An account whose card attaches, then declines every charge: its subscription's
    first invoice stays open (20.00 USD)."""
    account_id = pay_live.open_account()
    vaulted = pay_live.service(
        f"/accounts/{account_id}/payment-methods/cards/vaulted",
        payment_method=card(sdk_client(localstripe), "4000000000000341"),
    )
    assert vaulted.status_code == 201, vaulted.text
    subscribed = pay_live.service(
        f"/accounts/{account_id}/subscriptions", plan_id="pro-monthly-usd", on_session=False
    )
    assert subscribed.json()["payment"]["status"] == "failed"  # the invoice stays open
    return account_id


def test_a_payment_that_needs_3d_secure_is_confirmed_in_the_page(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer
) -> None:
    """A session that pays the open invoices: the new 3-D Secure card is set up (the bank
    asks once), then its on-session payment of the open invoice asks again, in the page."""
    account_id = with_an_open_invoice(pay_live, pay_localstripe)
    sdk = sdk_client(pay_localstripe)
    page.goto(pay_live.page_url(account_id, pay_open_invoices=True))
    enter_card(page, THREE_D_SECURE)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    page.get_by_role("button", name="Complete authentication").click()  # the card's setup
    expect(page.get_by_role("status")).to_have_text("Your bank asks you to confirm the payment…")
    page.get_by_role("button", name="Complete authentication").click()  # the payment
    page.wait_for_url(pay_live.standins.return_url)
    account = load_account(pay_live.container.app, account_id)
    waiting = [a for a in account.attempts.values() if a.status.value == "requires_action"]
    (attempt,) = waiting  # the ledger hears of the outcome from Stripe (webhook, janitor)
    intent = sdk.v1.payment_intents.retrieve(str(attempt.processor_payment_id))
    assert intent.status == "succeeded"


def test_an_open_invoice_the_new_card_cannot_pay_is_said_before_going_back(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer
) -> None:
    """A session that pays the open invoices with a card that is saved but declines every
    charge: the page says which invoice is still unpaid and waits, instead of going back as
    if all were settled."""
    account_id = with_an_open_invoice(pay_live, pay_localstripe)
    page.goto(pay_live.page_url(account_id, pay_open_invoices=True))
    enter_card(page, "4000000000000341")
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(
            r"^Your payment method was saved\. Invoice [0-9A-F]+-0001 \(20\.00 USD\) is still"
            r" unpaid: the payment was declined\. You can pay from your billing pages later,"
            r" with this payment method or another\. Go back$"
        )
    )
    assert page.url.startswith(pay_live.base_url)  # not sent back
    page.get_by_role("link", name="Go back").click()
    page.wait_for_url(pay_live.standins.return_url)
    assert len(load_account(pay_live.container.app, account_id).methods) == 2
