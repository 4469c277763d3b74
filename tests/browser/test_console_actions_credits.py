"""Granting and revoking credits from the console, in chromium: an amount in the account's
currency with an optional expiry, then revoking what is left of it; a refused expiry is
said in words."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.billing import usd_account


def start(page: Page, live: LiveConsole, account_id: UUID, link: str) -> None:
    page.goto(live.url(f"/console/accounts/{account_id}"))
    page.get_by_test_id("act-credits").get_by_role("link", name=link).click()


def grant(page: Page, live: LiveConsole, account_id: UUID, amount: str, expires: str) -> None:
    start(page, live, account_id, "Grant a credit")
    page.get_by_label("Amount in USD").fill(amount)
    page.get_by_label("Expires on").fill(expires)
    page.get_by_label("Reason").fill("Ticket 12: goodwill for the outage")
    page.get_by_role("button", name="Review").click()


def test_a_credit_is_granted_then_revoked(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    page.goto(live.link())
    grant(page, live, account_id, "12.50", "2026-06-30")
    will = page.get_by_test_id("what-will-happen")
    expect(will).to_contain_text("Grant Ada Lovelace a credit of 12.50 USD")
    expect(will).to_contain_text("It expires at 2026-06-30 00:00 UTC")
    expect(will).to_contain_text("goes from 0.00 USD to 12.50 USD")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("credit-outcome")).to_contain_text("The credit was granted")
    [credit] = page.get_by_test_id("credits").locator("tbody tr").all()
    expect(credit).to_contain_text("12.50 USD")
    expect(credit).to_contain_text("2026-06-30 00:00 UTC")
    expect(credit).to_contain_text("active")
    [event] = page.get_by_test_id("recorded-events").locator("tbody tr").all()
    expect(event).to_contain_text("CreditGranted")
    expect(event).to_contain_text(SUPPORT)
    expect(event).to_contain_text("Ticket 12: goodwill for the outage")

    start(page, live, account_id, "Revoke a credit")
    page.get_by_role("radio", name="Revoke 12.50 USD").check()
    page.get_by_label("Reason").fill("Ticket 12: granted twice by mistake")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("what-will-happen")).to_contain_text(
        "what is left of it, 12.50 USD, can no longer be used."
    )
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("credit-outcome")).to_contain_text("The credit was revoked")
    expect(page.get_by_test_id("credits").locator("tbody tr")).to_contain_text("revoked")
    expect(page.get_by_test_id("recorded-events")).to_contain_text("Ticket 12: granted twice")


def test_an_amount_the_currency_cannot_hold_is_refused_before_the_confirmation(
    page: Page, live: LiveConsole
) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    page.goto(live.link())
    grant(page, live, account_id, "12.505", "")
    expect(page.get_by_test_id("form-errors")).to_contain_text(
        "12.505 USD is not an amount USD can hold."
    )
    expect(page.get_by_label("Amount in USD")).to_have_value("12.505")


def test_an_expiry_in_the_past_is_refused_in_words(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    page.goto(live.link())
    grant(page, live, account_id, "5", "2020-01-01")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not done: Grant a credit")
    expect(page.get_by_test_id("refusal")).to_contain_text("a credit cannot expire in the past")
    expect(page.get_by_test_id("refusal")).to_contain_text("Nothing was recorded.")
