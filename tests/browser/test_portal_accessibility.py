"""Every billing page, checked by axe-core (vendored, tests/browser/vendor) in chromium: no
serious or critical accessibility violation. A new page adds its addresses here."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from commands import billing, dunning
from commands.base import load_account
from commands.models import RunBilling, Subscribe
from tests.browser.conftest import LiveConsole, serious_violations
from tests.browser.portal import open_portal
from tests.browser.test_console_account import into_bad_debt
from tests.fakes.billing import CARD, PLAN, add_paypal, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def checked(page: Page, url: str) -> None:
    page.goto(url)
    assert serious_violations(page) == [], url


def subscribed(live: LiveConsole) -> UUID:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    return account_id


def test_every_billing_page_has_no_serious_accessibility_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = subscribed(live)
    add_paypal(deps, account_id)
    method_id = next(iter(load_account(deps.app, account_id).methods))
    checked(page, live.url("/billing/"))  # no session
    checked(page, live.url("/billing/session?token=made-up"))  # a refused link
    open_portal(page, live, account_id)
    for path in (
        "/billing/",
        "/billing/payment-methods",
        "/billing/payment-methods?done=default",
        "/billing/payment-methods/new",
        f"/billing/payment-methods/{method_id}/remove",
        "/billing/payment-methods/pm-of-nobody/remove",  # 404
        "/billing/payment-methods/%20/remove",  # not an id: 400
    ):
        checked(page, live.url(path))
    page.get_by_role("button", name="Sign out").click()
    assert serious_violations(page) == []  # the signed-out page


def test_the_overview_in_every_state_has_no_serious_accessibility_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    waiting = subscribed(live)
    declining = usd_account(deps)
    into_bad_debt(live, declining, clock, gateway)
    clock.advance(days=31)
    gateway.require_action_next(CARD)
    dunning.run_billing(deps, RunBilling(account_ids=[waiting]), system_ctx())
    for account_id, shows in ((declining, "bad-debt"), (waiting, "authenticate")):
        page.context.clear_cookies()
        open_portal(page, live, account_id)
        expect(page.get_by_test_id(shows)).to_be_visible()
        assert serious_violations(page) == [], shows


def test_a_refused_removal_has_no_serious_accessibility_violation(
    page: Page, live: LiveConsole
) -> None:
    """Said on the confirmation page before asking, and refused when confirmed anyway (a
    confirmation opened before the subscription started)."""
    deps = live.container.deps
    account_id = usd_account(deps)
    open_portal(page, live, account_id)
    page.goto(live.url("/billing/payment-methods"))
    page.get_by_role("link", name="Remove Visa •••• 4242").click()
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    page.get_by_role("button", name="Remove Visa •••• 4242").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This payment method is still needed")
    assert serious_violations(page) == []
    live.caught_up()
    page.goto(live.url("/billing/payment-methods"))
    page.get_by_role("link", name="Remove Visa •••• 4242").click()
    expect(page.get_by_test_id("needed")).to_be_visible()
    assert serious_violations(page) == []
