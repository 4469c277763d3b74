"""Retrying an invoice's payment from the console, in chromium: support chooses an unpaid
invoice and a method; a decline is said in words, and a retry that succeeds pays it."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def unpaid(live: LiveConsole, clock: FixedClock, gateway: FakeGateway) -> UUID:
    """A subscription whose first charge was declined: its invoice is unpaid."""
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "card_declined")
    subscribe(deps, account_id, on_session=False)
    clock.advance(hours=2)
    live.caught_up()
    return account_id


def retry(page: Page, live: LiveConsole, account_id: UUID, reason: str) -> None:
    page.goto(live.url(f"/console/accounts/{account_id}"))
    page.get_by_test_id("act-retry-payment").get_by_role("link").click()
    page.get_by_test_id("payable-invoices").get_by_role("radio").first.check()
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Review").click()
    will = page.get_by_test_id("what-will-happen")
    expect(will).to_contain_text(
        "(20.00 USD), open, to the default payment method (visa ending 4242, expires 12/2030)"
    )
    page.get_by_role("button", name="Confirm").click()


def test_a_declined_retry_is_said_in_words_and_a_second_retry_pays(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = unpaid(live, clock, gateway)
    page.goto(live.link())
    gateway.decline_next(CARD, "insufficient_funds")
    retry(page, live, account_id, "Ticket 31: the customer topped up, please try again")
    expect(page.get_by_role("heading", level=1)).to_have_text("Done: Retry an invoice's payment")
    expect(page.get_by_test_id("payment-outcome")).to_contain_text(
        "the charge was declined (insufficient funds); the invoice is still unpaid."
    )
    events = page.get_by_test_id("recorded-events")
    expect(events).to_contain_text("PaymentFailed")
    expect(events.locator("tbody tr").first).to_contain_text(SUPPORT)

    live.caught_up()
    retry(page, live, account_id, "Ticket 31: second try")
    expect(page.get_by_test_id("payment-outcome")).to_contain_text(
        "the charge succeeded; the invoice is paid."
    )
    expect(page.get_by_test_id("recorded-events")).to_contain_text("Ticket 31: second try")
    live.caught_up()
    page.goto(live.url(f"/console/accounts/{account_id}"))
    [row] = page.get_by_test_id("invoices").locator("tbody tr").all()
    expect(row).to_contain_text("Paid")


def test_an_invoice_id_the_route_would_refuse_is_said_in_words(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    """A tampered form: the path id is checked as the JSON route checks it."""
    account_id = unpaid(live, clock, gateway)
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{account_id}/actions/retry-payment"))
    page.get_by_test_id("payable-invoices").get_by_role("radio").first.evaluate(
        "radio => { radio.value = 'no such/invoice'; radio.checked = true; }"
    )
    page.get_by_label("Reason").fill("Ticket 32")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("invoice id: String should match")
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)


def test_a_processor_that_does_not_answer_is_said_with_what_was_recorded(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = unpaid(live, clock, gateway)
    page.goto(live.link())
    gateway.go_down_next(CARD)
    retry(page, live, account_id, "Ticket 33")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Not finished: Retry an invoice's payment"
    )
    expect(page.get_by_test_id("refusal")).to_contain_text("did not answer")
    expect(page.get_by_test_id("recorded-events")).to_contain_text("PaymentAttemptStarted")
