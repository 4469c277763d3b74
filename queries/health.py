"""Account health, computed at read time over the `account_health` read model.

The state depends on the time, so the caller passes `now`. One state per account, the first
of these that holds (the order is the precedence):

1. `closed`: the account was closed (`AccountClosed`).
2. `stuck`: something needs an engineer's (or a recompute's) attention, any of
   * `attempt_in_flight`: a payment attempt has been pending longer than
     `stuck_after` (default 15 minutes): the processor's answer was never recorded; or an
     attempt waiting for the customer to authenticate (3-D Secure) is still waiting
     `stuck_after` past its expiry: the janitor should have cancelled it;
   * `dunning_overdue`: an open invoice is past its dunning horizon: its collection date
     (due date on the send_invoice path, finalization otherwise) + the policy's last retry
     day + 1 day of grace (default policy (1, 3, 5, 7): 8 days). Dunning should have paid
     it or made it uncollectible by then;
   * `projection_behind`: the version this projection tracked for the stream
     (`projection_streams`) is lower than the stream's head in the store
     (`max(originator_version)` in `ledger_events`);
   * `projection_poisoned`: an event of the account could not be applied by one of the
     projections (any of them, this one included) and the account's stream is parked in
     `projection_poisoned` (`ledger projections poisoned list`), so some read model of the
     account stands still until `ledger projections poisoned retry` applies it.
3. `lifting`: in bad debt, with a `bad_debt` payment attempt in flight (the transitional
   state of paying bad debt; the flag clears only when nothing uncollectible remains).
4. `bad_debt`: something is uncollectible. Service is suspended (no renewals, purchases or
   plan changes), so `suspended` is true exactly in `bad_debt` and `lifting`.
5. `past_due`: an open invoice whose due date has passed, or a failed off-session
   (`collection`) attempt of an invoice still unpaid.
6. `at_risk`: a subscription is active but there is no usable default payment method, or
   an attempt (of any purpose) failed in the last `risk_window` (default 7 days).
7. `healthy`: none of the above.

`reasons` lists every condition that holds (not only the one that decided the state); one
reason decides no state: `awaiting_customer_action`, an attempt waits for the customer to
authenticate and its wait has not expired (`action_required_until` says until when).
`days_past_due`: whole days since the oldest open invoice's collection date while the
account is past due (0 otherwise). The fleet view counts accounts by state and sums the
uncollectible amounts per currency (bad debt); no account ids leave it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

from ledger.dunning import DunningPolicy


class HealthState(StrEnum):
    CLOSED = "closed"
    STUCK = "stuck"
    LIFTING = "lifting"
    BAD_DEBT = "bad_debt"
    PAST_DUE = "past_due"
    AT_RISK = "at_risk"
    HEALTHY = "healthy"


@dataclass(frozen=True)
class HealthPolicy:
    stuck_after: timedelta = timedelta(minutes=15)
    dunning: DunningPolicy = field(default_factory=DunningPolicy)
    grace: timedelta = timedelta(days=1)
    risk_window: timedelta = timedelta(days=7)

    @property
    def dunning_horizon(self) -> timedelta:
        last = max(self.dunning.retry_after_days, default=0)
        return timedelta(days=last) + self.grace


class AccountHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: UUID
    state: HealthState
    reasons: tuple[str, ...]
    closed: bool
    suspended: bool
    currency: str
    outstanding: int  # minor units, open invoices' amount due
    uncollectible: int  # minor units, bad debt
    days_past_due: int
    failed_attempts: int
    last_successful_payment_at: datetime | None
    attempt_in_flight_since: datetime | None
    action_required_until: datetime | None  # earliest expiry of a wait for the customer
    collection_path: str
    provider_links: dict[str, str]
    version: int


class FleetHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    accounts: int
    by_state: dict[HealthState, int]  # every state, zero included
    bad_debt_by_currency: dict[str, int]  # uncollectible minor units per currency
    bad_debt_accounts_by_currency: dict[str, int] = {}  # accounts with bad debt per currency


class AccountInState(BaseModel):
    """One account of a list by health state: who it is, and its health (with reasons)."""

    model_config = ConfigDict(frozen=True)

    name: str | None  # None while the accounts read model has not seen the account
    email: str | None
    health: AccountHealth


class HealthStatePage(BaseModel):
    """A keyset page of the accounts in one health state, in account id order; `next_after`
    is the last account id shown when more may follow."""

    model_config = ConfigDict(frozen=True)

    state: HealthState
    items: list[AccountInState]
    next_after: UUID | None


_COLUMNS = (
    "h.account_id, h.currency, h.collection_path, h.provider_links, h.outstanding,"
    " h.uncollectible, h.oldest_unpaid_due_at, h.dunning_anchor_at, h.failed_attempts,"
    " h.last_failed_attempt_at, h.last_successful_payment_at, h.attempt_in_flight_since,"
    " h.action_required_until, h.bad_debt_payment_in_flight, h.usable_default_method,"
    " h.active_subscriptions, h.closed, h.version"
)
_NAMES = [c.strip().removeprefix("h.") for c in _COLUMNS.split(",")]
# The tracked version and the store's head: a stream the projection lags behind is stuck.
_HEAD = (
    "(SELECT max(e.originator_version) FROM ledger_events e WHERE e.originator_id = h.account_id)"
)
_POISONED = (
    "EXISTS (SELECT 1 FROM projection_poisoned pp"
    " WHERE pp.stream_id = h.account_id AND pp.resolved_at IS NULL)"
)
_SELECT = (
    f"SELECT {_COLUMNS}, coalesce(ps.version, 0) AS tracked, {_HEAD} AS head,"
    f" {_POISONED} AS poisoned"
)
_TABLES = (
    " FROM account_health h LEFT JOIN projection_streams ps"
    " ON ps.projection = 'health' AND ps.stream_id = h.account_id"
)
_FROM = _SELECT + _TABLES


def _reasons(r: dict[str, Any], now: datetime, policy: HealthPolicy) -> list[str]:
    found: list[str] = []
    in_flight = r["attempt_in_flight_since"]
    waiting_until = r["action_required_until"]
    overdue_wait = waiting_until is not None and now - waiting_until > policy.stuck_after
    if (in_flight is not None and now - in_flight > policy.stuck_after) or overdue_wait:
        found.append("attempt_in_flight")
    if waiting_until is not None and now <= waiting_until:
        found.append("awaiting_customer_action")
    anchor = r["dunning_anchor_at"]
    if anchor is not None and now > anchor + policy.dunning_horizon:
        found.append("dunning_overdue")
    if r["head"] is not None and r["tracked"] < r["head"]:
        found.append("projection_behind")
    if r["poisoned"]:
        found.append("projection_poisoned")
    if r["bad_debt_payment_in_flight"]:
        found.append("bad_debt_payment_in_flight")
    if r["uncollectible"] > 0:
        found.append("uncollectible")
    due = r["oldest_unpaid_due_at"]
    if due is not None and due < now:
        found.append("due_date_passed")
    if r["failed_attempts"] > 0:
        found.append("failed_attempts")
    if r["active_subscriptions"] > 0 and not r["usable_default_method"]:
        found.append("no_usable_default_method")
    failed_at = r["last_failed_attempt_at"]
    if failed_at is not None and now - failed_at <= policy.risk_window:
        found.append("recent_failed_attempt")
    return found


STUCK_REASONS = ("attempt_in_flight", "dunning_overdue", "projection_behind", "projection_poisoned")
_STUCK = set(STUCK_REASONS)
_PAST_DUE = {"due_date_passed", "failed_attempts"}
_AT_RISK = {"no_usable_default_method", "recent_failed_attempt"}


def _state(r: dict[str, Any], reasons: set[str]) -> HealthState:
    if r["closed"]:
        return HealthState.CLOSED
    if reasons & _STUCK:
        return HealthState.STUCK
    if "uncollectible" in reasons:
        return HealthState.LIFTING if r["bad_debt_payment_in_flight"] else HealthState.BAD_DEBT
    if reasons & _PAST_DUE:
        return HealthState.PAST_DUE
    if reasons & _AT_RISK:
        return HealthState.AT_RISK
    return HealthState.HEALTHY


def _health(values: Sequence[Any], now: datetime, policy: HealthPolicy) -> AccountHealth:
    r = dict(zip([*_NAMES, "tracked", "head", "poisoned"], values, strict=True))
    reasons = _reasons(r, now, policy)
    past_due = bool(set(reasons) & _PAST_DUE)
    anchor = r["dunning_anchor_at"]
    days = max(0, (now - anchor).days) if past_due and anchor is not None else 0
    return AccountHealth(
        account_id=r["account_id"],
        state=_state(r, set(reasons)),
        reasons=tuple(reasons),
        closed=r["closed"],
        suspended=r["uncollectible"] > 0,
        currency=r["currency"],
        outstanding=r["outstanding"],
        uncollectible=r["uncollectible"],
        days_past_due=days,
        failed_attempts=r["failed_attempts"],
        last_successful_payment_at=r["last_successful_payment_at"],
        attempt_in_flight_since=r["attempt_in_flight_since"],
        action_required_until=r["action_required_until"],
        collection_path=r["collection_path"],
        provider_links=dict(r["provider_links"]),
        version=r["version"],
    )


def get_health(
    conn: Connection[Any], account_id: UUID, now: datetime, policy: HealthPolicy | None = None
) -> AccountHealth | None:
    row = conn.execute(f"{_FROM} WHERE h.account_id = %s", (account_id,)).fetchone()
    return _health(row, now, policy or HealthPolicy()) if row else None


def every_health(
    conn: Connection[Any], now: datetime, policy: HealthPolicy | None = None
) -> Iterator[AccountHealth]:
    """Every account's health at `now`, in one pass (one query) over the read model."""
    chosen = policy or HealthPolicy()
    with conn.cursor() as cur:
        cur.execute(_FROM)
        for values in cur:
            yield _health(values, now, chosen)


def fleet_health(
    conn: Connection[Any], now: datetime, policy: HealthPolicy | None = None
) -> FleetHealth:
    """Every account's state, counted (one pass over the read model)."""
    by_state = dict.fromkeys(HealthState, 0)
    bad_debt: dict[str, int] = {}
    in_bad_debt: dict[str, int] = {}
    accounts = 0
    for health in every_health(conn, now, policy):
        accounts += 1
        by_state[health.state] += 1
        if health.uncollectible:
            currency = health.currency
            bad_debt[currency] = bad_debt.get(currency, 0) + health.uncollectible
            in_bad_debt[currency] = in_bad_debt.get(currency, 0) + 1
    return FleetHealth(
        accounts=accounts,
        by_state=by_state,
        bad_debt_by_currency=bad_debt,
        bad_debt_accounts_by_currency=in_bad_debt,
    )


# A necessary condition of each state, in SQL over the row's columns (the state itself is
# decided in Python by `_health`, at `now`): the list reads only the rows that may be in the
# state, in primary-key order. Bad debt, lifting and closed walk partial indexes (migration
# 0020_fleet_lists); stuck includes "the projection is behind the stream's head", which no
# index can answer, so its list reads the open accounts' rows as the fleet counts do.
_MAY_BE: dict[HealthState, str] = {
    HealthState.CLOSED: "h.closed",
    HealthState.STUCK: (
        "NOT h.closed AND (h.attempt_in_flight_since IS NOT NULL"
        " OR h.action_required_until IS NOT NULL"
        " OR h.dunning_anchor_at < %(dunning_overdue_before)s"
        f" OR {_POISONED} OR coalesce(ps.version, 0) < {_HEAD})"
    ),
    HealthState.LIFTING: "NOT h.closed AND h.uncollectible > 0 AND h.bad_debt_payment_in_flight",
    HealthState.BAD_DEBT: "NOT h.closed AND h.uncollectible > 0",
    HealthState.PAST_DUE: "NOT h.closed AND (h.oldest_unpaid_due_at < %(now)s"
    " OR h.failed_attempts > 0)",
    HealthState.AT_RISK: "NOT h.closed",
    HealthState.HEALTHY: "NOT h.closed",
}
_SCAN_BATCH = 200


def accounts_in_state(
    conn: Connection[Any],
    state: HealthState,
    now: datetime,
    after: UUID | None = None,
    limit: int = 20,
    policy: HealthPolicy | None = None,
) -> HealthStatePage:
    """The accounts in `state` at `now`, with their reasons, a keyset page after the account
    id `after` (account id order: the primary key)."""
    chosen = policy or HealthPolicy()
    sql = (
        f"{_SELECT}, a.name, a.email{_TABLES} LEFT JOIN accounts a ON a.account_id = h.account_id"
        f" WHERE ({_MAY_BE[state]}) AND (%(after)s::uuid IS NULL OR h.account_id > %(after)s)"
        " ORDER BY h.account_id LIMIT %(batch)s"
    )
    params: dict[str, Any] = {
        "now": now,
        "dunning_overdue_before": now - chosen.dunning_horizon,
        "batch": _SCAN_BATCH,
    }
    found: list[AccountInState] = []
    scanned_to = after
    while len(found) <= limit:
        rows = conn.execute(sql, {**params, "after": scanned_to}).fetchall()
        for values in rows:
            health = _health(values[:-2], now, chosen)
            if health.state is state:
                found.append(AccountInState(name=values[-2], email=values[-1], health=health))
        if len(rows) < _SCAN_BATCH:
            break
        scanned_to = rows[-1][0]
    shown = found[:limit]
    more = len(found) > limit
    return HealthStatePage(
        state=state, items=shown, next_after=shown[-1].health.account_id if more else None
    )
