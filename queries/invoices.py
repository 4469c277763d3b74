"""Reads over the `invoices` read model: an account's history, newest first, and one invoice.

Pages are keyset pages: the cursor names the last row shown (created_at, invoice_id) and is
signed (HMAC-SHA256, key from the caller) so a client can neither forge nor alter it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from ledger.errors import DomainError, ErrorKind
from ledger.invoices import DisplayStatus, Invoice, InvoiceStatus, display_status
from queries.ranges import check_ordered

_COLUMNS = (
    "invoice_id, number, status, created_at, finalized_at, due_at, paid_at,"
    " marked_uncollectible_at, voided_at, currency, total, credit_applied, amount_due,"
    " paid_out_of_band"
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]

# The SQL twin of ledger.invoices.display_status, one condition per status shown (tests
# check they agree). Plain column conditions rather than one CASE expression: the planner
# estimates them from the columns' statistics (a CASE compared to a value is guessed at
# 0.5 % of the rows), so a filtered page still walks the keyset index and stops after a
# page, instead of reading every invoice of the account in the filter's range and sorting.
_SHOWN_AS = {
    DisplayStatus.RECOVERED: "status = 'paid' AND marked_uncollectible_at IS NOT NULL",
    DisplayStatus.PAID: "status = 'paid' AND marked_uncollectible_at IS NULL",
    DisplayStatus.WRITTEN_OFF: "status = 'void' AND marked_uncollectible_at IS NOT NULL",
    DisplayStatus.VOID: "status = 'void' AND marked_uncollectible_at IS NULL",
    DisplayStatus.PAST_DUE: "status = 'open' AND due_at IS NOT NULL AND due_at < %(now)s",
    DisplayStatus.OPEN: "status = 'open' AND (due_at IS NULL OR due_at >= %(now)s)",
    DisplayStatus.DRAFT: "status = 'draft'",
    DisplayStatus.UNCOLLECTIBLE: "status = 'uncollectible'",
}
_DATE_COLUMNS = {"issued": "finalized_at", "due": "due_at", "paid": "paid_at"}
_MAC_SIZE = hashlib.sha256().digest_size


class InvalidCursor(DomainError):
    """The page cursor is not one this service issued for this account."""

    code = "invalid_cursor"
    kind = ErrorKind.INVALID


class InvoiceSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str | None
    status: str
    display_status: DisplayStatus
    created_at: datetime
    finalized_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    marked_uncollectible_at: datetime | None
    voided_at: datetime | None
    currency: str
    total: int
    credit_applied: int
    amount_due: int
    paid_out_of_band: bool


class InvoiceDetail(InvoiceSummary):
    lines: list[dict[str, Any]]
    credits_used: dict[str, int]
    attempts: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    finalized_version: int | None = None  # the stream version that issued it (None: a row
    # projected before this field existed, or a draft)


class InvoicePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[InvoiceSummary]
    next_cursor: str | None


class DateRange(BaseModel):
    """[start, end): from inclusive, to exclusive; either side may be open."""

    model_config = ConfigDict(frozen=True)

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        check_ordered(self.start, self.end)
        return self


class InvoiceFilters(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: DisplayStatus | None = None
    issued: DateRange = DateRange()
    due: DateRange = DateRange()
    paid: DateRange = DateRange()


_NO_FILTERS = InvoiceFilters()


def list_invoices(
    conn: Connection[Any],
    account_id: UUID,
    key: bytes,
    now: datetime,
    filters: InvoiceFilters = _NO_FILTERS,
    size: int = 20,
    cursor: str | None = None,
) -> InvoicePage:
    if not 1 <= size <= 100:
        raise ValueError("page size must be 1..100")
    where, params = _conditions(account_id, now, filters)
    if cursor is not None:
        params["after_at"], params["after_id"] = decode_cursor(cursor, account_id, key)
        where.append("(created_at, invoice_id) < (%(after_at)s, %(after_id)s)")
    params["limit"] = size + 1
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM invoices WHERE {' AND '.join(where)}"
        " ORDER BY created_at DESC, invoice_id DESC LIMIT %(limit)s",
        params,
    ).fetchall()
    items = [InvoiceSummary(**_fields(r, now)) for r in rows[:size]]
    more = len(rows) > size
    last = items[-1] if items and more else None
    next_cursor = encode_cursor(last.created_at, last.invoice_id, account_id, key) if last else None
    return InvoicePage(items=items, next_cursor=next_cursor)


def get_invoice(
    conn: Connection[Any], account_id: UUID, invoice_id: str, now: datetime
) -> InvoiceDetail | None:
    row = conn.execute(
        f"SELECT {_COLUMNS}, detail FROM invoices WHERE account_id = %s AND invoice_id = %s",
        (account_id, invoice_id),
    ).fetchone()
    if row is None:
        return None
    detail = row[-1]
    parts = {k: detail[k] for k in ("lines", "credits_used", "attempts", "timeline")}
    issued = detail.get("finalized_version")
    return InvoiceDetail(**_fields(row[:-1], now), **parts, finalized_version=issued)


def _conditions(
    account_id: UUID, now: datetime, filters: InvoiceFilters
) -> tuple[list[str], dict[str, Any]]:
    where = ["account_id = %(account_id)s"]
    params: dict[str, Any] = {"account_id": account_id, "now": now}
    if filters.status is not None:
        where.append(f"({_SHOWN_AS[filters.status]})")
    for name, column in _DATE_COLUMNS.items():
        bounds: DateRange = getattr(filters, name)
        if bounds.start is not None:
            where.append(f"{column} >= %({name}_start)s")
            params[f"{name}_start"] = bounds.start
        if bounds.end is not None:
            where.append(f"{column} < %({name}_end)s")
            params[f"{name}_end"] = bounds.end
    return where, params


def _fields(row: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    fields = dict(zip(_NAMES, row, strict=True))
    fields["display_status"] = shown_status(fields, now)
    return fields


def shown_status(fields: dict[str, Any], now: datetime) -> DisplayStatus:
    """ledger.invoices.display_status itself, on the columns it looks at."""
    invoice = Invoice(
        invoice_id=fields["invoice_id"],
        currency=fields["currency"],
        lines=(),
        created_at=fields["created_at"],
        status=InvoiceStatus(fields["status"]),
        due_at=fields["due_at"],
        marked_uncollectible_at=fields["marked_uncollectible_at"],
    )
    return display_status(invoice, now)


def encode_cursor(created_at: datetime, invoice_id: str, account_id: UUID, key: bytes) -> str:
    payload = json.dumps([created_at.isoformat(), invoice_id]).encode()
    token = _mac(key, account_id, payload) + payload
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(cursor: str, account_id: UUID, key: bytes) -> tuple[datetime, str]:
    try:
        token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError as exc:
        raise InvalidCursor() from exc
    mac, payload = token[:_MAC_SIZE], token[_MAC_SIZE:]
    if not hmac.compare_digest(mac, _mac(key, account_id, payload)):
        raise InvalidCursor()
    at, invoice_id = json.loads(payload)
    return datetime.fromisoformat(at), str(invoice_id)


def _mac(key: bytes, account_id: UUID, payload: bytes) -> bytes:
    return hmac.digest(key, account_id.bytes + payload, "sha256")
