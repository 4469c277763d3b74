"""The payment page's entry: a signed link made with the session, a return URL on the
allow-list only, the page's CSP naming exactly the configured script origins, and a link
that was tampered with or has expired refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import Page, expect

from tests.braintree_gateway import LocalBraintreeGateway
from tests.browser.pay import LivePay
from tests.fakes.clock import FixedClock


def test_a_return_url_not_on_the_allow_list_is_refused_and_nothing_is_started(
    pay_live: LivePay,
) -> None:
    account_id = pay_live.open_account()
    for elsewhere in (
        "https://evil.example/done",
        pay_live.standins.base + "/other/",
        pay_live.standins.base + "/shop.evil/",
    ):
        refused = pay_live.start(account_id, return_url=elsewhere)
        assert (refused.status_code, refused.json()["code"]) == (422, "return_url_not_allowed")
    not_a_page = pay_live.start(account_id, return_url="javascript:alert(1)")
    assert not_a_page.status_code == 422  # not even an http(s) URL: refused by the schema
    assert pay_live.container.app.events.get(account_id)  # the account, and no card setup
    without = pay_live.start(account_id)
    assert without.status_code == 201
    assert without.json()["page_url"] is None


def test_the_page_allows_exactly_the_configured_script_origins(
    page: Page, pay_live: LivePay, pay_braintree: LocalBraintreeGateway
) -> None:
    account_id = pay_live.open_account()
    response = page.goto(pay_live.page_url(account_id))
    assert response is not None
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    base = pay_live.standins.base
    assert directives["script-src"] == f"'self' {base}"
    apis = f"{pay_live.container.settings.stripe_api_base} {base} {pay_braintree.base_url}"
    assert directives["connect-src"] == f"'self' {apis}"  # localstripe, Turnstile, Braintree
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.reload()
    expect(page.get_by_label("Card number")).to_be_visible()  # the stand-in ran
    assert blocked == []


def test_a_tampered_or_expired_link_is_refused(
    page: Page, pay_live: LivePay, clock: FixedClock
) -> None:
    account_id = pay_live.open_account()
    url = pay_live.page_url(account_id)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    elsewhere = {**query, "to": pay_live.standins.base + "/shop/other"}
    page.goto(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(elsewhere)}")
    expect(page.get_by_role("heading", name="This payment link cannot be used")).to_be_visible()
    clock.advance(hours=1)  # the session (and so its link) lasts 30 minutes
    page.goto(url)
    expect(page.get_by_role("heading", name="This payment link cannot be used")).to_be_visible()
