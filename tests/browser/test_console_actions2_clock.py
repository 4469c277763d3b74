"""Advancing an account's test clock in chromium, as a support agent: offered only for an
account on a test clock; the billing run runs at each day's time as part of the action, so
the result lists the renewal's events and the account page then shows the renewed invoice
(or, with a card that declines, dunning's retries)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from adapters.clock_walk import registry
from commands import accounts
from tests.browser.actions2 import confirm, on_a_clock, open_account, paying, reload_account
from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.billing import CARD
from tests.fakes.builders import customer_ctx, open_cmd
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

REASON = "Ticket 8080: show the customer what their renewal will look like"


def advance(page: Page, days: str) -> None:
    form = page.get_by_test_id("act-advance-clock")
    form.get_by_label("Days").fill(days)
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Advance…").click()


def test_advancing_the_clock_renews_and_the_page_shows_it(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account_id = on_a_clock(live, clock)
    open_account(page, live, account_id)
    expect(page.get_by_test_id("invoices").locator("tbody tr")).to_have_count(1)
    advance(page, "31")
    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text("Test clock trial moves from")
    expect(said).to_contain_text("forward by 31 day(s)")
    events = confirm(page, "Advance the test clock")

    expect(page.get_by_test_id("clock-advanced")).to_contain_text("in 31 steps")
    expect(page.get_by_test_id("outcome")).to_contain_text("1 renewal, 1 payment attempt")
    expect(page.get_by_test_id("outcome")).to_contain_text("as part of this action")
    expect(events).to_contain_text("SubscriptionChanged")
    expect(events).to_contain_text("PaymentSucceeded")
    for row in events.locator("tbody tr").all():
        expect(row).to_contain_text(SUPPORT)
        expect(row).to_contain_text(REASON)
    reload_account(page, live, account_id)
    rows = page.get_by_test_id("invoices").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Paid")


def test_dunning_happens_on_the_clocks_days(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = on_a_clock(live, clock)
    gateway.always_decline(CARD, "insufficient_funds")
    open_account(page, live, account_id)
    advance(page, "32")
    confirm(page, "Advance the test clock")
    expect(page.get_by_test_id("outcome")).to_contain_text("1 renewal, 2 payment attempts")
    reload_account(page, live, account_id)
    expect(page.get_by_test_id("invoices").locator("tbody tr").first).to_contain_text("Open")
    expect(page.get_by_test_id("health-reasons")).to_contain_text("payment attempts failed")


def test_the_form_is_offered_only_on_a_test_clock(page: Page, live: LiveConsole) -> None:
    plain = paying(live)
    open_account(page, live, plain)
    expect(page.get_by_test_id("actions")).to_be_visible()
    expect(page.get_by_test_id("act-advance-clock")).to_have_count(0)
    fresh = accounts.open_account(live.container.deps, open_cmd(), customer_ctx()).account_id
    live.caught_up()
    page.goto(live.url(f"/console/accounts/{fresh}/actions/advance-clock"))
    expect(page.get_by_test_id("no-choice")).to_have_text("This account is not on a test clock.")


def test_a_confirmation_sent_twice_moves_the_clock_once(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account_id = on_a_clock(live, clock)
    open_account(page, live, account_id)
    advance(page, "2")  # nothing is due on the way: no event tells the two sendings apart
    confirmation = page.locator("form.confirm")
    action = confirmation.get_attribute("action") or ""
    fields: dict[str, str | float | bool] = {
        field.get_attribute("name") or "": field.get_attribute("value") or ""
        for field in confirmation.locator("input[type=hidden]").all()
    }
    confirm(page, "Advance the test clock")
    expect(page.get_by_test_id("clock-advanced")).to_contain_text("in 2 steps")
    again = page.request.post(action, form=fields)
    assert again.status == 200
    page.set_content(again.text())
    expect(page.get_by_test_id("clock-replayed")).to_contain_text("not moved again")
    [made] = registry(live.container).all()
    assert made.frozen_at == clock.now() + timedelta(days=2)
    assert len(registry(live.container).advances(made.clock_id)) == 1
