"""Payment page links and return URLs: signed for one session and one return URL, expiring,
and the allow-list matched at a path boundary (no open redirect); the simulated Turnstile
passes only Cloudflare's dummy token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from adapters.http.pay.csp import page_csp
from adapters.http.pay.links import PaymentLinkInvalid, back_to, checked, make_link
from adapters.http.return_urls import ReturnUrlNotAllowed, require_allowed
from adapters.settings import Settings
from adapters.simulated.human_check import DUMMY_TOKEN, SimulatedHumanCheck

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SETTINGS = Settings(
    database_url="postgresql://h/db",
    return_urls=("https://shop.example/account/", "https://app.example"),
    pay_link_secret=SecretStr("unit-secret"),
    console_url="https://billing.example",
)


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/account/done",
        "https://app.example",
        "https://app.example/after?x=1",
        "https://billing.example/billing/methods",
    ],
)
def test_allowed_return_urls(url: str) -> None:
    assert require_allowed(SETTINGS, url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/other",
        "https://app.example.evil/",
        "https://app.exampleevil.com",
        "http://app.example/",
        "javascript:alert(1)//https://app.example",
        "https://billing.example.evil/",
        "/relative/path",
        "http://[",  # not a URL at all (an unclosed IPv6 host): refused, never a 500
    ],
)
def test_refused_return_urls(url: str) -> None:
    with pytest.raises(ReturnUrlNotAllowed):
        require_allowed(SETTINGS, url)


def test_a_link_works_for_its_session_and_return_url_until_it_expires() -> None:
    link = make_link(SETTINGS, "s-1", "https://app.example/done", NOW + timedelta(minutes=30))
    assert checked(SETTINGS, "s-1", link.return_url, link.until, link.sig, NOW) == link
    for session, to, until, at in (
        ("s-2", link.return_url, link.until, NOW),
        ("s-1", "https://app.example/elsewhere", link.until, NOW),
        ("s-1", link.return_url, link.until + 3600, NOW),
        ("s-1", link.return_url, link.until, NOW + timedelta(minutes=31)),
    ):
        with pytest.raises(PaymentLinkInvalid):
            checked(SETTINGS, session, to, until, link.sig, at)
    other = SETTINGS.model_copy(update={"pay_link_secret": SecretStr("another")})
    with pytest.raises(PaymentLinkInvalid):
        checked(other, "s-1", link.return_url, link.until, link.sig, NOW)


def test_a_return_to_the_billing_pages_carries_the_accounts_version() -> None:
    own = "https://billing.example/billing/payment-methods?done=added"
    assert back_to(SETTINGS, own, 7) == f"{own}&v=7"
    assert back_to(SETTINGS, f"{own}&v=2", 7) == f"{own}&v=7"
    assert back_to(SETTINGS, "https://billing.example/billing/", 7) == (
        "https://billing.example/billing/?v=7"
    )
    for elsewhere in (
        "https://app.example/done?x=1",
        "https://billing.example/healthz",
        "https://billing.example.evil/billing/",
    ):
        assert back_to(SETTINGS, elsewhere, 7) == elsewhere


def test_the_csp_names_the_script_urls_origins_and_only_self_when_simulated() -> None:
    csp = page_csp(SETTINGS)
    assert "script-src 'self' https://js.stripe.com https://js.braintreegateway.com" in csp
    assert "https://challenges.cloudflare.com https://www.paypal.com;" in csp
    assert "'unsafe-inline'" not in csp
    simulated = page_csp(SETTINGS, simulated=True)
    assert "script-src 'self';" in simulated
    assert "connect-src 'self';" in simulated
    assert "frame-src 'none';" in simulated


def test_the_simulated_turnstile_passes_only_the_dummy_token() -> None:
    check = SimulatedHumanCheck()
    assert check.verify(DUMMY_TOKEN, None, "k").passed
    assert not check.verify("anything-else", None, "k").passed
