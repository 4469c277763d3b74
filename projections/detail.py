"""The `account_detail` read model: one row per account with what a person reads about its
subscriptions, payment methods and credits (the support console's account page).

The other read models keep only what their columns are computed from: `account_health`
keeps a method's kind and whether it is usable, a subscription's status; `invoices` keeps a
credit only as the amount an invoice used. This one keeps the facts as the events state them:
a subscription's plan id, period, status and scheduled cancellation; a method's brand, last
four, expiry, PayPal payer email, billing agreement, vault path and state; a credit's
amount, what invoices used of it and gave back, its expiry, who granted it and why, and how
it closed. The default method after a removal is the domain's own rule
(`ledger.methods.default_after_removal`), as in the health fold.

The items are kept as the JSON the row stores (dates as ISO strings), so a row loads back as
exactly the state that was saved; `queries/account_detail.py` reads them into models and
adds what depends on the time (a card that expires soon, a renewal that is overdue).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.types.json import Jsonb

from ledger.envelope import EventEnvelope
from ledger.methods import MethodKind, VaultPath, default_after_removal
from ledger.personal import ERASED_EMAIL
from projections.rows import RowTable, TableRows

_COLUMNS = "account_id, default_method_id, methods, subscriptions, credits, version"
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_TABLE = RowTable.of("account_detail", _COLUMNS)
_JSON = frozenset({"methods", "subscriptions", "credits"})

Items = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class AccountDetail:
    account_id: UUID
    version: int
    default_method_id: str | None = None
    methods: Items = field(default_factory=dict)  # method id -> the method as added, + state
    subscriptions: Items = field(default_factory=dict)  # subscription id -> its latest state
    credits: Items = field(default_factory=dict)  # credit id -> amount, remaining, ...

    def as_params(self) -> tuple[Any, ...]:
        return tuple(Jsonb(getattr(self, n)) if n in _JSON else getattr(self, n) for n in _NAMES)


@dataclass(frozen=True)
class _Standing:
    """A stored method as ledger.methods' rules read it (a MethodStanding)."""

    kind: MethodKind
    added_seq: int
    usable: bool
    vault_path: VaultPath | None


def _standing(m: Mapping[str, Any]) -> _Standing:
    path = VaultPath(m["vault_path"]) if m.get("vault_path") else None
    return _Standing(MethodKind(m["kind"]), int(m["added_seq"]), m["state"] == "active", path)


# --- methods ----------------------------------------------------------------------------


def _method_added(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    m = {**env.data["method"], "added_at": _at(env), "state_changed_at": None}
    make_default = env.data["make_default"] or s.default_method_id is None
    default = m["method_id"] if make_default else s.default_method_id
    return replace(s, methods={**s.methods, m["method_id"]: m}, default_method_id=default)


def _forgotten(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    """The account's personal data is forgotten: PayPal payer emails read as erased."""
    methods = {
        k: {**m, "payer_email": ERASED_EMAIL} if m.get("payer_email") else m
        for k, m in s.methods.items()
    }
    return replace(s, methods=methods)


def _method_state(state: str) -> Step:
    """Removed, expired or revoked: no longer usable; the default moves on if it was this."""

    def step(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
        method_id = env.data["method_id"]
        method = s.methods.get(method_id)
        if method is None:
            return s
        standings = {k: _standing(m) for k, m in s.methods.items()}
        default = default_after_removal(standings, method_id, s.default_method_id)
        changed = {**method, "state": state, "state_changed_at": _at(env)}
        return replace(s, methods={**s.methods, method_id: changed}, default_method_id=default)

    return step


def _token_migrated(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    d = env.data
    return _method(
        s, d["method_id"], processor_ref=d["new_ref"],
        billing_agreement_id=d["billing_agreement_id"],
        vault_path=VaultPath.BILLING_AGREEMENT.value,
    )  # fmt: skip


def _method(s: AccountDetail, method_id: str, **changes: Any) -> AccountDetail:
    method = s.methods.get(method_id)
    if method is None:
        return s
    return replace(s, methods={**s.methods, method_id: {**method, **changes}})


# --- subscriptions ----------------------------------------------------------------------


def _subscribed(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    sub = {**env.data["subscription"], "subscribed_at": _at(env), "last_change": None}
    return replace(s, subscriptions={**s.subscriptions, sub["subscription_id"]: sub})


def _subscription_changed(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    new = env.data["subscription"]
    old = s.subscriptions.get(new["subscription_id"])
    if old is None:
        return s
    change = {"change": env.data["change"], "at": _at(env)}
    sub = {**old, **new, "last_change": change}
    return replace(s, subscriptions={**s.subscriptions, new["subscription_id"]: sub})


# --- credits ----------------------------------------------------------------------------


def _credit_granted(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    c = env.data["credit"]
    credit = {
        "credit_id": c["credit_id"],
        "amount": int(c["granted"]["amount"]),
        "currency": c["granted"]["currency"],
        "remaining": int(c["remaining"]),
        "granted_at": c["granted_at"],
        "expires_at": c["expires_at"],
        "status": c["status"],
        "closed_at": None,
        "taken_back": 0,  # what remained when it was revoked or expired
        "granted_by": env.meta["actor"],
        "reason": env.meta.get("reason"),
    }
    return replace(s, credits={**s.credits, c["credit_id"]: credit})


def _credit_closed(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
    credit = s.credits.get(env.data["credit_id"])
    if credit is None:
        return s
    closed = {
        **credit, "status": env.data["status"], "closed_at": _at(env),
        "taken_back": credit["remaining"], "remaining": 0,
    }  # fmt: skip
    return replace(s, credits={**s.credits, credit["credit_id"]: closed})


def _credits_moved(key: str, sign: int) -> Step:
    """An invoice used credit at finalization (`credits_used`, -) or gave it back when
    voided (`credits_restored`, +)."""

    def step(s: AccountDetail, env: EventEnvelope) -> AccountDetail:
        credits = dict(s.credits)
        for credit_id, amount in env.data[key].items():
            if credit := credits.get(credit_id):
                credits[credit_id] = {**credit, "remaining": credit["remaining"] + sign * amount}
        return replace(s, credits=credits)

    return step


def _at(env: EventEnvelope) -> str:
    return env.occurred_at.isoformat()


Step = Callable[[AccountDetail, EventEnvelope], AccountDetail]

_STEPS: dict[str, Step] = {
    "PaymentMethodAdded": _method_added,
    "AccountForgotten": _forgotten,
    "DefaultPaymentMethodSet": lambda s, env: replace(s, default_method_id=env.data["method_id"]),
    "PaymentMethodRemoved": _method_state("removed"),
    "PaymentMethodExpired": _method_state("expired"),
    "PaymentMethodRevoked": _method_state("revoked"),
    "PaymentMethodTokenMigrated": _token_migrated,
    "Subscribed": _subscribed,
    "SubscriptionChanged": _subscription_changed,
    "CreditGranted": _credit_granted,
    "CreditClosed": _credit_closed,
    "InvoiceFinalized": _credits_moved("credits_used", -1),
    "InvoiceVoided": _credits_moved("credits_restored", +1),
}
# The profile, links and closing are in `accounts` and `account_health`; invoices, their
# payments, refunds and disputes in `invoices`; the rest is bookkeeping.
IGNORED = frozenset(
    {
        "AccountProfileUpdated",
        "AccountClosed",
        "ProviderCustomerLinked",
        "ProviderCustomerSynced",
        "InvoiceDrafted",
        "InvoiceCoveredByCredit",
        "InvoiceMarkedUncollectible",
        "InvoicePaidOutOfBand",
        "PaymentAttemptStarted",
        "PaymentSucceeded",
        "PaymentActionRequired",
        "PaymentFailed",
        "RefundIssued",
        "DisputeOpened",
        "DisputeClosed",
        "AccountRecomputeRequested",
        "ReconciliationRepaired",
        "ReconciliationRepairStarted",
    }
)


class AccountDetailProjection:
    name = "account_detail"
    tables: Sequence[str] = ("account_detail",)
    applies = frozenset({"AccountOpened", *_STEPS})
    ignores = IGNORED

    def fold(self, state: AccountDetail | None, envelope: EventEnvelope) -> AccountDetail | None:
        if envelope.event_type == "AccountOpened":
            return AccountDetail(envelope.account_id, envelope.stream_version)
        if state is None:
            return None
        step = _STEPS.get(envelope.event_type)
        after = step(state, envelope) if step else state
        return replace(after, version=envelope.stream_version)

    def load(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> dict[UUID, AccountDetail]:
        cur.execute(
            f"SELECT {_COLUMNS} FROM account_detail WHERE account_id = ANY(%s)",
            (list(stream_ids),),
        )
        return {
            values[0]: AccountDetail(**dict(zip(_NAMES, values, strict=True))) for values in cur
        }

    def save(self, cur: Cursor[Any], states: Mapping[UUID, AccountDetail | None]) -> None:
        self.delete(cur, [sid for sid, s in states.items() if s is None])
        _TABLE.upsert(cur, self.rows(states)[0][1])

    def rows(self, states: Mapping[UUID, Any]) -> TableRows:
        return [(_TABLE, [s.as_params() for s in states.values() if s is not None])]

    def delete(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> None:
        _TABLE.delete_accounts(cur, stream_ids)
