"""Return URLs, one allow-list for the billing pages and the payment page (LEDGER_RETURN_URLS,
and the ledger's own pages): scheme and host compare without case, a path at its boundary;
a customer's browser session keeps its account and return URL. (The payment page's own
cases: tests/unit/test_pay_links.py.)"""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.http.browser.sessions import BrowserSessions
from adapters.http.return_urls import (
    ReturnUrlNotAllowed,
    origin,
    require_allowed,
    return_origins,
)
from adapters.redis.sessions import MemorySessionStore
from adapters.settings import Settings

SETTINGS = Settings(
    database_url="postgresql://h/db",
    return_urls=("https://dashboard.example.com", "http://localhost:3000/app/"),
    console_url="https://billing.example",
)


def test_an_origin_is_scheme_host_and_port() -> None:
    assert origin("https://Dashboard.Example.com/a/b?c=d") == "https://dashboard.example.com"
    assert origin("http://localhost:3000") == "http://localhost:3000"
    assert origin("javascript:alert(1)") == ""
    assert origin("/relative") == ""
    assert return_origins(SETTINGS) == ["http://localhost:3000", "https://dashboard.example.com"]


@pytest.mark.parametrize(
    "url",
    [
        "https://dashboard.example.com/settings",
        "https://Dashboard.Example.com/settings",
        "http://localhost:3000/app/billing",
        "https://billing.example/billing/",
    ],
)
def test_a_return_url_under_an_allowed_prefix_is_kept(url: str) -> None:
    assert require_allowed(SETTINGS, url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://dashboard.example.com.evil.test/",
        "http://dashboard.example.com/",  # another scheme
        "https://dashboard.example.com:8443/",  # another port
        "https://evil.test/?https://dashboard.example.com",
        "http://localhost:3000/other",  # outside the allowed path
        "http://localhost:3000/App/",  # the path compares with case
        "javascript:alert(1)",
        "//dashboard.example.com/",
        "https://dashboard.example.com\\@evil.test/",
        "https://[dashboard.example.com",  # not a URL at all: refused, never a 500
    ],
)
def test_a_return_url_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(ReturnUrlNotAllowed):
        require_allowed(SETTINGS, url)


def test_with_no_list_only_the_ledgers_own_pages_are_allowed() -> None:
    bare = SETTINGS.model_copy(update={"return_urls": ()})
    assert require_allowed(bare, "https://billing.example/billing/") is not None
    with pytest.raises(ReturnUrlNotAllowed):
        require_allowed(bare, "https://dashboard.example.com/")
    assert return_origins(bare) == []


def test_a_customer_session_keeps_its_account_and_return_url() -> None:
    sessions = BrowserSessions(MemorySessionStore(), idle_s=60, absolute_s=300)
    account_id = uuid4()
    started = sessions.start("billing-portal:x", account_id, "https://dashboard.example.com/")
    found = sessions.find(started.session_id)
    assert found == started
    assert found is not None
    assert found.account_id == account_id
    assert sessions.find(sessions.start("agent").session_id) is not None
