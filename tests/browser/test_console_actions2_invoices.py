"""Voiding an open invoice, writing one off (marking it uncollectible) and writing bad debt
off, in chromium, as a support agent: the form offers the invoices each applies to, the
confirmation names the invoice and its amount, the result lists the events with the agent
and the reason, and the account page then shows the invoice void, the account in bad
debt, or the bad debt written off."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from commands import bad_debt
from commands.base import load_account
from commands.models import MarkUncollectible
from tests.browser.actions2 import confirm, open_account, reload_account, review, with_open_invoice
from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.builders import support_ctx
from tests.fakes.gateway import FakeGateway

REASON = "Ticket 5150: the customer cancelled before the first charge"


def test_an_open_invoice_is_voided_with_a_reason(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    account_id = with_open_invoice(live, gateway)
    open_account(page, live, account_id)
    number = page.get_by_test_id("invoices").locator("tbody tr").first.locator("td").first
    invoice_number = number.inner_text().split("\n")[0]
    page.get_by_role("link", name="Void an invoice…").click()
    expect(page.get_by_label("Invoice")).to_contain_text(f"{invoice_number}: 20.00 USD")
    review(page, REASON)

    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text(f"Invoice {invoice_number} for 20.00 USD (20.00 USD due")
    expect(said).to_contain_text("nothing is owed on it any more")
    events = confirm(page, "Void an invoice")

    [event] = events.locator("tbody tr").all()
    expect(event).to_contain_text("InvoiceVoided")
    expect(event).to_contain_text(SUPPORT)
    expect(event).to_contain_text(REASON)
    reload_account(page, live, account_id)
    row = page.get_by_test_id("invoices").locator("tbody tr").first
    expect(row).to_contain_text("Void")


def test_an_open_invoice_is_written_off_and_the_account_shows_bad_debt(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    account_id = with_open_invoice(live, gateway)
    open_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).not_to_have_text("bad debt")
    page.get_by_role("link", name="Write an invoice off…").click()
    review(page, REASON)

    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text("is marked uncollectible")
    expect(said).to_contain_text("in bad debt (20.00 USD more of it)")
    events = confirm(page, "Write an invoice off (mark it uncollectible)")

    expect(events.locator("tbody tr")).to_have_count(1)
    expect(events).to_contain_text("InvoiceMarkedUncollectible")
    expect(events).to_contain_text(REASON)
    reload_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).to_have_text("bad debt")
    expect(page.get_by_test_id("invoices").locator("tbody tr").first).to_contain_text(
        "Uncollectible"
    )


def test_a_voided_invoice_is_no_longer_offered(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    account_id = with_open_invoice(live, gateway)
    open_account(page, live, account_id)
    page.get_by_role("link", name="Void an invoice…").click()
    review(page, REASON)
    confirm(page, "Void an invoice")
    page.get_by_role("link", name="Back to the account").click()
    page.get_by_role("link", name="Write an invoice off…").click()
    expect(page.get_by_test_id("no-choice")).to_have_text(
        "This account has no open or past-due invoice."
    )


def test_bad_debt_is_written_off_as_an_expense(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    account_id = with_open_invoice(live, gateway)
    open_account(page, live, account_id)
    expect(page.get_by_role("link", name="Write bad debt off…")).to_have_count(0)
    [invoice_id] = load_account(live.container.app, account_id).invoices
    mark = MarkUncollectible(account_id=account_id, invoice_id=invoice_id)
    bad_debt.mark_uncollectible(live.container.deps, mark, support_ctx())
    reload_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).to_have_text("bad debt")
    page.get_by_role("link", name="Write bad debt off…").click()
    expect(page.get_by_label("Invoice")).to_contain_text("(uncollectible)")
    review(page, REASON)
    expect(page.get_by_test_id("what-will-happen")).to_contain_text(
        "its 20.00 USD booked as a bad-debt expense"
    )
    events = confirm(page, "Write bad debt off")
    expect(events).to_contain_text("InvoiceVoided")
    reload_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).not_to_have_text("bad debt")
    expect(page.get_by_test_id("invoices").locator("tbody tr").first).to_contain_text("Written off")
