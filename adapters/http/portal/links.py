"""Billing portal sessions' URLs (POST /internal/accounts/{id}/billing-portal-sessions,
`ledger portal link`): a short-lived, single-use URL that opens the customer's billing
pages on one account, as Stripe's billing portal sessions do. A `return_url` (where the
pages send the customer back) must be allowed (adapters/http/return_urls.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID

from pydantic import BaseModel

from adapters.bootstrap import Container
from adapters.http.return_urls import require_allowed
from adapters.postgres.portal_links import PostgresPortalLinks
from commands.base import load_account

PREFIX = "/billing"
OPEN_PATH = f"{PREFIX}/session"


class PortalSession(BaseModel):
    account_id: UUID
    url: str
    return_url: str | None
    expires_at: datetime


def make_portal_link(
    container: Container,
    account_id: UUID,
    made_by: str,
    return_url: str | None = None,
    base_url: str | None = None,
) -> PortalSession:
    """`base_url`: where the browser reaches the ledger (LEDGER_CONSOLE_URL by default). An
    unknown account answers `account_not_found`."""
    settings = container.settings
    load_account(container.deps.app, account_id)  # the store, not a read model that lags
    checked = None if return_url is None else require_allowed(settings, return_url)
    ttl = timedelta(seconds=settings.portal_link_ttl_s)
    token = PostgresPortalLinks(container.connection).create(account_id, checked, made_by, ttl)
    base = (base_url or settings.console_url).rstrip("/")
    return PortalSession(
        account_id=account_id,
        url=f"{base}{OPEN_PATH}?{urlencode({'token': token})}",
        return_url=checked,
        expires_at=datetime.now(UTC) + ttl,
    )
