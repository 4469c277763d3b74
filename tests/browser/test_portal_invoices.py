"""The customer's invoices in chromium: the list in words (a recovered invoice says "Paid on
X (was uncollectible since Y)" once), filtered by status and by day, in keyset pages that
keep the filters; one invoice with its lines, credit and payments (never a declined
retry); its PDF; another account's invoice is not found."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import UUID, uuid4

from playwright.sync_api import Page, expect

from commands import accounts, bad_debt, billing, dunning
from commands.models import PayBadDebt, RunBilling, Subscribe, UpdateProfile
from tests.browser.conftest import LiveConsole
from tests.browser.portal import open_portal
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.test_invoice_pdf import pdf_text

DAY = r"\d{1,2} [A-Z][a-z]+ \d{4}"


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


def open_invoices(page: Page, live: LiveConsole, account_id: UUID) -> None:
    open_portal(page, live, account_id)
    page.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices")


def test_a_recovered_invoice_reads_paid_once_with_both_days(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    into_bad_debt(live, account_id, clock, gateway)
    bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4()))
    open_invoices(page, live, account_id)
    rows = page.get_by_test_id("invoice-row")
    expect(rows).to_have_count(2)
    recovered = rows.filter(has_text="was uncollectible")
    expect(recovered.get_by_test_id("invoice-standing")).to_have_text(
        re.compile(f"^Paid on {DAY} \\(was uncollectible since {DAY}\\)$")
    )
    assert recovered.inner_text().count("Paid") == 1
    recovered.get_by_role("link").first.click()
    expect(page.get_by_test_id("invoice-standing")).to_have_text(
        re.compile(f"^Paid on {DAY} \\(was uncollectible since {DAY}\\)$")
    )
    payments = page.get_by_test_id("invoice-payments")
    expect(payments).to_have_text(re.compile(f"^Paid 20.00 USD by card on {DAY}$"))
    expect(page.get_by_test_id("amount-due")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("insufficient")


def test_invoices_filter_by_status_and_by_day(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    open_invoices(page, live, account_id)
    rows = page.get_by_test_id("invoice-row")
    expect(rows).to_have_count(2)
    page.get_by_label("Status").select_option(label="Unpaid (uncollectible)")
    page.get_by_role("button", name="Show invoices").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Unpaid: 20.00 USD, uncollectible since")
    page.get_by_label("Status").select_option(label="All invoices")
    page.get_by_label("Issued from").fill("2026-01-15")
    page.get_by_role("button", name="Show invoices").click()
    expect(rows).to_have_count(1)  # the renewal, issued on 1 February
    expect(page.get_by_label("Issued from")).to_have_value("2026-01-15")
    page.get_by_label("Issued to").fill("2026-01-10")
    page.get_by_role("button", name="Show invoices").click()
    expect(page.get_by_test_id("filter-error")).to_contain_text("the first day is after the last")
    page.get_by_role("link", name="Clear filters").click()
    expect(rows).to_have_count(2)


def test_invoices_come_in_keyset_pages_that_keep_the_filter(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    for _ in range(22):
        clock.advance(minutes=1)
        billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    open_invoices(page, live, account_id)
    page.get_by_label("Status").select_option(label="Paid")
    page.get_by_role("button", name="Show invoices").click()
    rows = page.get_by_test_id("invoice-row")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("-0022")
    page.get_by_role("link", name="Older invoices").click()
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("-0001")
    expect(page.get_by_label("Status")).to_have_value("paid")
    page.get_by_role("link", name="Newest invoices").click()
    expect(rows.first).to_contain_text("-0022")


def test_an_open_invoice_says_its_amount_due_and_the_pdf_downloads(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    sub = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    billing.subscribe(deps, sub, customer_ctx())
    open_invoices(page, live, account_id)
    row = page.get_by_test_id("invoice-row")
    expect(row.get_by_test_id("invoice-standing")).to_have_text("Amount due 20.00 USD, now")
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("amount-due")).to_have_text("20.00 USD")
    expect(page.get_by_test_id("invoice-lines")).to_contain_text("Pro (pro-monthly-usd)")
    expect(page.get_by_test_id("invoice-payments")).to_have_text("No payment yet.")
    with page.expect_download() as download:
        page.get_by_test_id("invoice-pdf").click()
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_another_accounts_invoice_is_not_found(page: Page, live: LiveConsole) -> None:
    deps = live.container.deps
    mine, theirs = usd_account(deps), usd_account(deps)
    other = billing.subscribe(deps, Subscribe(account_id=theirs, plan_id=PLAN), customer_ctx())
    open_portal(page, live, mine)
    for path in (
        f"/billing/invoices/{other.invoice_id}",
        f"/billing/invoices/{other.invoice_id}/pdf",
    ):
        response = page.goto(live.url(path))
        assert response is not None
        assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_a_customer_named_in_chinese_reads_the_name_on_the_page_and_in_the_pdf(
    page: Page, live: LiveConsole
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    accounts.update_profile(
        deps, UpdateProfile(account_id=account_id, name="王小明"), customer_ctx()
    )
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    open_invoices(page, live, account_id)
    expect(page.get_by_test_id("customer-name")).to_have_text("王小明")
    page.get_by_test_id("invoice-row").get_by_role("link").first.click()
    with page.expect_download() as download:
        page.get_by_test_id("invoice-pdf").click()
    text = pdf_text(Path(download.value.path()).read_bytes())
    assert "王小明" in text
    assert "Amount paid 20.00 USD" in text
