"""Plan changes in chromium: the preview shows the proration, and confirming charges
exactly what it showed (the invoice says so too); a downgrade adds credit; a cancellation
at the period end is confirmed first, then the subscription says when it ends; in bad debt
the change is refused with the way out."""

from __future__ import annotations

import re
from uuid import UUID

from playwright.sync_api import Page, expect

from commands import billing
from commands.base import load_account
from commands.models import Subscribe
from tests.browser.conftest import LiveConsole
from tests.browser.portal import open_portal
from tests.browser.test_portal_invoices import into_bad_debt
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

DAY = r"\d{1,2} [A-Z][a-z]+ \d{4}"


def subscribed(live: LiveConsole, plan: str = PLAN) -> tuple[UUID, str]:
    deps = live.container.deps
    account_id = usd_account(deps)
    sub = billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=plan), customer_ctx())
    return account_id, str(sub.subscription_id)


def open_plan(page: Page, live: LiveConsole, account_id: UUID) -> None:
    open_portal(page, live, account_id)
    page.get_by_role("link", name="Plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your plan")


def test_the_plan_change_charges_the_proration_its_preview_showed(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id, _ = subscribed(live)
    clock.advance(days=10, hours=3)
    open_plan(page, live, account_id)
    expect(page.get_by_test_id("subscription-state")).to_have_text(
        re.compile(f"^Renews on {DAY} for 20.00 USD.$")
    )
    page.get_by_label("Change to").select_option(label="Business (200.00 USD every month)")
    page.get_by_role("button", name="See what it costs").click()
    lines = page.get_by_test_id("preview-lines")
    expect(lines).to_contain_text("Unused time on Pro (pro-monthly-usd)")
    expect(lines).to_contain_text("Remaining time on Business (business-monthly-usd)")
    now = page.get_by_test_id("preview-now").first.inner_text()
    shown = re.fullmatch(r"You will be charged ([\d,.]+) USD now\.", now)
    assert shown is not None, now
    expect(page.get_by_test_id("preview-renewal")).to_have_text(
        re.compile(f"^From {DAY} you will be billed 200.00 USD every month.$")
    )
    charges_before = len(gateway.charges)
    clock.advance(minutes=20)  # the customer reads; prorated from now it would be 8 cents less
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_test_id("plan-result")).to_have_text(
        f"Your plan is changed. You were charged {shown[1]} USD."
    )
    assert len(gateway.charges) == charges_before + 1
    assert gateway.charges[-1].amount.decimal_text(grouping=True) == shown[1]
    page.get_by_test_id("plan-invoice").click()
    expect(page.get_by_test_id("invoice-payments")).to_contain_text(f"Paid {shown[1]} USD by card")


def test_a_preview_confirmed_after_half_an_hour_is_shown_again_and_charges_nothing(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id, sub_id = subscribed(live)
    clock.advance(days=10)
    open_plan(page, live, account_id)
    page.get_by_label("Change to").select_option(label="Business (200.00 USD every month)")
    page.get_by_role("button", name="See what it costs").click()
    first = page.get_by_test_id("preview-now").first.inner_text()
    charges_before = len(gateway.charges)
    clock.advance(minutes=31)
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_test_id("preview-notice")).to_have_text(
        "The amounts you confirmed were quoted more than 30 minutes ago, so nothing was changed"
        " or charged. These are the amounts now."
    )
    again = page.get_by_test_id("preview-now").first.inner_text()
    assert again != first  # 31 minutes less of the period left to charge
    assert len(gateway.charges) == charges_before
    assert load_account(live.container.app, account_id).subscriptions[sub_id].plan_id == PLAN
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_test_id("plan-result")).to_have_text(
        re.compile(f"^Your plan is changed. You were charged {again.split()[4]} USD.$")
    )


def test_a_form_sent_twice_changes_the_plan_once(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id, sub_id = subscribed(live)
    clock.advance(days=3)
    open_plan(page, live, account_id)
    page.get_by_role("button", name="See what it costs").click()
    form = page.get_by_test_id("confirm-plan")
    fields: dict[str, str | float | bool] = {
        name: form.locator(f"input[name={name}]").get_attribute("value") or ""
        for name in ("csrf_token", "key", "plan_id")
    }
    url = live.url(f"/billing/plan/{sub_id}/change")
    first = page.request.post(url, form=fields)
    again = page.request.post(url, form=fields)
    assert (first.status, again.status) == (200, 200)
    assert len(gateway.charges) == 2  # the subscription, then the change once


def test_a_cheaper_plan_adds_credit_and_charges_nothing(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id, _ = subscribed(live, "business-monthly-usd")
    clock.advance(days=15)
    open_plan(page, live, account_id)
    page.get_by_label("Change to").select_option(label="Pro (20.00 USD every month)")
    page.get_by_role("button", name="See what it costs").click()
    now = page.get_by_test_id("preview-now")
    expect(now.first).to_have_text("Nothing is charged now.")
    expect(now.nth(1)).to_contain_text("is added to your credit")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_test_id("plan-result")).to_have_text(
        "Your plan is changed. Nothing was charged."
    )
    assert len(gateway.charges) == 1


def test_cancel_at_period_end_is_confirmed_then_says_when_it_ends(
    page: Page, live: LiveConsole
) -> None:
    account_id, _ = subscribed(live)
    open_plan(page, live, account_id)
    page.get_by_test_id("cancel-link").click()
    expect(page.get_by_test_id("cancel-confirm")).to_contain_text("stays active until")
    page.get_by_role("button", name="Cancel at the end of the period").click()
    expect(page.get_by_test_id("subscription-state")).to_have_text(
        re.compile(f"^Ends on {DAY}; it will not renew.$")
    )
    expect(page.get_by_test_id("cancel-link")).to_have_count(0)


def test_in_bad_debt_a_plan_change_is_refused_with_the_way_out(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    open_plan(page, live, account_id)
    banner = page.get_by_test_id("bad-debt-banner")
    expect(banner).to_contain_text("Plan changes and new purchases are paused")
    expect(page.get_by_test_id("change-plan")).to_have_count(0)
    [sub_id] = load_account(live.container.deps.app, account_id).subscriptions
    page.goto(live.url(f"/billing/plan/{sub_id}/preview?plan_id=business-monthly-usd"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan changes are paused")
    page.get_by_test_id("pay-bad-debt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay unpaid invoices")


def test_another_accounts_subscription_is_not_found(page: Page, live: LiveConsole) -> None:
    mine, _ = subscribed(live)
    _, theirs = subscribed(live)
    open_portal(page, live, mine)
    for path in (
        f"/billing/plan/{theirs}/preview?plan_id=business-monthly-usd",
        f"/billing/plan/{theirs}/cancel",
    ):
        response = page.goto(live.url(path))
        assert response is not None
        assert response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
