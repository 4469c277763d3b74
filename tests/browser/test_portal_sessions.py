"""Billing portal sessions in chromium: the Dashboard's internal route answers a single-use
URL that opens the billing pages on one account, as its customer; a used or expired URL is
refused; the session's cookie is HttpOnly, Secure, SameSite=Lax on /billing; forms without
the session's CSRF token are refused; sign-out ends the session (back to the Dashboard)."""

from __future__ import annotations

from uuid import uuid4

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import DASHBOARD, KEYS, SUPPORT, LiveConsole
from tests.browser.portal import SERVICE_KEY, open_portal, portal_session
from tests.fakes.billing import usd_account

ENDED = "Your billing session has ended"
REFUSED_LINK = "This link cannot be used"


def test_the_internal_route_opens_the_billing_pages_of_one_account(
    page: Page, live: LiveConsole
) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    made = portal_session(page, live, account_id, f"{DASHBOARD}/settings")
    assert made["account_id"] == str(account_id)
    assert made["return_url"] == f"{DASHBOARD}/settings"
    assert made["url"].startswith(live.url("/billing/session?token="))
    response = page.goto(made["url"])
    assert response is not None
    assert page.url == live.url("/billing/")  # the token left the address bar
    expect(page).to_have_title("Overview · Billing")
    expect(page.get_by_test_id("customer-name")).to_have_text("Ada Lovelace")
    expect(page.get_by_test_id("return")).to_have_attribute("href", f"{DASHBOARD}/settings")
    headers = response.all_headers()
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    [cookie] = page.context.cookies()
    assert (cookie["name"], cookie["path"]) == ("ledger_billing", "/billing")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")


def test_a_used_link_is_refused(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    url = portal_session(page, live, account_id)["url"]
    page.goto(url)
    expect(page.get_by_test_id("customer-name")).to_be_visible()
    page.context.clear_cookies()
    response = page.goto(url)
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(REFUSED_LINK)
    expect(page.get_by_test_id("customer-name")).to_have_count(0)


def test_an_expired_link_is_refused(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    url = portal_session(page, live, account_id)["url"]
    with live.container.connection() as conn:
        conn.execute("UPDATE portal_links SET expires_at = now() - interval '1 second'")
    response = page.goto(url)
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(REFUSED_LINK)


def test_without_a_session_the_pages_say_it_ended(page: Page, live: LiveConsole) -> None:
    for path in ("/billing/", "/billing/session?token=made-up"):
        response = page.goto(live.url(path))
        assert response is not None
        assert response.status in (401, 403)
    response = page.goto(live.url("/billing/"))
    assert response is not None
    assert response.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text(ENDED)


def test_only_a_service_key_with_the_scope_gets_a_session_for_a_known_account(
    page: Page, live: LiveConsole
) -> None:
    account_id = usd_account(live.container.deps)
    route = live.url(f"/internal/accounts/{account_id}/billing-portal-sessions")
    for key in (KEYS[SUPPORT][0], KEYS["customer-carl"][0]):
        refused = page.request.post(route, headers={"Authorization": f"Bearer {key}"}, data={})
        assert refused.status == 403
    service = {"Authorization": f"Bearer {SERVICE_KEY}"}
    elsewhere = page.request.post(route, headers=service, data={"return_url": "https://evil.test/"})
    assert elsewhere.status == 422
    assert elsewhere.json()["code"] == "return_url_not_allowed"
    unknown = live.url(f"/internal/accounts/{uuid4()}/billing-portal-sessions")
    missing = page.request.post(unknown, headers=service, data={})
    assert missing.status == 404
    assert missing.json()["code"] == "account_not_found"


def test_a_form_without_the_session_csrf_token_is_refused(page: Page, live: LiveConsole) -> None:
    open_portal(page, live, usd_account(live.container.deps))
    page.locator("input[name=csrf_token]").evaluate("input => input.value = 'forged'")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form was not accepted")
    page.goto(live.url("/billing/"))
    expect(page.get_by_test_id("customer-name")).to_have_text("Ada Lovelace")  # still open


def test_sign_out_ends_the_session_and_goes_back_to_the_dashboard(
    page: Page, live: LiveConsole
) -> None:
    def dashboard(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>Dashboard</title>")

    page.route(f"{DASHBOARD}/**", dashboard)
    open_portal(page, live, usd_account(live.container.deps), f"{DASHBOARD}/home")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{DASHBOARD}/home")
    response = page.goto(live.url("/billing/"))
    assert response is not None
    assert response.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text(ENDED)


def test_sign_out_without_a_return_url_says_so(page: Page, live: LiveConsole) -> None:
    open_portal(page, live, usd_account(live.container.deps))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    assert page.context.cookies() == []
