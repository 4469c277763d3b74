"""Finding accounts for the support console: by account id, part of a name or an email, an
invoice number, or a Stripe or Braintree customer id, over the read models (`accounts`,
`invoices`, `account_health`; indexes in migrations/0017_console_search.sql). Results are
ordered by name, then id, in keyset pages: the next page starts after the last account
shown."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

PAGE_SIZE = 20
# Shorter fragments of a name or email would match half the accounts; two, not three, since
# a name in Chinese may be two characters (the trigram index helps from three on).
MIN_TEXT = 2

_HITS = """
WITH hits(account_id, matched) AS (
    SELECT account_id, 'account id' FROM accounts WHERE account_id = %(id)s
    UNION ALL
    SELECT account_id, 'name' FROM accounts WHERE %(like)s::text IS NOT NULL
        AND lower(name) LIKE %(like)s
    UNION ALL
    SELECT account_id, 'email' FROM accounts WHERE %(like)s::text IS NOT NULL
        AND lower(email) LIKE %(like)s
    UNION ALL
    SELECT account_id, 'invoice number' FROM invoices WHERE number = %(q)s
    UNION ALL
    SELECT account_id, 'Stripe customer id' FROM account_health
        WHERE provider_links @> jsonb_build_object('stripe', %(q)s::text)
    UNION ALL
    SELECT account_id, 'Braintree customer id' FROM account_health
        WHERE provider_links @> jsonb_build_object('braintree', %(q)s::text)
)
SELECT a.account_id, a.name, a.email, a.country, a.currency, a.status,
       array_agg(DISTINCT h.matched ORDER BY h.matched)
FROM hits h JOIN accounts a USING (account_id)
WHERE %(after)s::uuid IS NULL
   OR (lower(a.name), a.account_id)
      > (SELECT lower(name), account_id FROM accounts WHERE account_id = %(after)s::uuid)
GROUP BY a.account_id
ORDER BY lower(a.name), a.account_id
LIMIT %(limit)s
"""


class AccountHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: UUID
    name: str
    email: str
    country: str
    currency: str
    status: str
    matched_by: tuple[str, ...]


class SearchPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    query: str
    hits: tuple[AccountHit, ...]
    next_after: UUID | None  # pass as `after` for the next page; None on the last page


def search_accounts(
    conn: Connection[Any], query: str, after: UUID | None = None, limit: int = PAGE_SIZE
) -> SearchPage:
    q = query.strip()
    if not q:
        return SearchPage(query=q, hits=(), next_after=None)
    params = {
        "q": q,
        "id": _as_uuid(q),
        "like": _contains(q) if len(q) >= MIN_TEXT else None,
        "after": after,
        "limit": limit + 1,
    }
    rows = conn.execute(_HITS, params).fetchall()
    hits = tuple(_hit(row) for row in rows[:limit])
    more = len(rows) > limit
    return SearchPage(query=q, hits=hits, next_after=hits[-1].account_id if more else None)


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _contains(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _hit(row: tuple[Any, ...]) -> AccountHit:
    account_id, name, email, country, currency, status, matched = row
    return AccountHit(
        account_id=account_id,
        name=name,
        email=email,
        country=country,
        currency=currency,
        status=status,
        matched_by=tuple(matched),
    )
