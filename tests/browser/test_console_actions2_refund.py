"""Refunding a payment in chromium, as a support agent: part of it, then the rest; the
confirmation compares the amount with what is left to refund; more than is left is refused
in words, and nothing is refunded."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.actions2 import confirm, open_account, paying, review
from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.gateway import FakeGateway

REASON = "Ticket 6021: charged for days the service was down"


def refund(page: Page, amount: str) -> None:
    page.get_by_role("link", name="Refund a payment…").click()
    page.get_by_label("Amount to refund, in USD").fill(amount)
    review(page, REASON)


def test_part_of_a_payment_then_the_rest_and_never_more_than_is_left(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    account_id = paying(live)
    open_account(page, live, account_id)
    refund(page, "5.00")
    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text("Refund 5.00 USD of the payment of 20.00 USD for invoice")
    expect(said).to_contain_text("(20.00 USD left to refund)")
    expect(said).to_contain_text("Afterwards 15.00 USD of this payment is left to refund.")
    events = confirm(page, "Refund a payment")
    expect(events).to_contain_text("RefundIssued")
    expect(events).to_contain_text(SUPPORT)
    expect(events).to_contain_text(REASON)
    left = page.get_by_test_id("refundable").locator("tbody tr").first.locator("td")
    expect(left).to_contain_text(["20.00 USD", "5.00 USD", "15.00 USD"])
    assert [r.amount.amount for r in gateway.refunds] == [500]

    page.get_by_role("link", name="Back to the account").click()
    refund(page, "20")
    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text("That is more than the 15.00 USD left to refund")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not done: Refund a payment")
    expect(page.get_by_test_id("refusal")).to_contain_text(
        "A refund of 20.00 USD is more than the 15.00 USD left to refund on this payment;"
        " nothing was refunded."
    )
    assert [r.amount.amount for r in gateway.refunds] == [500]

    page.get_by_role("link", name="Back to the account").click()
    refund(page, "15.00")
    confirm(page, "Refund a payment")
    expect(left).to_contain_text(["20.00 USD", "20.00 USD", "0.00 USD"])
    assert [r.amount.amount for r in gateway.refunds] == [500, 1500]


def test_an_amount_the_currency_cannot_write_is_refused_before_the_confirmation(
    page: Page, live: LiveConsole
) -> None:
    account_id = paying(live)
    open_account(page, live, account_id)
    refund(page, "1.005")
    expect(page.get_by_test_id("form-errors")).to_contain_text(
        "Amount: more than zero, with at most 2 decimal places in USD."
    )
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)
