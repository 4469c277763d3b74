"""The payment page checked by axe-core in chromium, in the states a customer meets it: the
card page, after a decline, the PayPal page, a link that cannot be used, and the simulated
processor's page of the embedded default. No serious or critical violation. (With the test
stand-ins of Stripe.js, Braintree's client and Turnstile: the real widgets live in the
providers' own frames, which they make accessible.)"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import serious_violations
from tests.browser.pay import LivePay, pass_the_check
from tests.browser.test_payment_page_card import DECLINED_AT_ATTACH, enter_card
from tests.browser.test_payment_page_simulated import Simulated, simulated  # noqa: F401


def checked(page: Page) -> None:
    assert serious_violations(page) == [], page.url


def test_the_card_and_paypal_pages_and_their_refusals(page: Page, pay_live: LivePay) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id))
    checked(page)
    enter_card(page, DECLINED_AT_ATTACH)
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined. Nothing was saved.")
    checked(page)
    page.goto(pay_live.page_url(account_id, "paypal"))
    expect(page.get_by_test_id("paypal-button")).not_to_be_empty()
    checked(page)
    page.goto(pay_live.page_url(account_id).replace("sig=", "sig=0"))
    expect(page.get_by_role("heading", name="This payment link cannot be used")).to_be_visible()
    checked(page)


def test_the_simulated_processors_page(page: Page, simulated: Simulated) -> None:  # noqa: F811
    _, url = simulated.page_url()
    page.goto(url)
    expect(page.get_by_test_id("simulated")).to_contain_text("Simulated processor")
    checked(page)
