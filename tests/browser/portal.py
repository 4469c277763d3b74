"""What the billing pages' browser tests share: a portal session opened as the Dashboard
opens one (POST /internal/accounts/{id}/billing-portal-sessions with a service key), then
the customer's browser using its URL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from playwright.sync_api import Page, expect

from tests.browser.conftest import KEYS, LiveConsole

SERVICE_KEY = KEYS["front-door"][0]


def portal_session(
    page: Page, live: LiveConsole, account_id: UUID, return_url: str | None = None
) -> dict[str, Any]:
    """The route's 201 answer: `url`, `expires_at`, ..."""
    response = page.request.post(
        live.url(f"/internal/accounts/{account_id}/billing-portal-sessions"),
        headers={"Authorization": f"Bearer {SERVICE_KEY}"},
        data={"return_url": return_url} if return_url else {},
    )
    assert response.status == 201, response.text()
    answer: dict[str, Any] = response.json()
    return answer


def open_portal(
    page: Page, live: LiveConsole, account_id: UUID, return_url: str | None = None
) -> None:
    """The customer's browser on the overview of `account_id`'s billing pages."""
    live.caught_up()
    page.goto(portal_session(page, live, account_id, return_url)["url"])
    expect(page.get_by_test_id("customer-name")).to_be_visible()
