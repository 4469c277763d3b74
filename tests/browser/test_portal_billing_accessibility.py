"""The invoices, plan, bad-debt and 3-D Secure pages, and how subscriptions are paid
(overview, payment methods, a removal's confirmation), each in the states a customer meets
them, checked by axe-core in chromium: no serious or critical accessibility violation."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from commands.base import load_account
from tests.browser.conftest import LiveConsole, serious_violations
from tests.browser.pay import LivePay
from tests.browser.portal import open_portal
from tests.browser.test_portal_authenticate import open_billing, waiting_renewal
from tests.browser.test_portal_invoices import into_bad_debt
from tests.fakes.billing import add_paypal, subscribe, usd_account
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.harness import LocalStripeServer
from tests.integration.test_stripe_gateway import sdk_client


def checked(page: Page) -> None:
    assert serious_violations(page) == [], page.url


def test_every_invoice_plan_and_bad_debt_page_has_no_serious_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    into_bad_debt(live, account_id, clock, gateway)
    open_portal(page, live, account_id)
    for path in ("/billing/invoices", "/billing/invoices?status=nonsense", "/billing/plan"):
        page.goto(live.url(path))
        checked(page)
    page.get_by_test_id("pay-bad-debt").click()  # the bad-debt banner's way out
    checked(page)
    page.get_by_label("I confirm paying").check()
    page.get_by_role("button", name="Pay 20.00 USD").click()
    checked(page)  # the outcome
    live.caught_up()
    page.goto(live.url("/billing/invoices"))
    page.get_by_test_id("invoice-row").first.get_by_role("link").first.click()
    checked(page)  # a recovered invoice
    page.goto(live.url("/billing/plan"))
    page.get_by_role("button", name="See what it costs").click()
    checked(page)  # the preview
    page.get_by_role("button", name="Confirm the change").click()
    checked(page)  # the result
    page.goto(live.url("/billing/plan"))
    page.get_by_test_id("cancel-link").click()
    checked(page)  # the cancellation's confirmation
    page.goto(live.url("/billing/pay-bad-debt"))
    checked(page)  # nothing to pay


def test_the_paused_plan_change_page_has_no_serious_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    [sub_id] = load_account(live.container.deps.app, account_id).subscriptions
    open_portal(page, live, account_id)
    page.goto(live.url(f"/billing/plan/{sub_id}/preview?plan_id=business-monthly-usd"))
    checked(page)


def test_how_subscriptions_are_paid_has_no_serious_violation(page: Page, live: LiveConsole) -> None:
    """The overview's plan rows, the plan page, the payment methods page and its "add"
    choice saying how the subscriptions are paid (charged to a card, then invoiced and paid
    by PayPal), the confirmation of a removal that says what the subscriptions move to, and
    an invoice sent on PayPal saying when it is collected."""
    deps = live.container.deps
    account_id = usd_account(deps)
    subscribe(deps, account_id)
    open_portal(page, live, account_id)
    expect(page.get_by_test_id("paid-how")).to_have_text(
        ["Charged automatically to Visa •••• 4242"]
    )
    checked(page)
    add_paypal(deps, account_id)
    live.caught_up()
    page.reload()
    expect(page.get_by_test_id("paid-how")).to_have_text(
        ["Invoiced, paid by PayPal payer@example.com"]
    )
    checked(page)
    page.goto(live.url("/billing/plan"))
    expect(page.get_by_test_id("paid-how")).to_be_visible()
    checked(page)
    page.goto(live.url("/billing/payment-methods/new"))
    expect(page.get_by_test_id("add-rules")).to_be_visible()
    checked(page)
    page.goto(live.url("/billing/payment-methods"))
    expect(page.get_by_test_id("rules")).to_be_visible()
    checked(page)
    page.get_by_role("link", name="Remove PayPal payer@example.com").click()
    expect(page.get_by_test_id("paid-after")).to_be_visible()
    checked(page)
    subscribe(deps, account_id, on_session=False)  # invoiced on PayPal: open, due in 7 days
    live.caught_up()
    page.goto(live.url("/billing/invoices"))
    sent = page.get_by_test_id("invoice-row").filter(has_text="Amount due")  # not the paid one
    sent.get_by_role("link").first.click()
    expect(page.get_by_test_id("invoice-collected")).to_be_visible()
    checked(page)


def test_the_3d_secure_pages_have_no_serious_violation(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    """The payment waiting for the bank, with the bank's dialog open, each outcome (paid,
    not confirmed) and a payment that no longer waits."""
    sdk = sdk_client(pay_localstripe)
    for choice in ("Complete authentication", "Fail authentication"):
        account_id = waiting_renewal(pay_live, sdk, clock)
        open_billing(page, pay_live, account_id)
        page.get_by_test_id("authenticate").get_by_role("link", name="Authenticate").click()
        checked(page)
        page.get_by_role("button", name="Confirm with your bank").click()
        checked(page)  # the (stand-in) bank's dialog over the page
        page.get_by_role("dialog").get_by_role("button", name=choice).click()
        page.get_by_test_id("authentication-outcome").wait_for()
        checked(page)
    page.go_back()
    page.reload()  # the payment no longer waits: not found
    checked(page)
