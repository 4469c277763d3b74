"""The account page in chromium (read-only): profile and provider links, health state with
its reasons, invoices with their display status (a recovered invoice shows when it was
marked uncollectible and when it was paid, never "Paid" twice) and the PDF."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import Page, expect

from adapters.postgres.reconciliation import store_check
from commands import bad_debt, billing, dunning, methods
from commands.models import LinkProviderCustomer, PayBadDebt, RunBilling, Subscribe
from commands.ports import ProcessorUnavailable
from commands.reconcile import AccountCheck
from commands.reconcile_compare import Finding, FindingKind
from ledger.payments import Processor
from tests.browser.conftest import LiveConsole
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, service_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def open_page(page: Page, live: LiveConsole, account_id: UUID) -> None:
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{account_id}"))


def into_bad_debt(live: LiveConsole, account_id: UUID, clock: FixedClock, gw: FakeGateway) -> None:
    """Every retry of the first renewal declines until dunning gives up: bad debt."""
    deps = live.container.deps
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    gw.always_decline(CARD, "insufficient_funds")
    for _ in range(12):
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
        clock.advance(days=1)
    gw._always.clear()


def test_the_page_shows_profile_provider_links_and_a_paid_invoice_with_its_pdf(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    link = LinkProviderCustomer(
        account_id=account_id, processor=Processor.STRIPE, customer_id="cus_Ada42"
    )
    methods.link_provider_customer(deps, link, service_ctx())
    clock.advance(minutes=1)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")
    expect(page.get_by_test_id("health-state")).to_have_text("healthy")
    stripe = page.get_by_test_id("stripe-customer").get_by_role("link")
    expect(stripe).to_have_text("cus_Ada42")
    expect(stripe).to_have_attribute("href", "https://dashboard.stripe.com/customers/cus_Ada42")
    [row] = page.get_by_test_id("invoices").locator("tbody tr").all()
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("20.00 USD")
    with page.expect_download() as download:
        row.get_by_role("link", name="PDF").click()
    saved = download.value.path()
    assert saved.read_bytes().startswith(b"%PDF")


def test_bad_debt_shows_its_state_reasons_and_the_uncollectible_invoice(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    live.caught_up()
    open_page(page, live, account_id)
    expect(page.get_by_test_id("health-state")).to_have_text("bad debt")
    expect(page.get_by_test_id("health-reasons")).to_contain_text(
        "invoices were marked uncollectible (bad debt)"
    )
    uncollectible = page.get_by_test_id("invoices").locator("tbody tr", has_text="Uncollectible")
    expect(uncollectible).to_have_count(1)
    expect(uncollectible).to_contain_text("uncollectible since")


def test_a_recovered_invoice_shows_both_dates_never_paid_twice(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    into_bad_debt(live, account_id, clock, gateway)
    bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4()))
    live.caught_up()
    open_page(page, live, account_id)
    recovered = page.get_by_test_id("invoices").locator("tbody tr", has_text="Recovered")
    expect(recovered).to_have_count(1)
    settled = recovered.locator("td").nth(4)
    expect(settled).to_have_text(
        _dated("uncollectible {} UTC, then paid {} UTC"), use_inner_text=True
    )
    expect(recovered).not_to_contain_text("Paid")
    expect(page.get_by_test_id("health-state")).not_to_have_text("bad debt")


def _dated(template: str) -> re.Pattern[str]:
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"
    return re.compile("^" + re.escape(template).replace(r"\{\}", stamp) + "$")


def test_an_unknown_account_is_a_page_that_says_so(page: Page, live: LiveConsole) -> None:
    page.goto(live.link())
    response = page.goto(live.url(f"/console/accounts/{uuid4()}"))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such account")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("agent-ada")  # still signed in


def test_a_pdf_needs_a_console_session(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    response = page.goto(live.url(f"/console/accounts/{account_id}/invoices/any/pdf"))
    assert response is not None
    assert response.status == 401


def test_methods_subscriptions_and_a_payment_waiting_for_the_customer(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.require_action_next(CARD)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    [attempt] = page.get_by_test_id("attempts").locator("tbody tr").all()
    expect(attempt).to_contain_text("waiting for the customer")
    expect(attempt).to_contain_text("on session")
    [method] = page.get_by_test_id("methods").locator("tbody tr").all()
    expect(method).to_contain_text("card")
    expect(method).to_contain_text("default")
    subscriptions = page.get_by_test_id("subscriptions").locator("tbody tr")
    expect(subscriptions).to_have_count(1)


def test_a_payment_in_flight_too_long_is_stuck(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    with pytest.raises(ProcessorUnavailable):  # the attempt was recorded before the charge
        billing.subscribe(deps, cmd, customer_ctx())
    clock.advance(hours=3)
    live.caught_up()
    open_page(page, live, account_id)
    expect(page.get_by_test_id("health-state")).to_have_text("stuck")
    expect(page.get_by_test_id("health-reasons")).to_contain_text("in flight too long")
    [attempt] = page.get_by_test_id("attempts").locator("tbody tr").all()
    expect(attempt).to_contain_text("in flight")


def test_invoices_filter_by_status(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    live.caught_up()
    open_page(page, live, account_id)
    rows = page.get_by_test_id("invoices").locator("tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Status").select_option("uncollectible")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Uncollectible")
    page.get_by_label("Status").select_option("recovered")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No invoices match these filters.")).to_be_visible()


def test_invoices_come_in_keyset_pages_that_keep_the_filter(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    for _ in range(22):
        clock.advance(minutes=1)
        billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{account_id}?status=paid"))
    rows = page.get_by_test_id("invoices").locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("-0022")
    page.get_by_role("link", name="Older invoices").click()
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("-0001")
    expect(page.get_by_label("Status")).to_have_value("paid")
    page.get_by_role("link", name="Newest invoices").click()
    expect(rows.first).to_contain_text("-0022")


def test_the_latest_reconciliation_shows_its_findings(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    open_page(page, live, account_id)
    expect(page.get_by_test_id("reconciliation")).to_have_text("Never reconciled.")
    finding = Finding(
        kind=FindingKind.CUSTOMER_DRIFTED,
        processor=Processor.STRIPE,
        subject="cus_Ada42",
        ledger_value="ada@example.com",
        processor_value="ada@elsewhere.example",
        detail="email edited at Stripe",
    )
    check = AccountCheck(account_id, 2, clock.now(), (finding,), ())
    with live.container.connection() as conn:  # the writer a reconciliation run uses
        store_check(conn, check)
    page.reload()
    expect(page.get_by_test_id("reconciliation")).to_contain_text("1 finding")
    [row] = page.get_by_test_id("findings").locator("tbody tr").all()
    expect(row).to_contain_text("customer drifted")
    expect(row).to_contain_text("ada@elsewhere.example")
    expect(row).to_contain_text("a person must look")
