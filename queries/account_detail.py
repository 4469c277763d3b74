"""What a person reads about one account's subscriptions, payment methods, credits,
disputes and bad debt: the `account_detail` read model (methods, subscriptions, credits),
the `invoices` read model (disputes, with the payment and invoice they belong to; the
uncollectible invoices) and the time, which decides what no event says: a card that expired
by its date or expires soon, a period that ended without a renewal.

A card is valid to the end of its expiry month (UTC); it `expires_soon` when that month is
this month or the next (`EXPIRES_SOON_MONTHS`): a monthly renewal may find it expired.
The collection path is the account's, derived from its default method by the domain's own
rule (`ledger.methods.collection_path`): every active subscription is collected that way.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

from ledger.methods import (
    MethodKind,
    VaultPath,
    collection_path,
    default_after_removal,
    needed,
)

EXPIRES_SOON_MONTHS = 1  # this month and the next


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SubscriptionView(_Frozen):
    subscription_id: str
    plan_id: str
    status: str  # active, canceled
    period_start: datetime
    period_end: datetime
    cancel_at_period_end: bool
    canceled_at: datetime | None
    subscribed_at: datetime
    renewal_due: bool  # active, its period ended, and no renewal recorded yet


class MethodView(_Frozen):
    method_id: str
    kind: str  # card, paypal
    processor_ref: str
    default: bool
    state: str  # active, expired, revoked, removed
    state_changed_at: datetime | None
    added_at: datetime
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    valid_until: datetime | None  # the end of the expiry month (cards)
    expiry: str | None  # "expired" (by its date or recorded so), "expires_soon", None
    payer_email: str | None
    billing_agreement_id: str | None
    vault_path: str | None  # billing_agreement, legacy (PayPal); None for cards

    @property
    def usable(self) -> bool:
        return self.state == "active"


class CreditView(_Frozen):
    credit_id: str
    amount: int
    currency: str
    used: int  # by invoices (given back when an invoice using it was voided)
    remaining: int  # usable now; 0 once revoked or expired
    taken_back: int  # what remained when it was revoked or expired
    granted_at: datetime
    expires_at: datetime | None
    status: str  # active, revoked, expired
    closed_at: datetime | None
    granted_by: str  # actor kind and id
    reason: str | None


class DisputeView(_Frozen):
    dispute_id: str
    invoice_id: str
    invoice_number: str | None
    attempt_id: str
    processor: str
    processor_payment_id: str | None
    payment_amount: int
    amount: int
    currency: str
    status: str  # needs_response, won, lost
    opened_at: datetime
    closed_at: datetime | None


class BadDebtView(_Frozen):
    invoices: int  # uncollectible now
    amount: int
    currency: str
    since: datetime  # the oldest of them was marked uncollectible


class AccountDetailView(_Frozen):
    collection_path: str  # charge_automatically, send_invoice
    default_method: MethodView | None
    subscriptions: tuple[SubscriptionView, ...]  # active first, then by start
    methods: tuple[MethodView, ...]  # in the order they were added
    credits: tuple[CreditView, ...]  # newest first
    disputes: tuple[DisputeView, ...]  # newest first
    bad_debt: BadDebtView | None

    @property
    def renewing(self) -> bool:
        """A subscription will be paid again (active, not ending at its period's end)."""
        return any(s.status == "active" and not s.cancel_at_period_end for s in self.subscriptions)


def account_detail(
    conn: Connection[Any], account_id: UUID, now: datetime
) -> AccountDetailView | None:
    row = conn.execute(
        "SELECT default_method_id, methods, subscriptions, credits FROM account_detail"
        " WHERE account_id = %s",
        (account_id,),
    ).fetchone()
    if row is None:
        return None
    default_id, methods, subscriptions, credits = row
    shown = sorted(
        (_method(m, m["method_id"] == default_id, now) for m in methods.values()),
        key=lambda m: int(methods[m.method_id]["added_seq"]),
    )
    return AccountDetailView(
        collection_path=_path(shown, default_id),
        default_method=next((m for m in shown if m.default), None),
        subscriptions=tuple(
            sorted(
                (_subscription(s, now) for s in subscriptions.values()),
                key=lambda s: (s.status != "active", s.subscribed_at, s.subscription_id),
            )
        ),
        methods=tuple(shown),
        credits=tuple(
            sorted((_credit(c) for c in credits.values()), key=lambda c: c.granted_at, reverse=True)
        ),
        disputes=disputes(conn, account_id),
        bad_debt=bad_debt(conn, account_id),
    )


def _path(methods: list[MethodView], default_id: str | None) -> str:
    return collection_path(_standings(methods), default_id).value


def after_removing(detail: AccountDetailView, method_id: str) -> tuple[MethodView | None, str]:
    """The default method and the collection path once `method_id` is removed, by the
    domain's own rules (`ledger.methods.default_after_removal`, `collection_path`): what a
    customer is told before confirming a removal."""
    current = detail.default_method.method_id if detail.default_method else None
    standings = _standings(list(detail.methods))
    new_default = default_after_removal(standings, method_id, current)
    path = collection_path(standings, new_default).value  # never the removed one
    return next((m for m in detail.methods if m.method_id == new_default), None), path


def needed_for_renewals(detail: AccountDetailView, method_id: str) -> bool:
    """Whether removing `method_id` is refused because a renewing subscription needs it
    (the domain's own rule, `ledger.methods.needed`): the page says so before asking."""
    return needed(_standings(list(detail.methods)), method_id, detail.renewing)


def _standings(methods: list[MethodView]) -> dict[str, _Standing]:
    """`methods` in the order they were added (as AccountDetailView keeps them)."""
    return {m.method_id: _Standing(m, seq) for seq, m in enumerate(methods, start=1)}


class _Standing:
    """A shown method as ledger.methods' rules read it (a MethodStanding)."""

    def __init__(self, method: MethodView, added_seq: int) -> None:
        self.kind = MethodKind(method.kind)
        self.added_seq = added_seq
        self.usable = method.usable
        self.vault_path = VaultPath(method.vault_path) if method.vault_path else None


def _subscription(s: dict[str, Any], now: datetime) -> SubscriptionView:
    fields = {k: s.get(k) for k in SubscriptionView.model_fields if k != "renewal_due"}
    view = SubscriptionView(**fields, renewal_due=False)
    due = view.status == "active" and view.period_end <= now
    return view.model_copy(update={"renewal_due": due})


def _method(m: dict[str, Any], default: bool, now: datetime) -> MethodView:
    year, month = m.get("exp_year"), m.get("exp_month")
    fields = {k: m.get(k) for k in MethodView.model_fields}
    fields.update(default=default, valid_until=None, expiry=_expiry(m["state"], year, month, now))
    if year and month:
        fields["valid_until"] = _end_of_month(year, month)
    return MethodView(**fields)


def _expiry(state: str, year: int | None, month: int | None, now: datetime) -> str | None:
    """Expired (recorded so, or by its date), expires soon, or neither (or no date)."""
    if state == "expired":
        return "expired"
    if not (year and month) or state != "active":
        return None
    months_left = (year - now.year) * 12 + month - now.month
    if months_left < 0:
        return "expired"
    return "expires_soon" if months_left <= EXPIRES_SOON_MONTHS else None


def _end_of_month(year: int, month: int) -> datetime:
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, last, tzinfo=UTC) + timedelta(days=1)


def _credit(c: dict[str, Any]) -> CreditView:
    actor = c["granted_by"]
    used = c["amount"] - c["remaining"] - c["taken_back"]
    fields = {k: c.get(k) for k in CreditView.model_fields if k in c}
    fields.update(used=used, granted_by=f"{actor['kind']} {actor['id']}")
    return CreditView(**fields)


def disputes(conn: Connection[Any], account_id: UUID) -> tuple[DisputeView, ...]:
    """Every dispute of the account's payments, as the invoices read model keeps them."""
    rows = conn.execute(
        "SELECT i.invoice_id, i.number, i.currency, a FROM invoices i,"
        " jsonb_array_elements(i.detail->'attempts') a"
        " WHERE i.account_id = %s AND jsonb_typeof(a->'dispute') = 'object'",
        (account_id,),
    ).fetchall()
    found = [_dispute(invoice_id, number, currency, a) for invoice_id, number, currency, a in rows]
    return tuple(sorted(found, key=lambda d: d.opened_at, reverse=True))


def _dispute(invoice_id: str, number: str | None, currency: str, a: dict[str, Any]) -> DisputeView:
    d = a["dispute"]
    return DisputeView(
        dispute_id=d["dispute_id"],
        invoice_id=invoice_id,
        invoice_number=number,
        attempt_id=a["attempt_id"],
        processor=a["processor"],
        processor_payment_id=a.get("processor_payment_id"),
        payment_amount=a["amount"],
        amount=d["amount"],
        currency=currency,
        status=d["status"],
        opened_at=d["opened_at"],
        closed_at=d["closed_at"],
    )


def bad_debt(conn: Connection[Any], account_id: UUID) -> BadDebtView | None:
    """The invoices that make the account's bad debt now (none: not in bad debt)."""
    row = conn.execute(
        "SELECT count(*), sum(amount_due), min(currency), min(marked_uncollectible_at)"
        " FROM invoices WHERE account_id = %s AND status = 'uncollectible'",
        (account_id,),
    ).fetchone()
    if row is None or not row[0]:
        return None
    count, amount, currency, since = row
    return BadDebtView(invoices=count, amount=amount, currency=currency, since=since)


def methods_by_id(conn: Connection[Any], account_id: UUID, now: datetime) -> dict[str, MethodView]:
    """Every method the account ever added, removed ones too (an invoice names the method a
    payment used, whatever became of it since)."""
    row = conn.execute(
        "SELECT default_method_id, methods FROM account_detail WHERE account_id = %s",
        (account_id,),
    ).fetchone()
    if row is None:
        return {}
    default_id, methods = row
    return {k: _method(m, k == default_id, now) for k, m in methods.items()}
