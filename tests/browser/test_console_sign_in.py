"""Signing in to the support console in chromium: a link signs in once and only before it
expires, only support principals get in, the session's cookie is HttpOnly, Secure and
SameSite=Lax, forms without the session's CSRF token are refused, and sessions end on
logout and after their idle time."""

from __future__ import annotations

import time

import pytest
from playwright._impl._api_structures import SetCookieParam
from playwright.sync_api import Page, expect

from adapters.http.console.links import NotASupportPrincipal
from tests.browser.conftest import CUSTOMER, KEYS, SUPPORT, LiveConsole


def sign_in(page: Page, live: LiveConsole) -> None:
    page.goto(live.link())
    expect(page.get_by_test_id("signed-in-as")).to_have_text(SUPPORT)


def test_a_link_signs_a_support_principal_in(page: Page, live: LiveConsole) -> None:
    response = page.goto(live.link())
    assert response is not None
    assert page.url == live.url("/console/")  # the token left the address bar
    expect(page).to_have_title("Find an account · NinjaPanel")
    expect(page.get_by_role("link", name="NinjaPanel support console")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(SUPPORT)
    headers = response.all_headers()
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    [cookie] = page.context.cookies()
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")
    assert cookie["path"] == "/console"


def test_a_used_link_is_refused(page: Page, live: LiveConsole) -> None:
    link = live.link()
    page.goto(link)
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    page.context.clear_cookies()
    response = page.goto(link)
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading")).to_have_text("This sign-in link cannot be used")
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def test_an_expired_link_is_refused(page: Page, live: LiveConsole) -> None:
    link = live.link()
    with live.container.connection() as conn:
        conn.execute("UPDATE console_links SET expires_at = now() - interval '1 second'")
    response = page.goto(link)
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading")).to_have_text("This sign-in link cannot be used")


def test_a_made_up_link_is_refused(page: Page, live: LiveConsole) -> None:
    response = page.goto(live.url("/console/sign-in?token=made-up"))
    assert response is not None
    assert response.status == 403


def test_a_customer_principal_cannot_open_any_console_page(page: Page, live: LiveConsole) -> None:
    with pytest.raises(NotASupportPrincipal):
        live.link(CUSTOMER)
    page.set_extra_http_headers({"Authorization": f"Bearer {KEYS[CUSTOMER][0]}"})
    for path in ("/console/", "/console/?q=carl"):
        response = page.goto(live.url(path))
        assert response is not None
        assert response.status == 401
        expect(page.get_by_role("heading")).to_have_text("Please sign in")


def test_a_session_ends_when_its_principal_is_no_longer_support(
    page: Page, live: LiveConsole
) -> None:
    sign_in(page, live)
    live.app.state.api_keys = type(live.keys)([])  # every key withdrawn
    response = page.goto(live.url("/console/"))
    assert response is not None
    assert response.status == 403
    live.app.state.api_keys = live.keys
    response = page.goto(live.url("/console/"))
    assert response is not None
    assert response.status == 401  # the session was ended, not just refused once


def test_a_form_without_its_csrf_token_is_refused(page: Page, live: LiveConsole) -> None:
    sign_in(page, live)
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading")).to_have_text("This form was not accepted")
    page.goto(live.url("/console/"))
    expect(page.get_by_test_id("signed-in-as")).to_have_text(SUPPORT)  # still signed in


def test_a_form_with_another_sessions_token_is_refused(page: Page, live: LiveConsole) -> None:
    sign_in(page, live)
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'forged' }")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading")).to_have_text("This form was not accepted")


def test_logout_ends_the_session(page: Page, live: LiveConsole) -> None:
    sign_in(page, live)
    [cookie] = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading")).to_have_text("You are signed out")
    assert page.context.cookies() == []
    old = SetCookieParam(name=cookie["name"], value=cookie["value"], url=live.url("/console/"))
    page.context.add_cookies([old])  # the old cookie, replayed
    response = page.goto(live.url("/console/"))
    assert response is not None
    assert response.status == 401


def test_a_session_expires_when_idle(page: Page, live: LiveConsole) -> None:
    sign_in(page, live)
    later = time.time() + live.sessions.idle_s + 1
    live.sessions.now = lambda: later
    response = page.goto(live.url("/console/"))
    assert response is not None
    assert response.status == 401
    expect(page.get_by_role("heading")).to_have_text("Please sign in")


def test_an_sso_front_door_makes_a_link(page: Page, live: LiveConsole) -> None:
    made = page.request.post(
        live.url("/internal/console/links"),
        data={"principal_id": SUPPORT},
        headers={"Authorization": f"Bearer {KEYS['front-door'][0]}"},
    )
    assert made.status == 201
    page.goto(made.json()["url"])
    expect(page.get_by_test_id("signed-in-as")).to_have_text(SUPPORT)
    refused = page.request.post(
        live.url("/internal/console/links"),
        data={"principal_id": CUSTOMER},
        headers={"Authorization": f"Bearer {KEYS['front-door'][0]}"},
    )
    assert refused.status == 422
    assert refused.json()["code"] == "not_a_support_principal"
