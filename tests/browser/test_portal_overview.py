"""The billing overview in chromium, as the customer reads it: the plan with its price and
next renewal, the default payment method and the account's state in words: in good
standing; bad debt with its amount and "Pay now"; a payment past due; a payment waiting for
the customer to authenticate it (3-D Secure) with "Authenticate"."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from commands import billing, credits, dunning
from commands.models import GrantCredit, RunBilling, Subscribe
from tests.browser.conftest import LiveConsole
from tests.browser.portal import open_portal
from tests.browser.test_console_account import into_bad_debt
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def test_a_healthy_account_shows_its_plan_renewal_credit_and_default_method(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    renews = clock.now().replace(month=clock.now().month % 12 + 1)
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD")
    credits.grant_credit(deps, grant, support_ctx("goodwill"))
    open_portal(page, live, account_id)
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing overview")
    expect(page.get_by_test_id("state")).to_have_text("Your account is in good standing.")
    [plan] = page.get_by_test_id("plan").all()
    expect(plan).to_contain_text("Pro")
    expect(plan).to_contain_text("20.00 USD / month")
    expect(plan.get_by_test_id("renewal")).to_have_text(
        f"Renews on {renews.day} {renews:%B %Y} for 20.00 USD."
    )
    expect(page.get_by_test_id("credit")).to_have_text("Your credit of 5.00 USD is used first.")
    expect(page.get_by_test_id("default-method")).to_have_text("Visa •••• 4242, expires 12/2030")
    expect(page.get_by_test_id("bad-debt")).to_have_count(0)
    expect(page.get_by_test_id("authenticate")).to_have_count(0)


def test_bad_debt_shows_the_amount_and_a_way_to_pay_it(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    open_portal(page, live, account_id)
    banner = page.get_by_test_id("bad-debt")
    expect(banner.get_by_role("heading")).to_have_text("Your account has unpaid invoices")
    expect(banner).to_contain_text("20.00 USD is unpaid (1 invoice, since")
    expect(banner).to_contain_text("Your subscriptions are paused")
    expect(banner.get_by_role("link", name="Pay now")).to_have_attribute(
        "href", "/billing/pay-bad-debt"
    )
    expect(page.get_by_test_id("renewal")).to_have_text(
        "Renewal paused until the unpaid invoices are paid."
    )
    expect(page.get_by_test_id("state")).to_have_count(0)
    assert "insufficient_funds" not in page.content()  # no decline codes for the customer


def test_a_declined_renewal_is_past_due(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    gateway.always_decline(CARD, "insufficient_funds")
    for _ in range(3):
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
        clock.advance(days=1)
    open_portal(page, live, account_id)
    banner = page.get_by_test_id("past-due")
    expect(banner.get_by_role("heading")).to_have_text("A payment is past due")
    expect(banner).to_contain_text("20.00 USD for invoice")
    expect(banner).to_contain_text("has not been paid yet")
    expect(page.get_by_test_id("renewal")).to_have_text("Renews on 1 March 2026 for 20.00 USD.")
    expect(banner.get_by_role("link", name="Update your payment method")).to_be_visible()
    assert "insufficient_funds" not in page.content()


def test_a_payment_waiting_for_authentication_links_to_the_payment_page(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    gateway.require_action_next(CARD)
    dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    open_portal(page, live, account_id)
    banner = page.get_by_test_id("authenticate")
    expect(banner.get_by_role("heading")).to_have_text("Your bank asks you to confirm a payment")
    expect(banner).to_contain_text("The payment of 20.00 USD for invoice")
    link = banner.get_by_role("link", name="Authenticate")
    expect(link).to_have_attribute(
        "href", f"/billing/pay/invoices/{_invoice_waiting(live, account_id)}"
    )


def _invoice_waiting(live: LiveConsole, account_id: object) -> str:
    with live.container.connection() as conn:
        row = conn.execute(
            "SELECT invoice_id FROM invoices WHERE account_id = %s AND status = 'open'",
            (account_id,),
        ).fetchone()
    assert row is not None
    return str(row[0])
