"""Finding an account in the support console, in chromium: by each key (account id, part
of a name, an email, an invoice number, a Stripe or a Braintree customer id), each result
linking to the account's page, in pages of 20."""

from __future__ import annotations

import time
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Page, expect

from commands import accounts, billing, methods
from commands.models import LinkProviderCustomer, OpenAccount, Subscribe
from ledger.payments import Processor
from tests.browser.conftest import KEYS, SUPPORT, LiveConsole
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx, service_ctx
from tests.fakes.clock import FixedClock


def open_account(live: LiveConsole, name: str, email: str) -> UUID:
    cmd = OpenAccount(name=name, email=email, country="GB", currency="GBP")
    return accounts.open_account(live.container.deps, cmd, service_ctx()).account_id


def search(page: Page, live: LiveConsole, query: str) -> None:
    page.goto(live.link())
    page.get_by_label("Email, name, account id").fill(query)
    page.get_by_role("button", name="Search").click()


@pytest.fixture
def people(live: LiveConsole, clock: FixedClock) -> dict[str, UUID]:
    deps = live.container.deps
    found = {
        "grace": open_account(live, "Grace Hopper", "grace@navy.example"),
        "wei": open_account(live, "张伟 Zhang Wei", "wei@example.cn"),
        "payer": usd_account(deps),
    }
    link = LinkProviderCustomer(
        account_id=found["grace"], processor=Processor.STRIPE, customer_id="cus_Grace123"
    )
    methods.link_provider_customer(deps, link, service_ctx())
    link = LinkProviderCustomer(
        account_id=found["wei"], processor=Processor.BRAINTREE, customer_id="bt-wei-42"
    )
    methods.link_provider_customer(deps, link, service_ctx())
    clock.advance(minutes=1)
    billing.subscribe(deps, Subscribe(account_id=found["payer"], plan_id=PLAN), customer_ctx())
    live.caught_up()
    return found


def invoice_number(live: LiveConsole, account_id: UUID) -> str:
    with live.container.connection() as conn:
        row = conn.execute(
            "SELECT number FROM invoices WHERE account_id = %s AND number IS NOT NULL",
            (account_id,),
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("key", "query", "who", "matched"),
    [
        ("name", "hopper", "grace", "name"),
        ("name in Chinese", "张伟", "wei", "name"),
        ("email", "GRACE@navy.example", "grace", "email"),
        ("Stripe customer id", "cus_Grace123", "grace", "Stripe customer id"),
        ("Braintree customer id", "bt-wei-42", "wei", "Braintree customer id"),
        ("account id", "{grace}", "grace", "account id"),
        ("invoice number", "{invoice}", "payer", "invoice number"),
    ],
)
def test_search_finds_an_account_by_each_key(
    page: Page,
    live: LiveConsole,
    people: dict[str, UUID],
    key: str,
    query: str,
    who: str,
    matched: str,
) -> None:
    text = query.format(grace=people["grace"], invoice=invoice_number(live, people["payer"]))
    search(page, live, text)
    results = page.get_by_test_id("results")
    expect(results.locator("tbody tr")).to_have_count(1)
    row = results.locator("tbody tr").first
    expect(row).to_contain_text(str(people[who]))
    expect(row.locator("td").last).to_contain_text(matched)
    row.get_by_role("link").first.click()
    assert page.url == live.url(f"/console/accounts/{people[who]}"), key
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_search_says_when_nothing_matches(page: Page, live: LiveConsole) -> None:
    search(page, live, "nobody-at-all")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        'No account matches "nobody-at-all"'.replace('"', "\u201c", 1).replace('"', "\u201d")
    )


def test_search_results_come_in_pages(page: Page, live: LiveConsole) -> None:
    opened = {open_account(live, f"Pager {n:02}", f"pager{n}@example.com") for n in range(23)}
    live.caught_up()
    search(page, live, "pager")
    rows = page.get_by_test_id("results").locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("Pager 00")
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Pager 20")
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    page.get_by_role("link", name="First page").click()
    expect(rows.first).to_contain_text("Pager 00")
    assert len(opened) == 23


def test_results_follow_the_typing_without_a_page_load(
    page: Page, live: LiveConsole, people: dict[str, UUID]
) -> None:
    """htmx (vendored, allowed by the console's CSP) fetches the results as the agent types
    and swaps them in; the address bar follows, so the search can be shared or reloaded."""
    page.goto(live.link())
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Email, name, account id").press_sequentially("hopper")
    rows = page.get_by_test_id("results").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    assert page.evaluate("window.notReloaded === true")
    assert page.url.endswith("/console/?q=hopper")


def test_typing_after_the_session_expired_shows_the_sign_in_page(
    page: Page, live: LiveConsole
) -> None:
    page.goto(live.link())
    later = time.time() + live.sessions.idle_s + 1
    live.sessions.now = lambda: later
    page.get_by_label("Email, name, account id").press_sequentially("hop")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please sign in")


def test_the_title_follows_the_results_swapped_in(
    page: Page, live: LiveConsole, people: dict[str, UUID]
) -> None:
    page.goto(live.link())
    expect(page).to_have_title("Find an account · NinjaPanel")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Email, name, account id").press_sequentially("hopper")
    expect(page.get_by_test_id("results").locator("tbody tr")).to_have_count(1)
    expect(page).to_have_title("hopper · Find an account · NinjaPanel")
    assert page.evaluate("window.notReloaded === true")


def test_an_over_long_or_invalid_search_answers_a_console_page(
    page: Page, live: LiveConsole
) -> None:
    page.goto(live.link())
    expect(page.get_by_label("Email, name, account id")).to_have_attribute("maxlength", "200")
    response = page.goto(live.url("/console/?q=" + "x" * 201))
    assert response is not None
    assert response.status == 400
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This address is not one the console understands"
    )
    expect(page.get_by_role("main")).to_contain_text("The search: string should have at most 200")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("agent-ada")  # still signed in
    page.goto(live.url("/console/?q=ada&after=not-an-id"))
    expect(page.get_by_role("main")).to_contain_text("The page link: input should be a valid UUID")


def test_a_validation_error_outside_the_console_is_still_problem_json(live: LiveConsole) -> None:
    key = KEYS[SUPPORT][0]
    answer = httpx.get(
        live.url("/support/accounts/not-an-id/health"), headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "invalid_request"


def test_an_over_long_search_typed_past_the_box_shows_the_refusal_whole(
    page: Page, live: LiveConsole
) -> None:
    """An htmx request the console refuses for its parameters (the box's limit removed, as
    an old page or a paste past it could) loads the refusal as the page."""
    page.goto(live.link())
    box = page.get_by_label("Email, name, account id")
    box.evaluate("input => input.removeAttribute('maxlength')")
    box.fill("y" * 201)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This address is not one the console understands"
    )
    assert "q=" + "y" * 201 in page.url
