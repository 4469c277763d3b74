"""What the plan and bad-debt pages read besides the /v1 answers: the session's account's
subscriptions, default payment method, how the subscriptions are paid and bad debt, from
the `account_detail` and `invoices` read models (queries/account_detail.py), for the
session's account only. `min_version` (a write's answer) waits, bounded, until the read
model has the write."""

from __future__ import annotations

from fastapi import Request

from adapters.http.browser.sessions import BrowserSession
from adapters.http.common import wait_for
from adapters.http.portal.acting import as_customer
from adapters.http.portal.collection_words import PaidHow, paid_how
from queries.account_detail import (
    AccountDetailView,
    BadDebtView,
    MethodView,
    SubscriptionView,
    account_detail,
    bad_debt,
)
from queries.accounts import AccountView


def own_account(request: Request, session: BrowserSession) -> AccountView:
    """The session's account, as the customer's `GET /v1/accounts/{id}` answers it (the
    header shows its name)."""
    account: AccountView = as_customer(request, session, "get_own_account")
    return account


def _detail(
    request: Request, session: BrowserSession, min_version: int | None = None
) -> AccountDetailView | None:
    container = request.app.state.container
    assert session.account_id is not None  # SignedIn guarantees it
    with container.connection() as conn:
        wait_for(conn, "account_detail", session.account_id, min_version)
        return account_detail(conn, session.account_id, container.deps.clock.now())


def subscriptions_of(
    request: Request, session: BrowserSession, min_version: int | None = None
) -> tuple[SubscriptionView, ...]:
    """Active first, then by start."""
    detail = _detail(request, session, min_version)
    return detail.subscriptions if detail else ()


def collection_of(request: Request, session: BrowserSession) -> tuple[str, MethodView | None]:
    """The account's collection path and its default method ("" and None: not known yet)."""
    detail = _detail(request, session)
    return (detail.collection_path, detail.default_method) if detail else ("", None)


def paid_of(request: Request, session: BrowserSession) -> PaidHow:
    """How the renewing subscriptions are paid: the account's collection path in words."""
    return paid_how(*collection_of(request, session))


def default_method_of(request: Request, session: BrowserSession) -> MethodView | None:
    """The method a payment made now is charged to, if it can be used."""
    detail = _detail(request, session)
    method = detail.default_method if detail else None
    return method if method is not None and method.usable else None


def bad_debt_of(request: Request, session: BrowserSession) -> BadDebtView | None:
    """The uncollectible invoices' count, total and since when; None: no bad debt."""
    assert session.account_id is not None
    with request.app.state.container.connection() as conn:
        return bad_debt(conn, session.account_id)
