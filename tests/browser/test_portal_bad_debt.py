"""Paying bad debt in chromium: the page shows the unpaid invoices, their total and the
card, and charges only once the customer ticks the confirmation; then the invoice reads as
recovered and plan changes are open again. A decline says what is still unpaid and what to
do; a form sent twice charges once."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveConsole
from tests.browser.portal import open_portal
from tests.browser.test_portal_invoices import into_bad_debt
from tests.fakes.billing import CARD, usd_account
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

DAY = r"\d{1,2} [A-Z][a-z]+ \d{4}"


def open_bad_debt(page: Page, live: LiveConsole, gateway: FakeGateway, clock: FixedClock) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    open_portal(page, live, account_id)
    page.get_by_role("link", name="Plan").click()
    page.get_by_test_id("pay-bad-debt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay unpaid invoices")


def test_pay_bad_debt_and_see_the_invoice_recovered(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    open_bad_debt(page, live, gateway, clock)
    expect(page.get_by_test_id("bad-debt-total")).to_have_text("20.00 USD")
    expect(page.get_by_test_id("bad-debt-consent")).to_have_text(
        "I confirm paying 20.00 USD with Visa ending in 4242."
    )
    charges = len(gateway.charges)
    page.get_by_role("button", name="Pay 20.00 USD").click()  # not confirmed: refused by the page
    assert len(gateway.charges) == charges
    page.get_by_label(re.compile("I confirm paying")).check()
    page.get_by_role("button", name="Pay 20.00 USD").click()
    outcome = page.get_by_test_id("bad-debt-outcome")
    expect(outcome).to_contain_text(": paid.")
    expect(outcome).to_contain_text("Everything is paid: you can change plans and buy again.")
    assert len(gateway.charges) == charges + 1
    invoices = page.get_by_role("link", name="Your invoices")  # waits for the payment's version
    expect(invoices).to_have_attribute("href", re.compile(r"/billing/invoices\?v=\d+$"))
    invoices.click()
    expect(page.get_by_test_id("invoice-standing").first).to_have_text(
        re.compile(f"^Paid on {DAY} \\(was uncollectible since {DAY}\\)$")
    )


def test_a_declined_payment_says_what_is_still_unpaid_and_what_to_do(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    open_bad_debt(page, live, gateway, clock)
    gateway.decline_next(CARD, "do_not_honor")
    page.get_by_label(re.compile("I confirm paying")).check()
    page.get_by_role("button", name="Pay 20.00 USD").click()
    outcome = page.get_by_test_id("bad-debt-outcome")
    expect(outcome).to_contain_text("the payment was declined; nothing was charged for it.")
    expect(outcome).to_contain_text("Still unpaid:")
    expect(outcome).to_contain_text("try another payment method, or contact your bank")
    expect(page.locator("main")).not_to_contain_text("do_not_honor")


def test_a_confirmation_sent_twice_charges_once_and_an_unconfirmed_one_never(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    open_bad_debt(page, live, gateway, clock)
    form = page.get_by_test_id("pay-bad-debt-form")
    fields: dict[str, str | float | bool] = {
        name: form.locator(f"input[name={name}]").first.get_attribute("value") or ""
        for name in ("csrf_token", "key", "method_id", "invoice_ids")
    }
    charges = len(gateway.charges)
    url = live.url("/billing/pay-bad-debt")
    unconfirmed = page.request.post(url, form=fields)
    assert unconfirmed.status == 400
    assert "Tick the box to confirm" in unconfirmed.text()
    keyless = page.request.post(url, form={**fields, "key": "", "confirmed": "yes"})
    assert keyless.status == 400
    assert len(gateway.charges) == charges  # neither was charged
    fields["confirmed"] = "yes"
    first = page.request.post(url, form=fields)
    again = page.request.post(url, form=fields)
    assert (first.status, again.status) == (200, 200)  # the second answers the first's outcome
    assert len(gateway.charges) == charges + 1
