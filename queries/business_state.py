"""The billing state of the whole fleet at one moment, for the business metrics
(adapters/business_metrics.py): accounts by health state, stuck accounts by reason, bad debt
and open receivable per currency, the oldest attempt in flight, the payments waiting for the
customer. Read from the `account_health` read model only, in four queries whatever the
number of accounts; the caller runs them in one snapshot (see `business_state`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

from queries.health import STUCK_REASONS, HealthPolicy, HealthState, every_health


class BusinessState(BaseModel):
    model_config = ConfigDict(frozen=True)

    by_state: dict[HealthState, int]  # every state, zero included
    stuck_by_reason: dict[str, int]  # every stuck reason, zero included; a stuck account
    # counts once under each of its stuck reasons
    bad_debt_by_currency: dict[str, int]  # uncollectible minor units, every billed currency
    open_receivable_by_currency: dict[str, int]  # open invoices' amount due, minor units
    oldest_in_flight_since: datetime | None  # the oldest attempt waiting for a processor
    waiting_for_customer: int  # attempts waiting for 3-D Secure whose wait has not expired


def _states(
    conn: Connection[Any], now: datetime, policy: HealthPolicy | None
) -> tuple[dict[HealthState, int], dict[str, int]]:
    by_state = dict.fromkeys(HealthState, 0)
    stuck = dict.fromkeys(STUCK_REASONS, 0)
    for health in every_health(conn, now, policy):
        by_state[health.state] += 1
        if health.state is HealthState.STUCK:
            for reason in set(health.reasons) & stuck.keys():
                stuck[reason] += 1
    return by_state, stuck


def _money(conn: Connection[Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Per currency an account bills in (zero included, so a cleared amount reads 0)."""
    rows = conn.execute(
        "SELECT currency, sum(uncollectible)::bigint, sum(outstanding)::bigint"
        " FROM account_health GROUP BY currency ORDER BY currency"
    ).fetchall()
    return {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}


def _oldest_in_flight(conn: Connection[Any]) -> datetime | None:
    row = conn.execute("SELECT min(attempt_in_flight_since) FROM account_health").fetchone()
    return row[0] if row else None


def _waiting_for_customer(conn: Connection[Any], now: datetime) -> int:
    row = conn.execute(
        "SELECT count(*) FROM account_health h"
        " CROSS JOIN LATERAL jsonb_each(h.detail -> 'attempts') AS a(attempt_id, attempt)"
        " WHERE h.action_required_until IS NOT NULL"
        " AND a.attempt ->> 'status' = 'requires_action'"
        " AND (a.attempt ->> 'action_expires_at')::timestamptz >= %s",
        (now,),
    ).fetchone()
    return int(row[0]) if row else 0


def business_state(
    conn: Connection[Any], now: datetime, policy: HealthPolicy | None = None
) -> BusinessState:
    """The fleet's billing state at `now`. Run it in one repeatable-read transaction for a
    consistent snapshot: the four queries then see the same rows."""
    by_state, stuck = _states(conn, now, policy)
    bad_debt, receivable = _money(conn)
    return BusinessState(
        by_state=by_state,
        stuck_by_reason=stuck,
        bad_debt_by_currency=bad_debt,
        open_receivable_by_currency=receivable,
        oldest_in_flight_since=_oldest_in_flight(conn),
        waiting_for_customer=_waiting_for_customer(conn, now),
    )
