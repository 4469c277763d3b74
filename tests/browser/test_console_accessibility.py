"""Every console page, checked by axe-core (vendored, tests/browser/vendor) in chromium: no
serious or critical accessibility violation."""

from __future__ import annotations

from uuid import uuid4

from playwright.sync_api import Page, expect

from commands import billing
from commands.models import Subscribe
from tests.browser.conftest import LiveConsole, serious_violations
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def checked(page: Page, url: str) -> None:
    page.goto(url)
    assert serious_violations(page) == [], url


def test_every_console_page_has_no_serious_accessibility_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    gateway.require_action_next(CARD)
    other = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=other, plan_id=PLAN), customer_ctx())
    live.caught_up()
    checked(page, live.url("/console/"))  # not signed in
    checked(page, live.url("/console/sign-in?token=made-up"))  # a refused link
    page.goto(live.link())
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    for path in (
        "/console/",
        "/console/?q=ada",
        "/console/?q=nobody-at-all",
        f"/console/accounts/{account_id}",
        f"/console/accounts/{other}",
        f"/console/accounts/{uuid4()}",
    ):
        checked(page, live.url(path))
    page.goto(live.url("/console/"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    assert serious_violations(page) == []


def test_the_check_finds_a_violation_when_there_is_one(page: Page, live: LiveConsole) -> None:
    page.goto(live.link())
    page.get_by_label("Email, name, account id").evaluate(
        "input => input.labels.forEach(label => label.remove())"
    )
    found = serious_violations(page)
    assert [v["id"] for v in found] == ["label"]
