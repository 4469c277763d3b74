"""The account page's detail in chromium, each situation made through the commands: the
subscriptions with their plan, period, status and collection path; the payment methods
(brand, last four, expiry, PayPal payer, default, usable, vault path); credits; disputes; what
bad debt refuses; the invoice date filters kept across pages; attempts named by invoice number."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import Locator, Page, expect

from commands import bad_debt, billing, credits, disputes, methods
from commands.models import (
    AddCard,
    AddPayPal,
    CancelSubscription,
    ExpireMethod,
    GrantCredit,
    OpenDispute,
    PayBadDebt,
    RevokeCredit,
    Subscribe,
)
from commands.ports import ProcessorUnavailable
from ledger.account import Account
from tests.browser.conftest import LiveConsole
from tests.browser.test_console_account import into_bad_debt, open_page
from tests.fakes.billing import CARD, PLAN, add_paypal, usd_account
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def rows(page: Page, testid: str) -> Locator:
    return page.get_by_test_id(testid).locator("tbody tr")


def add_card(
    live: LiveConsole, account_id: UUID, ref: str, last4: str, month: int, year: int
) -> None:
    cmd = AddCard(
        account_id=account_id,
        processor_ref=ref,
        brand="mastercard",
        last4=last4,
        exp_month=month,
        exp_year=year,
        make_default=False,
    )
    methods.add_card(live.container.deps, cmd, customer_ctx())


def method_id_of(live: LiveConsole, account_id: UUID, last4: str) -> str:
    account: Account = live.container.deps.app.repository.get(account_id)
    return next(m.method_id for m in account.methods.values() if m.last4 == last4)


def test_a_card_account_shows_its_plan_period_collection_and_cards_with_their_expiry(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)  # Visa 4242, 12/2030, the default; the clock: 2026-01-01
    add_card(live, account_id, "pm_card_mastercard", "4444", 2, 2026)  # to the end of February
    add_card(live, account_id, "pm_card_old", "0005", 12, 2025)  # its date has passed
    add_card(live, account_id, "pm_card_gone", "0009", 6, 2029)
    gone = ExpireMethod(account_id=account_id, method_id=method_id_of(live, account_id, "0009"))
    methods.expire_method(deps, gone, customer_ctx())
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    yearly = billing.subscribe(
        deps, Subscribe(account_id=account_id, plan_id="pro-yearly-usd"), customer_ctx()
    )
    assert yearly.subscription_id is not None
    cancel = CancelSubscription(account_id=account_id, subscription_id=yearly.subscription_id)
    billing.cancel_subscription(deps, cancel, customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)

    subs = rows(page, "subscriptions")
    expect(subs).to_have_count(2)
    monthly = subs.filter(has_text="pro-monthly-usd")
    expect(monthly).to_contain_text("Pro 20.00 USD / month")
    expect(monthly).to_contain_text("2026-01-01 to 2026-02-01")
    expect(monthly).to_contain_text("active")
    expect(monthly).to_contain_text("renews 2026-02-01")
    expect(monthly).to_contain_text("Charged automatically to Visa •••• 4242")
    scheduled = subs.filter(has_text="pro-yearly-usd")
    expect(scheduled).to_contain_text("Pro 200.00 USD / year")
    expect(scheduled).to_contain_text("2026-01-01 to 2027-01-01")
    expect(scheduled).to_contain_text("cancels at period end")
    expect(scheduled).to_contain_text("ends 2027-01-01")

    cards = rows(page, "methods")
    expect(cards).to_have_count(4)
    visa = cards.filter(has_text="Visa •••• 4242")
    expect(visa).to_contain_text("12/2030")
    expect(visa).to_contain_text("default")
    expect(visa).to_contain_text("yes")
    expect(visa).to_contain_text("card at Stripe")
    expect(visa).to_contain_text(CARD)
    expect(cards.filter(has_text="Mastercard •••• 4444")).to_contain_text("expires soon")
    expect(cards.filter(has_text="Mastercard •••• 0005")).to_contain_text("expired")
    gone_row = cards.filter(has_text="Mastercard •••• 0009")
    expect(gone_row).to_contain_text("no: expired")
    expect(gone_row).not_to_contain_text("default")


def test_a_canceled_subscription_has_nothing_to_collect(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    sub = billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    assert sub.subscription_id is not None
    clock.advance(days=3)
    now = CancelSubscription(
        account_id=account_id, subscription_id=sub.subscription_id, at_period_end=False
    )
    billing.cancel_subscription(deps, now, customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    [row] = rows(page, "subscriptions").all()
    expect(row).to_contain_text("canceled")
    expect(row).to_contain_text("on 2026-01-04")
    expect(row).to_contain_text("nothing to collect")


def test_a_paypal_account_is_sent_invoices_paid_through_its_billing_agreement(
    page: Page, live: LiveConsole
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    add_paypal(deps, account_id)  # the default now
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    billing.subscribe(deps, cmd, customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    [sub] = rows(page, "subscriptions").all()
    expect(sub).to_contain_text(
        "Invoice sent, due 7 days after issue; paid through PayPal payer@example.com"
    )
    paypal = rows(page, "methods").filter(has_text="PayPal payer@example.com")
    expect(paypal).to_contain_text("default")
    expect(paypal).to_contain_text("billing agreement B-123")
    expect(paypal.locator("td").nth(2)).to_have_text("\u2014")  # no expiry
    expect(rows(page, "methods").filter(has_text="Visa •••• 4242")).not_to_contain_text("default")
    [invoice] = rows(page, "invoices").all()
    expect(invoice).to_contain_text("2026-01-08")  # due a week after it was issued


def test_credits_show_granted_used_remaining_expiry_and_how_they_closed(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    expires = clock.now() + timedelta(days=90)
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD", expires_at=expires)
    credits.grant_credit(deps, grant, support_ctx("late delivery, ticket 12"))
    clock.advance(days=1)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=1)
    big = GrantCredit(account_id=account_id, amount=1000, currency="USD")
    credits.grant_credit(deps, big, support_ctx("goodwill"))
    account: Account = live.container.deps.app.repository.get(account_id)
    goodwill = next(c for c in account.credits.values() if c.granted.amount == 1000)
    revoke = RevokeCredit(account_id=account_id, credit_id=goodwill.credit_id)
    credits.revoke_credit(deps, revoke, support_ctx("granted to the wrong account"))
    live.caught_up()
    open_page(page, live, account_id)

    table = rows(page, "credits")
    expect(table).to_have_count(2)
    used = table.filter(has_text="late delivery, ticket 12")
    expect(used).to_contain_text("by support agent-7")
    expect(used.locator("td").nth(1)).to_have_text("5.00 USD")  # granted
    expect(used.locator("td").nth(2)).to_have_text("5.00 USD")  # used by the first invoice
    expect(used.locator("td").nth(3)).to_have_text("0.00 USD")  # remaining
    expect(used.locator("td").nth(4)).to_have_text("2026-04-01")
    expect(used.locator("td").nth(5)).to_have_text("used up")  # active, nothing left
    revoked = table.filter(has_text="goodwill")
    expect(revoked.locator("td").nth(2)).to_have_text("0.00 USD")
    expect(revoked.locator("td").nth(4)).to_have_text("never")
    expect(revoked.locator("td").nth(5)).to_contain_text("revoked")
    expect(revoked.locator("td").nth(5)).to_contain_text("on 2026-01-03, 10.00 USD taken back")
    [invoice] = rows(page, "invoices").all()
    expect(invoice).to_contain_text("15.00 USD")  # after the 5.00 credit


def test_a_dispute_shows_the_payment_amount_state_and_dates(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    paid = billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    assert paid.payment is not None
    clock.advance(days=10)
    opened = OpenDispute(
        account_id=account_id, attempt_id=paid.payment.attempt_id, dispute_id="dp_42", amount=1500
    )
    disputes.open_dispute(deps, opened, support_ctx("chargeback notice by email"))
    live.caught_up()
    open_page(page, live, account_id)
    [row] = rows(page, "disputes").all()
    expect(row).to_contain_text("dp_42")
    number = rows(page, "invoices").first.locator("td").first.inner_text().splitlines()[0]
    expect(row).to_contain_text(f"20.00 USD for invoice {number}")
    expect(row.locator("td").nth(2)).to_have_text("15.00 USD")
    expect(row).to_contain_text("open: needs a response")
    expect(row.locator("td").nth(4)).to_have_text("2026-01-11 12:00 UTC")
    expect(row.locator("td").nth(5)).to_have_text("\u2014")


def test_bad_debt_says_what_is_refused_and_suspended(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(live.container.deps)
    into_bad_debt(live, account_id, clock, gateway)
    live.caught_up()
    open_page(page, live, account_id)
    section = page.get_by_test_id("bad-debt")
    expect(section.get_by_role("heading")).to_have_text("Bad debt: service suspended")
    expect(section).to_contain_text("20.00 USD in 1 uncollectible invoice, since")
    expect(section).to_contain_text("Refused until every uncollectible invoice is paid")
    expect(section).to_contain_text("new subscriptions and plan changes")
    expect(section).to_contain_text("the billing run renews no subscription")
    [sub] = rows(page, "subscriptions").all()
    expect(sub).to_contain_text("renewal paused")


def test_a_healthy_account_has_no_bad_debt_section(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    open_page(page, live, account_id)
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
    expect(page.get_by_test_id("bad-debt")).to_have_count(0)
    expect(page.get_by_text("No credit.")).to_be_visible()
    expect(page.get_by_text("No dispute.")).to_be_visible()


def test_attempts_name_their_invoice_by_number(
    page: Page, live: LiveConsole, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.require_action_next(CARD)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    number = rows(page, "invoices").first.locator("td").first.inner_text().splitlines()[0]
    assert number.endswith("-0001")
    [attempt] = rows(page, "attempts").all()
    expect(attempt.locator("td").nth(1)).to_have_text(number)


def test_invoices_filter_by_paid_and_due_days(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=10)  # 2026-01-11
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=10)  # 2026-01-21: on PayPal, sent, due on the 28th
    add_paypal(deps, account_id)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    billing.subscribe(deps, cmd, customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    table = rows(page, "invoices")
    expect(table).to_have_count(3)
    page.get_by_label("Paid from").fill("2026-01-11")
    page.get_by_label("Paid to").fill("2026-01-11")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table.first).to_contain_text("-0002")
    expect(page.get_by_label("Paid from")).to_have_value("2026-01-11")
    page.get_by_role("link", name="Clear filters").click()
    expect(table).to_have_count(3)
    page.get_by_label("Due from").fill("2026-01-25")
    page.get_by_label("Due to").fill("2026-01-31")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table.first).to_contain_text("-0003")
    page.get_by_label("Issued to").fill("2026-01-20")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No invoices match these filters.")).to_be_visible()


def test_date_filters_and_status_are_kept_across_keyset_pages(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    for _ in range(24):  # one a day, 2026-01-01 .. 2026-01-24
        billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
        clock.advance(days=1)
    live.caught_up()
    open_page(page, live, account_id)
    page.get_by_label("Status").select_option("paid")
    page.get_by_label("Issued from").fill("2026-01-02")
    page.get_by_label("Issued to").fill("2026-01-23")
    page.get_by_role("button", name="Filter").click()
    table = rows(page, "invoices")
    expect(table).to_have_count(20)
    expect(table.first).to_contain_text("-0023")
    page.get_by_role("link", name="Older invoices").click()
    expect(table).to_have_count(2)
    expect(table.last).to_contain_text("-0002")
    expect(page.get_by_label("Status")).to_have_value("paid")
    expect(page.get_by_label("Issued from")).to_have_value("2026-01-02")
    expect(page.get_by_label("Issued to")).to_have_value("2026-01-23")
    page.get_by_role("link", name="Newest invoices").click()
    expect(table).to_have_count(20)
    expect(table.first).to_contain_text("-0023")


def test_a_range_that_ends_before_it_starts_is_refused_in_words_beside_the_filters(
    page: Page, live: LiveConsole
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    live.caught_up()
    open_page(page, live, account_id)
    page.get_by_label("Issued from").fill("2026-02-01")
    page.get_by_label("Issued to").fill("2026-01-01")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Filter").click()
    response = navigation.value
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")
    expect(page.get_by_test_id("filter-error")).to_have_text(
        "These filters cannot be used. Issued: the first day is after the last day."
    )
    expect(page.get_by_label("Issued from")).to_have_value("2026-02-01")  # to correct
    expect(page.get_by_test_id("invoices")).to_have_count(0)
    page.get_by_label("Issued to").fill("2026-02-28")
    page.get_by_label("Issued from").fill("2026-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page, "invoices")).to_have_count(1)
    page.goto(live.url(f"/console/accounts/{account_id}?status=&paid_from="))
    expect(rows(page, "invoices")).to_have_count(1)  # empty fields filter nothing


def test_a_legacy_paypal_default_and_no_usable_default_are_shown_as_warnings(
    page: Page, live: LiveConsole
) -> None:
    deps = live.container.deps
    legacy = usd_account(deps)
    old_way = AddPayPal(
        account_id=legacy, token="bt_legacy", payer_email="old@example.com", legacy_vault=True
    )
    methods.add_paypal(deps, old_way, customer_ctx())
    billing.subscribe(deps, Subscribe(account_id=legacy, plan_id=PLAN), customer_ctx())
    unusable = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=unusable, plan_id=PLAN), customer_ctx())
    card = ExpireMethod(account_id=unusable, method_id=method_id_of(live, unusable, "4242"))
    methods.expire_method(deps, card, customer_ctx())
    live.caught_up()

    open_page(page, live, legacy)
    [sub] = rows(page, "subscriptions").all()
    expect(sub).to_contain_text("Charged automatically through PayPal old@example.com")
    expect(sub).to_contain_text("the wrong path until its token migration")
    paypal = rows(page, "methods").filter(has_text="PayPal old@example.com")
    expect(paypal).to_contain_text("legacy (needs token migration)")

    page.goto(live.url(f"/console/accounts/{unusable}"))
    [sub] = rows(page, "subscriptions").all()
    expect(sub).to_contain_text("Charged automatically")
    expect(sub).to_contain_text("no usable default method")
    [visa] = rows(page, "methods").all()
    expect(visa).to_contain_text("no: expired")
    expect(visa).to_contain_text("expired")


def test_a_bad_debt_payment_in_flight_says_what_waits_for_its_outcome(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    into_bad_debt(live, account_id, clock, gateway)
    gateway.go_down_next(CARD)
    with pytest.raises(ProcessorUnavailable):  # the attempt was recorded before the charge
        bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4()))
    live.caught_up()
    open_page(page, live, account_id)
    section = page.get_by_test_id("bad-debt")
    expect(section.get_by_role("heading")).to_have_text(
        "Bad debt, being paid: service still suspended"
    )
    expect(section).to_contain_text("A bad-debt payment is in flight")
    expect(section).to_contain_text("its invoice cannot be charged again, written off")
    [attempt] = rows(page, "attempts").all()
    expect(attempt).to_contain_text("bad debt")
