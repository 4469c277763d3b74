"""What the second set of console action tests share: accounts in a given state, and a
person's way through an action (the account page, the form, the confirmation)."""

from __future__ import annotations

from uuid import UUID

import pytest
from playwright.sync_api import Locator, Page, expect

from adapters.clock_walk import registry
from commands import billing
from commands.base import load_account
from commands.models import Subscribe
from commands.ports import ProcessorUnavailable
from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def open_account(page: Page, live: LiveConsole, account_id: UUID, who: str = SUPPORT) -> None:
    page.goto(live.link(who))
    page.goto(live.url(f"/console/accounts/{account_id}"))


def reload_account(page: Page, live: LiveConsole, account_id: UUID) -> None:
    live.caught_up()
    page.goto(live.url(f"/console/accounts/{account_id}"))


def with_open_invoice(live: LiveConsole, gateway: FakeGateway) -> UUID:
    """A subscription whose first charge was declined: its invoice is open (dunning)."""
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "card_declined")
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    billing.subscribe(deps, cmd, customer_ctx())
    live.caught_up()
    return account_id


def paying(live: LiveConsole) -> UUID:
    """A subscription paid at once: one successful payment of 20.00 USD."""
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    return account_id


def stuck(live: LiveConsole, clock: FixedClock, gateway: FakeGateway) -> UUID:
    """A payment recorded, its charge never answered (the processor never got it), three
    hours ago: the account is stuck."""
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(deps, cmd, customer_ctx())
    clock.advance(hours=3)
    live.caught_up()
    return account_id


def review(page: Page, reason: str, button: str = "Review") -> None:
    """On an action's form page: the reason, then the confirmation."""
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name=button).click()


def confirm(page: Page, title: str) -> Locator:
    """On the confirmation page: Confirm; the result page's events table."""
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Confirm: {title}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Done: {title}")
    return page.get_by_test_id("recorded-events")


def on_a_clock(live: LiveConsole, clock: FixedClock) -> UUID:
    """An account attached to a test clock at the process time, then subscribed."""
    deps = live.container.deps
    account_id = usd_account(deps)
    made = registry(live.container).new("trial", clock.now())
    account = load_account(live.container.app, account_id)
    registry(live.container).attach(account, made.clock_id, "dev", "walk renewals")
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    return account_id
