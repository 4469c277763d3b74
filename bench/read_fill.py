"""Read-model tables filled fast, by COPY, with rows shaped as the projections write them.

The invoice rows are copies of rows the `invoices` projection wrote for the long-history
accounts (a renewal paid at once, one paid on dunning's retry after a decline), moved to
another account and month: every id and date changed, the JSON detail included, so each
row is as wide as a real one (~1.4 kB). Some are turned void, uncollectible or (in the last
month) open, the columns and detail changed as the projection's own steps change them. They
are written month by month, every account's invoices of a month together, as renewals
arrive: one account's invoices are spread over the table, not stored side by side.

The `accounts` and `account_health` rows are made by the projections' own row types
(`AccountRow`, `HealthFacts.as_params`), with a tracking row per projection in
`projection_streams`, as the projections leave them."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import psycopg

from ledger.methods import MethodKind
from projections.accounts import AccountRow
from projections.health import AttemptFacts, HealthFacts, InvoiceFacts, MethodFacts
from projections.invoices import InvoiceRow

MONTHS = 24
BIG_ACCOUNT_INVOICES = 3000
FILL_NAMESPACE = UUID("5b0f3a52-2b8e-4c0e-9a57-1f6d2f0c8e11")
PROJECTIONS = ("accounts", "invoices", "health", "account_detail", "business_flow")
_INVOICE_COLUMNS = ", ".join(InvoiceRow.__dataclass_fields__)
_ACCOUNT_COLUMNS = ", ".join(AccountRow.__dataclass_fields__)
_HEALTH_COLUMNS = (
    "account_id, currency, collection_path, provider_links, outstanding, uncollectible,"
    " oldest_unpaid_due_at, oldest_unpaid_finalized_at, dunning_anchor_at, failed_attempts,"
    " last_failed_attempt_at, last_successful_payment_at, attempt_in_flight_since,"
    " action_required_until, bad_debt_payment_in_flight, usable_default_method,"
    " active_subscriptions, closed, detail, version"
)  # the order of HealthFacts.as_params


@dataclass(frozen=True)
class Filled:
    big_account: UUID  # BIG_ACCOUNT_INVOICES invoices (fewer when N is small)
    small_account: UUID  # MONTHS invoices, one a month
    accounts: list[UUID]  # every account with a health row
    invoices: int
    big_invoices: int
    seconds: float
    table_mb: dict[str, float]


@dataclass(frozen=True)
class Templates:
    paid: InvoiceRow  # collected at once
    retried: InvoiceRow  # declined, then paid on dunning's retry

    @classmethod
    def from_table(cls, conn: psycopg.Connection[Any]) -> Templates:
        rows = [
            InvoiceRow(*r)
            for r in conn.execute(
                f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE status = 'paid'"
                " ORDER BY created_at, invoice_id"
            ).fetchall()
        ]
        paid = next(r for r in rows if len(r.detail["attempts"]) == 1)
        retried = next(r for r in rows if len(r.detail["attempts"]) == 2)
        return cls(paid, retried)


def fill(conn: psycopg.Connection[Any], invoices: int, now: datetime) -> Filled:
    """`invoices` invoices over many accounts, one of them with thousands, and a health and
    an accounts row for every account (at least invoices / 10 accounts)."""
    began = time.perf_counter()
    templates = Templates.from_table(conn)
    big = min(BIG_ACCOUNT_INVOICES, invoices // 10)
    smalls = [uuid4() for _ in range(math.ceil((invoices - big) / MONTHS))]
    big_account = uuid4()
    start = now - timedelta(days=30 * MONTHS)
    rows = _invoices(templates, big_account, big, smalls, invoices - big, start)
    _copy(conn, "invoices", _INVOICE_COLUMNS, rows)
    extra = [uuid4() for _ in range(max(0, invoices // 10 - len(smalls) - 1))]
    accounts = [big_account, *smalls, *extra]
    _copy(conn, "accounts", _ACCOUNT_COLUMNS, _account_rows(accounts, start))
    _copy(conn, "account_health", _HEALTH_COLUMNS, _health_rows(accounts, now))
    _copy(conn, "projection_streams", "projection, stream_id, version", _tracking(accounts))
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    return Filled(
        big_account, smalls[0], accounts, invoices, big, time.perf_counter() - began, _sizes(conn)
    )


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: str, rows: Iterator[tuple[Any, ...]]
) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _invoices(
    templates: Templates,
    big_account: UUID,
    big: int,
    smalls: list[UUID],
    small_total: int,
    start: datetime,
) -> Iterator[tuple[Any, ...]]:
    """Month by month, in the order the month's renewals come: each small account's invoice
    of the month (on the account's own day), and the big account's, spread over the month."""
    per_month = [big // MONTHS + (1 if m < big % MONTHS else 0) for m in range(MONTHS)]
    n, big_seq = 0, 0
    for month in range(MONTHS):
        first = start + timedelta(days=30 * month)
        due: list[tuple[datetime, UUID]] = [
            (first + timedelta(days=j % 28, seconds=j * 7_919 % 86_400), account)
            for j, account in enumerate(smalls)
            if j * MONTHS + month < small_total
        ]
        step = 28 * 86_400 // max(1, per_month[month])
        due += [(first + timedelta(seconds=i * step), big_account) for i in range(per_month[month])]
        for at, account in sorted(due, key=lambda d: d[0]):
            if account == big_account:
                big_seq += 1
            seq = big_seq if account == big_account else month + 1
            yield _invoice(templates, account, seq, at, n, month == MONTHS - 1)
            n += 1


def _invoice(
    t: Templates, account: UUID, seq: int, at: datetime, n: int, last_month: bool
) -> tuple[Any, ...]:
    """Invoice `seq` of `account`, created `at`; n picks its fate: 2 % void, 1 %
    uncollectible, 3 % of the last month's open (declined, awaiting a retry), else paid."""
    fate = n % 100
    template = t.retried if fate < 6 or n % 3 == 0 else t.paid
    row = _moved(template, account, seq, at)
    if fate < 2:
        row = _unpaid(row, "void", voided_at=row.paid_at)
    elif fate == 2:
        row = _unpaid(row, "uncollectible", marked_uncollectible_at=row.paid_at)
    elif fate < 6 and last_month:
        row = _unpaid(row, "open")
    values = [getattr(row, name) for name in InvoiceRow.__dataclass_fields__]
    values[-2] = json.dumps(row.detail)
    return tuple(values)


def _moved(template: InvoiceRow, account: UUID, seq: int, at: datetime) -> InvoiceRow:
    """The template as another account's invoice number `seq`, created `at`."""
    shift = at - template.created_at
    invoice_id = str(uuid5(FILL_NAMESPACE, f"{account}:{seq}"))
    d = template.detail
    attempts = [
        {**a, "attempt_id": f"{invoice_id}:{k}", "started_at": _shifted(a["started_at"], shift),
         "settled_at": _shifted(a["settled_at"], shift),
         "processor_payment_id": a["processor_payment_id"] and f"pay_{invoice_id}:{k}"}
        for k, a in enumerate(d["attempts"])
    ]  # fmt: skip
    timeline = [{**e, "at": _shifted(e["at"], shift)} for e in d["timeline"]]
    lines = [
        {**line, "period_start": _shifted(line["period_start"], shift),
         "period_end": _shifted(line["period_end"], shift)}
        for line in d["lines"]
    ]  # fmt: skip
    detail = {**d, "lines": lines, "attempts": attempts, "timeline": timeline}
    return replace(
        template,
        account_id=account,
        invoice_id=invoice_id,
        number=f"{account.hex[:8].upper()}-{seq:04d}",
        created_at=at,
        finalized_at=at,
        paid_at=template.paid_at + shift if template.paid_at else None,
        detail=detail,
    )


def _unpaid(row: InvoiceRow, status: str, **at: Any) -> InvoiceRow:
    """The retried template stopped after its declined attempt, then moved to `status`."""
    d = row.detail
    attempts = d["attempts"][:1]
    timeline = d["timeline"][:2]
    when = attempts[0]["settled_at"]
    if status != "open":
        timeline = [*timeline, {"at": when, "status": status}]
    detail = {**d, "attempts": attempts, "timeline": timeline}
    return replace(row, status=status, paid_at=None, detail=detail, **at)


def _shifted(iso: str | None, shift: timedelta) -> str | None:
    return (datetime.fromisoformat(iso) + shift).isoformat() if iso else None


def _account_rows(accounts: list[UUID], start: datetime) -> Iterator[tuple[Any, ...]]:
    for i, account in enumerate(accounts):
        opened = start + timedelta(seconds=i % (86_400 * 28))
        yield AccountRow(
            account, f"Read Bench {i:07d}", f"read-{i:07d}@example.com", "US", "USD", None,
            "open", opened, opened, None, 60, 60,
        ).as_tuple()  # fmt: skip


def _health_rows(accounts: list[UUID], now: datetime) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(16)
    for account in accounts:
        yield _health(account, now, rng.random()).as_params()


def _health(account: UUID, now: datetime, draw: float) -> HealthFacts:
    """Mostly healthy (a card, an active plan, paid last month); 5 % past due (an open
    invoice, its collection declined); 1 % in bad debt (an uncollectible one)."""
    method = str(uuid5(FILL_NAMESPACE, f"{account}:method"))
    facts = HealthFacts(
        account_id=account,
        currency="USD",
        version=60,
        provider_links={"stripe": f"cus_{account.hex[:14]}"},
        methods={method: MethodFacts(MethodKind.CARD, 1, True)},
        default_method_id=method,
        subscriptions={str(uuid5(FILL_NAMESPACE, f"{account}:sub")): "active"},
        last_successful_payment_at=now - timedelta(days=20),
    )
    if draw >= 0.06:
        return facts
    invoice = str(uuid5(FILL_NAMESPACE, f"{account}:unpaid"))
    finalized = now - timedelta(days=3)
    status = "uncollectible" if draw < 0.01 else "open"
    attempt = AttemptFacts(invoice, "collection", "failed", finalized)
    return replace(
        facts,
        invoices={invoice: InvoiceFacts(status, 2000, finalized)},
        attempts={f"{invoice}:0": attempt},
        last_failed_attempt_at=finalized,
    )


def _tracking(accounts: list[UUID]) -> Iterator[tuple[Any, ...]]:
    for account in accounts:
        for projection in PROJECTIONS:
            yield projection, account, 60


def _sizes(conn: psycopg.Connection[Any]) -> dict[str, float]:
    tables = ("invoices", "accounts", "account_health", "projection_streams")
    query = "SELECT pg_total_relation_size(%s::regclass)"
    return {t: round(conn.execute(query, (t,)).fetchone()[0] / 2**20, 1) for t in tables}  # type: ignore[index]
