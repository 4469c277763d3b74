"""A forgotten account in the console (chromium): its page and history read as erased, its
invoices keep their amounts and PDF, and the history says who forgot it and why."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from adapters.forget import forget
from commands import billing
from commands.models import Subscribe
from tests.browser.conftest import LiveConsole
from tests.browser.test_console_history import event, open_history
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock

REASON = "erasure request, ticket 42"


def forgotten_account(live: LiveConsole, clock: FixedClock) -> UUID:
    deps = live.container.deps
    account_id = usd_account(deps)
    clock.advance(minutes=1)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    forget(live.container, account_id, support_ctx(REASON))
    live.caught_up()
    return account_id


def test_the_account_page_reads_erased_and_keeps_the_money(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account_id = forgotten_account(live, clock)
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{account_id}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("[erased]")
    expect(page.locator("body")).not_to_contain_text("Ada Lovelace")
    expect(page.locator("body")).not_to_contain_text("ada@example.com")
    [row] = page.get_by_test_id("invoices").locator("tbody tr").all()
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("20.00 USD")


def test_the_history_says_who_forgot_the_account_and_why(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account_id = forgotten_account(live, clock)
    open_history(page, live, account_id)
    forgot = event(page, "Account forgotten")
    expect(forgot.get_by_test_id("actor")).to_have_text("agent-7 support")
    expect(forgot.get_by_test_id("reason")).to_have_text(REASON)
    expect(forgot.get_by_test_id("facts")).to_contain_text("erased")
    expect(event(page, "Account opened").get_by_test_id("facts")).to_contain_text("[erased]")
    expect(page.locator("body")).not_to_contain_text("Ada Lovelace")
