"""Adding a payment method from the billing pages: the customer chooses a card, the ledger
starts a payment session for the portal's account (the customer route `start`) and sends the
browser to the payment page, which vaults the card and comes back to the methods list."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from adapters.http.portal.links import make_portal_link
from ledger.methods import MethodKind
from tests.browser.pay import LivePay, pass_the_check
from tests.browser.test_payment_page_card import VISA, enter_card, methods


def test_a_card_added_from_the_billing_pages_is_listed_as_the_default(
    page: Page, pay_live: LivePay
) -> None:
    account_id = pay_live.open_account()
    portal = make_portal_link(pay_live.container, account_id, "test")
    page.goto(portal.url)
    page.goto(f"{pay_live.base_url}/billing/payment-methods")
    page.get_by_test_id("add-method").click()
    expect(page.get_by_role("heading", name="Add a payment method")).to_be_visible()
    page.get_by_test_id("add-card").click()

    expect(page.get_by_role("heading", name="Add a card")).to_be_visible()
    enter_card(page, VISA)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()

    page.wait_for_url(f"{pay_live.base_url}/billing/payment-methods?*")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payment methods")
    # the return carries the account's version: the list waits for its read model
    expect(page.get_by_test_id("done")).to_have_text("Your payment method was added.")
    expect(page.get_by_test_id("method-name")).to_have_text(["Visa •••• 4242"])
    assert methods(pay_live, account_id) == [(MethodKind.CARD, "4242", True)]


def test_the_choice_page_needs_the_sessions_csrf_token(page: Page, pay_live: LivePay) -> None:
    account_id = pay_live.open_account()
    page.goto(make_portal_link(pay_live.container, account_id, "test").url)
    answer = page.request.post(
        f"{pay_live.base_url}/billing/payment-methods/new", form={"method": "card"}
    )
    assert answer.status == 403
    assert methods(pay_live, account_id) == []
