"""Billing portal sessions for the Dashboard (scope `portal:sessions`): a short-lived,
single-use URL that opens the customer's billing pages on one account."""

from collections.abc import Callable
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.portal.links import PortalSession, make_portal_link
from adapters.http.surface import Call, Feature, HttpSurface, Route


class PortalSessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    return_url: str | None = Field(default=None, max_length=2000)


def _create(s: HttpSurface) -> Callable[..., PortalSession]:
    caller = s.caller("portal:sessions")

    def create(
        account_id: UUID, body: PortalSessionBody, call: Call = Depends(caller)
    ) -> PortalSession:
        return make_portal_link(call.container, account_id, call.who.id, body.return_url)

    return create


SESSIONS = Feature(
    (
        Route(
            "POST",
            "/accounts/{account_id}/billing-portal-sessions",
            _create,
            "{surface}_billing_portal_session",
            "Open a billing portal session",
            "A short-lived, single-use URL (LEDGER_PORTAL_LINK_TTL_S, 300 s by default) that"
            " opens the customer's billing pages (/billing/) on this account, as the account's"
            " customer. `return_url`, when given, must be allowed (LEDGER_RETURN_URLS;"
            " else 422 `return_url_not_allowed`); the pages"
            " link back to it. 404 `account_not_found` for an unknown account.",
            status_code=201,
        ),
    )
)
