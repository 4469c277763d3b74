"""The fleet page in chromium: accounts counted by health state (each count opens the list of
its accounts), the stuck accounts with their reasons and links in keyset pages, bad debt per
currency, where each projection stands (lag, a rebuild under way) and the poisoned events."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from commands import accounts, billing, dunning, methods
from commands.models import AddCard, CloseAccount, RunBilling, Subscribe
from commands.ports import ProcessorUnavailable
from projections import rebuild
from projections.accounts import AccountsProjection
from tests.browser.conftest import LiveConsole
from tests.fakes.builders import customer_ctx, open_cmd, service_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.test_projection_poison import NUL_NAME, inject_profile

CARD = "pm_card_visa"
PLANS = {"USD": "pro-monthly-usd", "JPY": "pro-monthly-jpy"}


def account(live: LiveConsole, name: str, currency: str = "USD") -> UUID:
    deps = live.container.deps
    account_id = accounts.open_account(deps, open_cmd(name, currency), customer_ctx()).account_id
    card = AddCard(
        account_id=account_id,
        processor_ref=CARD,
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    methods.add_card(deps, card, customer_ctx())
    return account_id


def stuck(live: LiveConsole, gateway: FakeGateway, name: str) -> UUID:
    """A renewal's charge whose answer never came: the attempt stays in flight."""
    account_id = account(live, name)
    gateway.go_down_next(CARD)
    cmd = Subscribe(account_id=account_id, plan_id=PLANS["USD"], on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(live.container.deps, cmd, customer_ctx())
    return account_id


def in_bad_debt(
    live: LiveConsole, clock: FixedClock, gateway: FakeGateway, names: dict[str, str]
) -> None:
    """Each account (name -> currency) pays its first month, then every renewal retry
    declines until dunning gives up: its second invoice is uncollectible."""
    deps = live.container.deps
    ids = []
    for name, currency in names.items():
        account_id = account(live, name, currency)
        cmd = Subscribe(account_id=account_id, plan_id=PLANS[currency])
        billing.subscribe(deps, cmd, customer_ctx())
        ids.append(account_id)
    clock.advance(days=31)
    gateway.always_decline(CARD, "insufficient_funds")
    for _ in range(12):
        dunning.run_billing(deps, RunBilling(account_ids=ids), system_ctx())
        clock.advance(days=1)
    gateway._always.clear()


def open_fleet(page: Page, live: LiveConsole) -> None:
    page.goto(live.link())
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Fleet"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fleet")
    expect(page).to_have_title("Fleet · NinjaPanel")
    nav = page.get_by_role("navigation", name="Console sections")
    expect(nav.get_by_role("link", name="Fleet")).to_have_attribute("aria-current", "page")


def count_of(page: Page, state: str) -> str:
    return page.get_by_test_id("states").locator(f"tr[data-state='{state}'] td.num").inner_text()


def test_accounts_are_counted_by_state_and_each_count_lists_its_accounts(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    in_bad_debt(live, clock, gateway, {"Olga Petrova": "USD"})
    account(live, "Grace Hopper")
    closed = account(live, "Tu Youyou")
    accounts.close_account(deps, CloseAccount(account_id=closed), service_ctx())
    stuck(live, gateway, "Li Wei")
    clock.advance(hours=3)
    live.caught_up()
    open_fleet(page, live)
    counts = {s: count_of(page, s) for s in ("bad_debt", "healthy", "closed", "stuck", "lifting")}
    assert counts == {"bad_debt": "1", "healthy": "1", "closed": "1", "stuck": "1", "lifting": "0"}
    expect(page.get_by_test_id("accounts-total")).to_have_text("4")
    page.get_by_test_id("states").get_by_role("link", name="bad debt").click()
    expect(page.get_by_test_id("listed-state")).to_have_text("bad debt")
    expect(page).to_have_title("Bad debt accounts · Fleet · NinjaPanel")
    [row] = page.get_by_test_id("state-accounts").locator("tbody tr").all()
    expect(row).to_contain_text("Olga Petrova")
    expect(row).to_contain_text("invoices were marked uncollectible (bad debt)")
    page.get_by_role("link", name="Fleet").first.click()
    page.get_by_test_id("states").get_by_role("link", name="closed").click()
    expect(page.get_by_test_id("state-accounts").locator("tbody tr")).to_have_text(
        [re.compile("Tu Youyou")]
    )
    page.goto(live.url("/console/fleet/accounts?state=lifting"))
    expect(page.get_by_test_id("state-accounts")).to_have_text("No account is lifting.")


def test_a_stuck_account_is_listed_with_its_reason_and_opens_its_page(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    stuck(live, gateway, "Li Wei")
    account(live, "Grace Hopper")
    clock.advance(hours=3)
    live.caught_up()
    open_fleet(page, live)
    stuck_section = page.get_by_role("region", name="Stuck accounts")
    [row] = stuck_section.get_by_test_id("state-accounts").locator("tbody tr").all()
    expect(row).to_contain_text("a payment attempt has been in flight too long (stuck)")
    row.get_by_role("link", name="Li Wei").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Li Wei")
    expect(page.get_by_test_id("health-state")).to_have_text("stuck")


def test_stuck_accounts_come_in_keyset_pages(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    made = sorted(stuck(live, gateway, f"Stuck {i:02d}") for i in range(23))
    account(live, "Grace Hopper")  # healthy: never listed
    clock.advance(hours=3)
    live.caught_up()
    open_fleet(page, live)
    rows = page.get_by_test_id("state-accounts").locator("tbody tr")
    expect(rows).to_have_count(20)
    first_page = [_account_id(r) for r in rows.all()]
    assert first_page == made[:20]  # account id order
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_test_id("listed-state")).to_have_text("stuck")
    expect(rows).to_have_count(3)
    assert [_account_id(r) for r in rows.all()] == made[20:]
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    page.get_by_role("link", name="First page").click()
    expect(rows).to_have_count(20)


def _account_id(row: object) -> UUID:
    href = row.get_by_role("link").first.get_attribute("href")  # type: ignore[attr-defined]
    return UUID(href.rsplit("/", 1)[-1])


def test_bad_debt_is_summed_per_currency_with_its_accounts(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    in_bad_debt(
        live, clock, gateway, {"Olga Petrova": "USD", "Ivan Petrov": "USD", "Sato Ken": "JPY"}
    )
    live.caught_up()
    open_fleet(page, live)
    rows = page.get_by_test_id("bad-debt").locator("tbody tr")
    expect(rows).to_have_text(
        [re.compile(r"JPY\s*2,?500 JPY\s*1"), re.compile(r"USD\s*40\.00 USD\s*2")]
    )


def test_projection_lag_and_a_rebuild_under_way_are_shown(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account(live, "Grace Hopper")
    live.caught_up()
    container = live.container
    head = container.reader.head()
    # A projection the store feed does not run yet (deployed, not rebuilt): it lags by the
    # whole store, and its first event has waited as long as the clock moved since.
    container.projections["accounts_next"] = AccountsProjection()
    clock.advance(seconds=90)
    invoices = container.projections["invoices"]
    with container.connection() as conn, rebuild.exclusive_rebuild(conn, "invoices"):
        conn.commit()
        rebuild.prepare(conn, invoices, head, fresh=False)  # interrupted before its swap
    open_fleet(page, live)
    table = page.get_by_test_id("projections")
    caught_up = table.locator("tr[data-projection='accounts'] td")
    expect(caught_up.nth(0)).to_have_text(str(head))
    expect(caught_up.nth(1)).to_have_text(str(head))
    expect(caught_up.nth(2)).to_have_text("0")
    lagging = table.locator("tr[data-projection='accounts_next'] td")
    expect(lagging.nth(0)).to_have_text("0")
    expect(lagging.nth(2)).to_have_text(str(head))
    expect(lagging.nth(3)).to_have_text("1 min 30 s")
    expect(table.locator("tr[data-projection='invoices']")).to_contain_text("rebuilding since")


def test_a_poisoned_event_is_listed_with_its_account(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account(live, "Grace Hopper")
    bad = account(live, "Alice Acme")
    inject_profile(live.container, bad, NUL_NAME)  # the accounts projection cannot store it
    live.caught_up()
    open_fleet(page, live)
    [row] = page.get_by_test_id("poisoned").locator("tbody tr").all()
    expect(row).to_contain_text("accounts")
    expect(row).to_contain_text("AccountProfileUpdated")
    expect(row).to_contain_text(str(bad))
    parked = page.get_by_test_id("projections").locator("tr[data-projection='accounts'] td")
    expect(parked.last).to_have_text("1")
    row.get_by_role("link").click()
    expect(page).to_have_url(live.url(f"/console/accounts/{bad}"))
