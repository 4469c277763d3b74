"""The account's history in chromium: each event with who (id and kind), surface, why,
request (correlation), hash and its facts in words, newest first; filtered by type, time
and request, in keyset pages; and the account as of a moment or an event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import Locator, Page, expect

from commands import accounts, billing, credits, dunning
from commands.models import GrantCredit, PayInvoice, RunBilling, Subscribe, UpdateProfile
from ledger.account import Account
from ledger.invoices import InvoiceStatus
from tests.browser.conftest import LiveConsole
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

REASON = "goodwill after the outage of 3 March"


@dataclass(frozen=True)
class Story:
    account_id: UUID
    opened: datetime
    declined: datetime  # the renewal's payment failed
    paid: datetime  # the customer paid the renewal


@pytest.fixture
def story(live: LiveConsole, clock: FixedClock, gateway: FakeGateway) -> Story:
    """Opened with a card (customer); 5.00 USD of credit (support, with a reason); a
    subscription paid at once (customer); its renewal declined (the billing run); the
    renewal paid a day later (customer)."""
    deps = live.container.deps
    opened = clock.now()
    account_id = usd_account(deps)
    clock.advance(hours=1)
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD")
    credits.grant_credit(deps, grant, support_ctx(REASON))
    clock.advance(hours=1)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    declined = clock.now()
    gateway.decline_next(CARD, "insufficient_funds")
    dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    clock.advance(days=1)
    paid = clock.now()
    account: Account = live.container.app.repository.get(account_id)
    [renewal] = [i.invoice_id for i in account.invoices.values() if i.status is InvoiceStatus.OPEN]
    pay = PayInvoice(account_id=account_id, invoice_id=renewal)
    billing.pay_invoice(deps, pay, customer_ctx())
    live.caught_up()
    return Story(account_id, opened, declined, paid)


def open_history(page: Page, live: LiveConsole, account_id: UUID) -> None:
    """From the account page, as an agent would."""
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{account_id}"))
    page.get_by_test_id("history-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("History of")


def follow(page: Page, target: Locator) -> None:
    """Clicks a link or a submit button and waits for the page it loads."""
    with page.expect_navigation():
        target.click()


def filter_by(page: Page) -> None:
    follow(page, page.get_by_role("button", name="Filter"))


def events(page: Page) -> Locator:
    return page.get_by_test_id("event")


def event(page: Page, title: str) -> Locator:
    return events(page).filter(has=page.get_by_role("heading", name=title))


def titles(page: Page) -> list[str]:
    return events(page).locator("h2").all_inner_texts()


def local(moment: datetime) -> str:
    """As a datetime-local input takes it (UTC, to the second)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def test_each_event_says_who_through_which_surface_why_and_what(
    page: Page, live: LiveConsole, story: Story
) -> None:
    open_history(page, live, story.account_id)
    assert titles(page)[0] == "Payment succeeded"  # newest first
    assert titles(page)[-1] == "Account opened"
    granted = event(page, "Credit granted")
    expect(granted.get_by_test_id("actor")).to_have_text("agent-7 support")
    expect(granted.get_by_test_id("surface")).to_have_text("ninjapanel")
    expect(granted.get_by_test_id("reason")).to_have_text(REASON)
    expect(granted.get_by_test_id("facts")).to_contain_text("5.00 USD")
    declined = event(page, "Payment failed")
    expect(declined.get_by_test_id("actor")).to_have_text("billing-run system")
    expect(declined.get_by_test_id("surface")).to_have_text("system")
    expect(declined.get_by_test_id("reason")).to_have_text("no reason given")
    expect(declined.get_by_test_id("facts")).to_contain_text("insufficient_funds")
    expect(declined.get_by_test_id("facts")).to_contain_text("20.00 USD")
    expect(declined.get_by_test_id("facts")).to_contain_text("visa ending 4242")
    payments = event(page, "Payment succeeded")
    expect(payments).to_have_count(2)
    renewal_paid = payments.first
    expect(renewal_paid.get_by_test_id("actor")).to_have_text("cust-1 customer")
    expect(renewal_paid.get_by_test_id("surface")).to_have_text("dashboard")
    number = f"{story.account_id.hex[:8].upper()}-0002"
    expect(renewal_paid.get_by_test_id("facts")).to_contain_text(number)
    expect(payments.last.get_by_test_id("facts")).to_contain_text("15.00 USD")  # after credit
    expect(renewal_paid.get_by_test_id("schema-version")).to_have_text("schema v1")
    expect(declined.get_by_test_id("schema-version")).to_have_text("schema v2")
    short = renewal_paid.get_by_test_id("hash")
    expect(short).to_have_text(_hex_prefix())
    full = short.get_attribute("title") or ""
    assert len(full) == 64
    assert full.startswith(short.inner_text().rstrip("…"))
    renewal_paid.get_by_text("Full event").click()
    expect(renewal_paid.locator("pre.payload")).to_contain_text('"attempt_id"')
    page.get_by_test_id("back-to-account").click()
    expect(page).to_have_url(live.url(f"/console/accounts/{story.account_id}"))


def _hex_prefix() -> re.Pattern[str]:
    return re.compile(r"^[0-9a-f]{12}…$")


def test_filtering_by_type_and_by_time_narrows_the_history(
    page: Page, live: LiveConsole, story: Story
) -> None:
    open_history(page, live, story.account_id)
    everything = events(page).count()
    page.get_by_label("Payment failed").check()
    page.get_by_label("Payment succeeded").check()
    filter_by(page)
    assert titles(page) == ["Payment succeeded", "Payment failed", "Payment succeeded"]
    expect(page.get_by_label("Payment failed")).to_be_checked()  # the form keeps the filter
    page.get_by_label("Since (UTC)").fill(local(story.declined - timedelta(minutes=1)))
    page.get_by_label("Until (UTC)").fill(local(story.paid - timedelta(hours=1)))
    filter_by(page)
    assert titles(page) == ["Payment failed"]
    follow(page, page.get_by_role("link", name="Show every event"))
    expect(events(page)).to_have_count(everything)
    page.get_by_label("Since (UTC)").fill(local(story.paid))
    filter_by(page)
    assert titles(page) == ["Payment succeeded", "Payment attempt started"]
    page.get_by_label("Until (UTC)").fill(local(story.opened - timedelta(days=1)))
    page.get_by_label("Since (UTC)").fill("")
    filter_by(page)
    expect(page.get_by_test_id("no-events")).to_have_text("No events match this filter.")


def test_a_correlation_link_shows_only_that_requests_events(
    page: Page, live: LiveConsole, story: Story
) -> None:
    open_history(page, live, story.account_id)
    declined = event(page, "Payment failed")
    follow(page, declined.get_by_test_id("correlation"))
    expect(page.get_by_test_id("correlation-filter")).to_be_visible()
    assert titles(page) == [
        "Payment failed",
        "Payment attempt started",
        "Invoice finalized",
        "Invoice drafted",
        "Subscription changed",
    ]
    expect(event(page, "Subscription changed")).to_contain_text("renewed for the next period")
    follow(page, page.get_by_role("link", name="Show every request"))
    expect(event(page, "Account opened")).to_have_count(1)


def test_the_history_comes_in_keyset_pages_that_keep_the_filter(
    page: Page, live: LiveConsole, clock: FixedClock
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    for n in range(30):
        clock.advance(minutes=1)
        change = UpdateProfile(account_id=account_id, email=f"ada+{n}@example.com")
        accounts.update_profile(deps, change, support_ctx(f"the customer's new address {n}"))
    open_history(page, live, account_id)
    expect(events(page)).to_have_count(25)
    expect(events(page).first.get_by_test_id("reason")).to_have_text(
        "the customer's new address 29"
    )
    page.get_by_role("link", name="Older events").click()
    expect(events(page)).to_have_count(7)  # 5 updates, the card, the opening
    expect(events(page).last).to_contain_text("Account opened")
    expect(page.get_by_role("link", name="Older events")).to_have_count(0)
    page.get_by_role("link", name="Newest events").click()
    expect(events(page)).to_have_count(25)
    page.get_by_label("Account profile updated").check()
    filter_by(page)
    page.get_by_role("link", name="Older events").click()
    expect(events(page)).to_have_count(5)
    expect(page.get_by_role("link", name="Older events")).to_have_count(0)
    expect(page.get_by_label("Account profile updated")).to_be_checked()
    expect(events(page).last.get_by_test_id("reason")).to_have_text("the customer's new address 0")


def test_the_account_as_of_a_moment_between_two_events_shows_the_earlier_state(
    page: Page, live: LiveConsole, story: Story
) -> None:
    number = f"{story.account_id.hex[:8].upper()}-0002"
    open_history(page, live, story.account_id)
    page.get_by_role("link", name="The account as of a moment").click()
    page.get_by_label("Moment (UTC)").fill(local(story.paid - timedelta(hours=1)))
    page.get_by_role("button", name="Show the account then").click()
    renewal = page.get_by_test_id("as-of-invoices").locator("tr", has_text=number)
    expect(renewal).to_contain_text("Open")
    expect(page.get_by_test_id("as-of-receivable")).to_have_text("20.00 USD")
    expect(page.get_by_test_id("as-of-summary")).to_contain_text("Payment failed")
    page.get_by_label("Moment (UTC)").fill(local(story.paid + timedelta(minutes=1)))
    page.get_by_role("button", name="Show the account then").click()
    expect(renewal).to_contain_text("Paid")
    expect(page.get_by_test_id("as-of-receivable")).to_have_text("0.00 USD")
    expect(page.get_by_test_id("as-of-status")).to_have_text("open")


def test_the_account_as_of_an_event_of_the_timeline(
    page: Page, live: LiveConsole, story: Story
) -> None:
    open_history(page, live, story.account_id)
    declined = event(page, "Payment failed")
    version = declined.get_attribute("data-version")
    declined.get_by_test_id("as-of-event").click()
    expect(page.get_by_test_id("as-of-version")).to_have_text(str(version))
    number = f"{story.account_id.hex[:8].upper()}-0002"
    renewal = page.get_by_test_id("as-of-invoices").locator("tr", has_text=number)
    expect(renewal).to_contain_text("Open")
    page.get_by_role("link", name=re.compile("^After the next event")).click()
    expect(page.get_by_test_id("as-of-version")).to_have_text(str(int(version or 0) + 1))


def test_a_moment_before_the_account_was_opened_says_so(
    page: Page, live: LiveConsole, story: Story
) -> None:
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{story.account_id}/as-of"))
    page.get_by_label("Moment (UTC)").fill(local(story.opened - timedelta(days=2)))
    page.get_by_role("button", name="Show the account then").click()
    expect(page.get_by_test_id("not-yet")).to_contain_text("The account did not exist yet")
    expect(page.get_by_test_id("as-of-invoices")).to_have_count(0)
    page.get_by_role("link", name="The account as it was opened").click()
    expect(page.get_by_test_id("as-of-version")).to_have_text("1")
    expect(page.get_by_test_id("as-of-methods")).to_have_count(0)


@pytest.mark.parametrize(
    ("query", "heading"),
    [
        ("history?since=soon", "This date cannot be read"),
        ("history?since=2026-02-01T00:00&until=2026-01-01T00:00", "These dates cannot be used"),
        ("history?correlation=not-a-request", "This page link is broken"),
        ("history?before=-3", "This page link is broken"),
        ("as-of?at=yesterday", "This date cannot be read"),
        ("as-of?version=x", "This page link is broken"),
    ],
)
def test_a_mistyped_address_is_a_page_that_says_so(
    page: Page, live: LiveConsole, query: str, heading: str
) -> None:
    account_id = usd_account(live.container.deps)
    page.goto(live.link())
    response = page.goto(live.url(f"/console/accounts/{account_id}/{query}"))
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_test_id("signed-in-as")).to_have_text("agent-ada")


def test_the_history_of_an_unknown_account_is_a_page_that_says_so(
    page: Page, live: LiveConsole
) -> None:
    page.goto(live.link())
    for path in ("history", "as-of?at=2026-01-01T00:00", "history?type=Typo"):
        response = page.goto(live.url(f"/console/accounts/{uuid4()}/{path}"))
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("No such account")
    for path in ("not-an-id/history", "12345/as-of"):
        response = page.goto(live.url(f"/console/accounts/{path}"))
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("No such account")
