"""Reconcile now, a repair, and resolving payments in flight, in chromium, as a support
agent on a stuck account (a charge the processor never received, three hours ago): the
check lists its finding; the finding's repair, confirmed with a reason, records what the
processor says and the re-check is in step; or resolving in flight does the same and the
account page stops saying "stuck"."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.actions2 import confirm, open_account, reload_account, stuck
from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

REASON = "Ticket 7007: the customer says the first payment hangs"


def test_reconcile_now_then_repair_the_finding_and_see_the_recheck(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck(live, clock, gateway)
    open_account(page, live, account_id)
    expect(page.get_by_test_id("reconciliation")).to_have_text("Never reconciled.")
    form = page.get_by_test_id("act-reconcile")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Reconcile…").click()
    expect(page.get_by_test_id("what-will-happen")).to_contain_text("no event is recorded")
    events = confirm(page, "Reconcile now")
    expect(page.get_by_test_id("check-summary")).to_contain_text("1 finding")
    expect(page.get_by_test_id("check-findings")).to_contain_text("attempt unresolved at stripe")
    expect(events).to_have_count(0)
    expect(page.get_by_text("No event was recorded.")).to_be_visible()

    page.get_by_role("link", name="Back to the account").click()
    repair = page.get_by_test_id("act-repair")
    expect(repair.get_by_role("heading")).to_have_text("Repair: resolve-attempt")
    repair.get_by_label("Reason").fill(REASON)
    repair.get_by_role("button", name="Repair…").click()
    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text("Finding: attempt unresolved at stripe for")
    expect(said).to_contain_text("asks the processor what became of the payment in flight")
    events = confirm(page, "Repair a reconciliation finding")

    expect(page.get_by_test_id("repair-detail")).to_contain_text(
        "recorded as failed (not_received_by_processor)"
    )
    expect(page.get_by_test_id("check-summary")).to_contain_text("in step with the processors")
    expect(events).to_contain_text("PaymentFailed")
    expect(events).to_contain_text("ReconciliationRepaired")
    for row in events.locator("tbody tr").all():
        expect(row).to_contain_text(SUPPORT)
        expect(row).to_contain_text(REASON)
    reload_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).not_to_have_text("stuck")


def test_resolving_in_flight_unsticks_the_account(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck(live, clock, gateway)
    open_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).to_have_text("stuck")
    page.goto(live.url(f"/console/accounts/{account_id}/actions/resolve-in-flight"))
    expect(page.locator("form.action li")).to_contain_text(
        re.compile(r"for invoice [0-9A-F]+-0001,")
    )
    page.go_back()
    form = page.get_by_test_id("act-resolve-in-flight")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Resolve…").click()
    said = page.get_by_test_id("what-will-happen")
    expect(said).to_contain_text("1 payment(s) in flight and 0 waiting for the customer")
    expect(said).to_contain_text("in flight for at least 15 minutes")
    events = confirm(page, "Resolve payments in flight")

    [resolved] = page.get_by_test_id("resolved").locator("tbody tr").all()
    expect(resolved).to_contain_text("20.00 USD")
    expect(resolved.locator("td").nth(1)).to_have_text(re.compile(r"^[0-9A-F]+-0001$"))
    expect(resolved).to_contain_text("not received")
    expect(resolved).to_contain_text("the processor never received it: nothing was charged")
    expect(events).to_contain_text("PaymentFailed")
    expect(events).to_contain_text(REASON)
    reload_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).not_to_have_text("stuck")
    expect(page.get_by_test_id("act-resolve-in-flight")).to_have_count(0)
