"""An account's payment facts as the account health read model keeps them (its `detail`):
payment attempts not settled yet (in flight, or waiting for the customer to authenticate),
payment methods (default, usable, vault path) and subscriptions with their status. Read by
the support console's account page, which shows methods and subscriptions from the fuller
`account_detail` read model (queries/account_detail.py); an attempt names its invoice by
number, from the `invoices` read model."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict


class OpenAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt_id: str
    invoice_id: str
    invoice_number: str | None  # from the invoices read model (None: not there yet)
    purpose: str  # collection, on_session, bad_debt
    status: str  # pending (in flight), requires_action (waiting for the customer), failed
    started_at: datetime
    action_expires_at: datetime | None


class MethodFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    method_id: str
    kind: str
    default: bool
    usable: bool
    vault_path: str  # "legacy" for PayPal vaulted the old way (until its token migration)


class SubscriptionFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    subscription_id: str
    status: str


class PaymentFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempts: tuple[OpenAttempt, ...]  # oldest first
    methods: tuple[MethodFact, ...]  # in the order they were added
    subscriptions: tuple[SubscriptionFact, ...]


def payment_facts(conn: Connection[Any], account_id: UUID) -> PaymentFacts | None:
    row = conn.execute(
        "SELECT detail FROM account_health WHERE account_id = %s", (account_id,)
    ).fetchone()
    return _facts(row[0], _numbers(conn, account_id, row[0])) if row else None


def _numbers(conn: Connection[Any], account_id: UUID, detail: dict[str, Any]) -> dict[str, str]:
    """The numbers of the invoices the open attempts are for."""
    ids = sorted({a["invoice_id"] for a in detail["attempts"].values()})
    rows = conn.execute(
        "SELECT invoice_id, number FROM invoices"
        " WHERE account_id = %s AND invoice_id = ANY(%s) AND number IS NOT NULL",
        (account_id, ids),
    ).fetchall()
    return dict(rows)


def _facts(detail: dict[str, Any], numbers: dict[str, str]) -> PaymentFacts:
    attempts = sorted(
        (
            _attempt(k, a, numbers.get(a["invoice_id"]))
            for k, a in detail["attempts"].items()
            if a["status"] != "failed"
        ),
        key=lambda a: a.started_at,
    )
    default = detail["default_method_id"]
    methods = sorted(detail["methods"].items(), key=lambda item: item[1]["added_seq"])
    return PaymentFacts(
        attempts=tuple(attempts),
        methods=tuple(
            MethodFact(
                method_id=k,
                kind=m["kind"],
                default=k == default,
                usable=m["usable"],
                vault_path="legacy" if m.get("legacy") else "current",
            )
            for k, m in methods
        ),
        subscriptions=tuple(
            SubscriptionFact(subscription_id=k, status=s)
            for k, s in sorted(detail["subscriptions"].items())
        ),
    )


def _attempt(attempt_id: str, a: dict[str, Any], number: str | None) -> OpenAttempt:
    expires = a.get("action_expires_at")
    return OpenAttempt(
        attempt_id=attempt_id,
        invoice_id=a["invoice_id"],
        invoice_number=number,
        purpose=a["purpose"],
        status=a["status"],
        started_at=datetime.fromisoformat(a["started_at"]),
        action_expires_at=datetime.fromisoformat(expires) if expires else None,
    )
