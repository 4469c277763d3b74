"""The `account_health` read model: one row per account with the facts its health is made of.

The fold keeps, per account, only what the health columns are derived from: the invoices
still unpaid (open or uncollectible; paid and void are final, so they are dropped with their
attempts), the attempts of those invoices, the payment methods and the default (the
collection path and the default after a removal are the domain's own rules in
`ledger.methods`), the subscriptions' statuses, the provider links and a few timestamps.
The state is stored whole in `detail` so an incremental batch can load it back. The health
*state* depends on the time and is computed at read time (`queries/health.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.types.json import Jsonb

from ledger.envelope import EventEnvelope
from ledger.methods import MethodKind, VaultPath, collection_path, default_after_removal
from projections.rows import RowTable, TableRows

_COLUMNS = (
    "account_id, currency, collection_path, provider_links, outstanding, uncollectible,"
    " oldest_unpaid_due_at, oldest_unpaid_finalized_at, dunning_anchor_at, failed_attempts,"
    " last_failed_attempt_at, last_successful_payment_at, attempt_in_flight_since,"
    " action_required_until, bad_debt_payment_in_flight, usable_default_method,"
    " active_subscriptions, closed, detail, version"
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_TABLE = RowTable.of("account_health", _COLUMNS)

OPEN, UNCOLLECTIBLE = "open", "uncollectible"
PENDING, FAILED = "pending", "failed"
REQUIRES_ACTION = "requires_action"  # waiting for the customer (3-D Secure): not stuck
IN_FLIGHT = frozenset({PENDING, REQUIRES_ACTION})


@dataclass(frozen=True)
class InvoiceFacts:
    status: str  # draft, open or uncollectible (paid and void invoices are dropped)
    amount_due: int
    finalized_at: datetime | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class AttemptFacts:
    invoice_id: str
    purpose: str  # collection, on_session, bad_debt
    status: str  # pending, requires_action, failed (a success pays the invoice: dropped)
    started_at: datetime
    action_expires_at: datetime | None = None  # while requires_action


@dataclass(frozen=True)
class MethodFacts:
    """A ledger.methods.MethodStanding: enough of a method for the domain's rules."""

    kind: MethodKind
    added_seq: int
    usable: bool
    legacy: bool = False  # PayPal vaulted through the legacy path (until token migration)

    @property
    def vault_path(self) -> VaultPath | None:
        """Legacy or not is all the rules ask; the other paths read as None."""
        return VaultPath.LEGACY if self.legacy else None


@dataclass(frozen=True)
class HealthFacts:
    account_id: UUID
    currency: str
    version: int
    closed: bool = False
    provider_links: dict[str, str] = field(default_factory=dict)
    methods: dict[str, MethodFacts] = field(default_factory=dict)
    default_method_id: str | None = None
    subscriptions: dict[str, str] = field(default_factory=dict)  # id -> status
    invoices: dict[str, InvoiceFacts] = field(default_factory=dict)
    attempts: dict[str, AttemptFacts] = field(default_factory=dict)
    last_successful_payment_at: datetime | None = None
    last_failed_attempt_at: datetime | None = None

    # --- derived columns -------------------------------------------------------------

    @property
    def usable_default_method(self) -> bool:
        default = self.methods.get(self.default_method_id or "")
        return default is not None and default.usable

    @property
    def collection_path(self) -> str:
        return collection_path(self.methods, self.default_method_id).value

    def _with_status(self, status: str) -> list[InvoiceFacts]:
        return [i for i in self.invoices.values() if i.status == status]

    @property
    def outstanding(self) -> int:
        return sum(i.amount_due for i in self._with_status(OPEN))

    @property
    def uncollectible(self) -> int:
        return sum(i.amount_due for i in self._with_status(UNCOLLECTIBLE))

    @property
    def oldest_unpaid_due_at(self) -> datetime | None:
        return min((i.due_at for i in self._with_status(OPEN) if i.due_at), default=None)

    @property
    def oldest_unpaid_finalized_at(self) -> datetime | None:
        opened = [i.finalized_at for i in self._with_status(OPEN) if i.finalized_at]
        return min(opened, default=None)

    @property
    def dunning_anchor_at(self) -> datetime | None:
        """The earliest collection date of an open invoice: its due date on the send_invoice
        path, its finalization on the automatic path (collected at once)."""
        anchors = [i.due_at or i.finalized_at for i in self._with_status(OPEN)]
        return min((a for a in anchors if a), default=None)

    @property
    def failed_attempts(self) -> int:
        """Failed off-session (`collection`) attempts of invoices still unpaid."""
        return sum(
            1 for a in self.attempts.values() if a.status == FAILED and a.purpose == "collection"
        )

    @property
    def attempt_in_flight_since(self) -> datetime | None:
        """The oldest attempt waiting for the processor's answer (not for the customer's)."""
        pending = [a.started_at for a in self.attempts.values() if a.status == PENDING]
        return min(pending, default=None)

    @property
    def action_required_until(self) -> datetime | None:
        """The earliest expiry of an attempt waiting for the customer to authenticate."""
        waiting = [
            a.action_expires_at
            for a in self.attempts.values()
            if a.status == REQUIRES_ACTION and a.action_expires_at
        ]
        return min(waiting, default=None)

    @property
    def bad_debt_payment_in_flight(self) -> bool:
        return any(
            a.status in IN_FLIGHT and a.purpose == "bad_debt" for a in self.attempts.values()
        )

    @property
    def active_subscriptions(self) -> int:
        return sum(1 for s in self.subscriptions.values() if s == "active")

    def as_params(self) -> tuple[Any, ...]:
        values = {
            "account_id": self.account_id,
            "currency": self.currency,
            "collection_path": self.collection_path,
            "provider_links": Jsonb(self.provider_links),
            "outstanding": self.outstanding,
            "uncollectible": self.uncollectible,
            "oldest_unpaid_due_at": self.oldest_unpaid_due_at,
            "oldest_unpaid_finalized_at": self.oldest_unpaid_finalized_at,
            "dunning_anchor_at": self.dunning_anchor_at,
            "failed_attempts": self.failed_attempts,
            "last_failed_attempt_at": self.last_failed_attempt_at,
            "last_successful_payment_at": self.last_successful_payment_at,
            "attempt_in_flight_since": self.attempt_in_flight_since,
            "action_required_until": self.action_required_until,
            "bad_debt_payment_in_flight": self.bad_debt_payment_in_flight,
            "usable_default_method": self.usable_default_method,
            "active_subscriptions": self.active_subscriptions,
            "closed": self.closed,
            "detail": Jsonb(_detail(self)),
            "version": self.version,
        }
        return tuple(values[n] for n in _NAMES)


# --- (de)serialising the fold state ---------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _detail(s: HealthFacts) -> dict[str, Any]:
    return {
        "methods": {
            k: {"kind": m.kind, "added_seq": m.added_seq, "usable": m.usable, "legacy": m.legacy}
            for k, m in s.methods.items()
        },
        "default_method_id": s.default_method_id,
        "subscriptions": s.subscriptions,
        "invoices": {
            k: {
                "status": i.status,
                "amount_due": i.amount_due,
                "finalized_at": _iso(i.finalized_at),
                "due_at": _iso(i.due_at),
            }
            for k, i in s.invoices.items()
        },
        "attempts": {
            k: {
                "invoice_id": a.invoice_id,
                "purpose": a.purpose,
                "status": a.status,
                "started_at": a.started_at.isoformat(),
                "action_expires_at": _iso(a.action_expires_at),
            }
            for k, a in s.attempts.items()
        },
    }


def _method_facts(m: Mapping[str, Any]) -> MethodFacts:
    legacy = m.get("legacy", False)
    return MethodFacts(MethodKind(m["kind"]), m["added_seq"], m["usable"], legacy)


def _from_row(row: Mapping[str, Any]) -> HealthFacts:
    d = row["detail"]
    return HealthFacts(
        account_id=row["account_id"],
        currency=row["currency"],
        version=row["version"],
        closed=row["closed"],
        provider_links=dict(row["provider_links"]),
        methods={k: _method_facts(m) for k, m in d["methods"].items()},
        default_method_id=d["default_method_id"],
        subscriptions=dict(d["subscriptions"]),
        invoices={
            k: InvoiceFacts(i["status"], i["amount_due"], _at(i["finalized_at"]), _at(i["due_at"]))
            for k, i in d["invoices"].items()
        },
        attempts={
            k: AttemptFacts(
                a["invoice_id"],
                a["purpose"],
                a["status"],
                datetime.fromisoformat(a["started_at"]),
                _at(a.get("action_expires_at")),  # rows from before 3-D Secure lack it
            )
            for k, a in d["attempts"].items()
        },
        last_successful_payment_at=row["last_successful_payment_at"],
        last_failed_attempt_at=row["last_failed_attempt_at"],
    )


# --- the fold -------------------------------------------------------------------------


def _unusable(s: HealthFacts, method_id: str) -> HealthFacts:
    method = s.methods.get(method_id)
    if method is None:
        return s
    methods = {**s.methods, method_id: replace(method, usable=False)}
    default = default_after_removal(s.methods, method_id, s.default_method_id)
    return replace(s, methods=methods, default_method_id=default)


def _method_added(s: HealthFacts, d: Mapping[str, Any]) -> HealthFacts:
    m = d["method"]
    legacy = m.get("vault_path") == "legacy"
    facts = MethodFacts(MethodKind(m["kind"]), int(m["added_seq"]), True, legacy)
    methods = {**s.methods, m["method_id"]: facts}
    default = m["method_id"] if d["make_default"] or s.default_method_id is None else None
    return replace(s, methods=methods, default_method_id=default or s.default_method_id)


def _migrated(s: HealthFacts, method_id: str) -> HealthFacts:
    facts = s.methods.get(method_id)
    if facts is None:
        return s
    return replace(s, methods={**s.methods, method_id: replace(facts, legacy=False)})


def _invoice(s: HealthFacts, invoice_id: str, **changes: Any) -> HealthFacts:
    facts = s.invoices.get(invoice_id)
    if facts is None:
        return s
    return replace(s, invoices={**s.invoices, invoice_id: replace(facts, **changes)})


def _settled(s: HealthFacts, invoice_id: str) -> HealthFacts:
    """Paid or void: final, so the invoice and its attempts leave the state."""
    invoices = {k: v for k, v in s.invoices.items() if k != invoice_id}
    attempts = {k: a for k, a in s.attempts.items() if a.invoice_id != invoice_id}
    return replace(s, invoices=invoices, attempts=attempts)


def _finalized(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    d = env.data
    facts = s.invoices.get(d["invoice_id"])
    if facts is None:
        return s
    credit = sum(int(v) for v in d["credits_used"].values())
    due = datetime.fromisoformat(d["due_at"]) if d.get("due_at") else None
    return _invoice(
        s, d["invoice_id"], status=OPEN, amount_due=facts.amount_due - credit,
        finalized_at=env.occurred_at, due_at=due,
    )  # fmt: skip


def _attempt_started(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    a = env.data["attempt"]
    if a["invoice_id"] not in s.invoices:
        return s
    facts = AttemptFacts(
        a["invoice_id"], a["purpose"], PENDING, datetime.fromisoformat(a["started_at"])
    )
    return replace(s, attempts={**s.attempts, a["attempt_id"]: facts})


def _succeeded(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    paid = replace(s, last_successful_payment_at=env.occurred_at)
    attempt = s.attempts.get(env.data["attempt_id"])
    return _settled(paid, attempt.invoice_id) if attempt else paid


def _action_required(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    attempt = s.attempts.get(env.data["attempt_id"])
    if attempt is None:
        return s
    expires = datetime.fromisoformat(env.data["expires_at"])
    waiting = replace(attempt, status=REQUIRES_ACTION, action_expires_at=expires)
    return replace(s, attempts={**s.attempts, env.data["attempt_id"]: waiting})


def _failed(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    failed = replace(s, last_failed_attempt_at=env.occurred_at)
    attempt = s.attempts.get(env.data["attempt_id"])
    if attempt is None:
        return failed
    attempts = {**s.attempts, env.data["attempt_id"]: replace(attempt, status=FAILED)}
    return replace(failed, attempts=attempts)


def _linked(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    links = {**s.provider_links, env.data["processor"]: env.data["customer_id"]}
    return replace(s, provider_links=links)


def _subscription(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    sub = env.data["subscription"]
    return replace(s, subscriptions={**s.subscriptions, sub["subscription_id"]: sub["status"]})


def _drafted(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    inv = env.data["invoice"]
    total = sum(int(line["amount"]["amount"]) for line in inv["lines"])
    return replace(s, invoices={**s.invoices, inv["invoice_id"]: InvoiceFacts("draft", total)})


def _method_unusable(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    """Removed, expired or revoked."""
    return _unusable(s, env.data["method_id"])


def _invoice_settled(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    return _settled(s, env.data["invoice_id"])


def _paid_out_of_band(s: HealthFacts, env: EventEnvelope) -> HealthFacts:
    return replace(_invoice_settled(s, env), last_successful_payment_at=env.occurred_at)


Step = Callable[[HealthFacts, EventEnvelope], HealthFacts]

_STEPS: dict[str, Step] = {
    "AccountProfileUpdated": lambda s, env: replace(s, currency=env.data["currency"]),
    "AccountClosed": lambda s, env: replace(s, closed=True),
    "ProviderCustomerLinked": _linked,
    "PaymentMethodAdded": lambda s, env: _method_added(s, env.data),
    "DefaultPaymentMethodSet": lambda s, env: replace(s, default_method_id=env.data["method_id"]),
    "PaymentMethodTokenMigrated": lambda s, env: _migrated(s, env.data["method_id"]),
    "PaymentMethodRemoved": _method_unusable,
    "PaymentMethodExpired": _method_unusable,
    "PaymentMethodRevoked": _method_unusable,
    "Subscribed": _subscription,
    "SubscriptionChanged": _subscription,
    "InvoiceDrafted": _drafted,
    "InvoiceFinalized": _finalized,
    "InvoiceMarkedUncollectible": lambda s, env: _invoice(
        s, env.data["invoice_id"], status=UNCOLLECTIBLE
    ),
    "InvoiceCoveredByCredit": _invoice_settled,
    "InvoiceVoided": _invoice_settled,
    "InvoicePaidOutOfBand": _paid_out_of_band,
    "PaymentAttemptStarted": _attempt_started,
    "PaymentSucceeded": _succeeded,
    "PaymentActionRequired": _action_required,
    "PaymentFailed": _failed,
}
# Nothing the health columns are made of: refunds and disputes move money after an invoice
# was paid, credits show in the invoices they cover, the rest is bookkeeping.
IGNORED = frozenset(
    {
        "AccountForgotten",
        "ProviderCustomerSynced",
        "AccountRecomputeRequested",
        "ReconciliationRepaired",
        "ReconciliationRepairStarted",
        "RefundIssued",
        "DisputeOpened",
        "DisputeClosed",
        "CreditGranted",
        "CreditClosed",
    }
)


class HealthProjection:
    name = "health"
    tables: Sequence[str] = ("account_health",)
    applies = frozenset({"AccountOpened", *_STEPS})
    ignores = IGNORED

    def fold(self, state: HealthFacts | None, envelope: EventEnvelope) -> HealthFacts | None:
        if envelope.event_type == "AccountOpened":
            d = envelope.data
            return HealthFacts(envelope.account_id, d["currency"], envelope.stream_version)
        if state is None:
            return None
        step = _STEPS.get(envelope.event_type)
        after = step(state, envelope) if step else state
        return replace(after, version=envelope.stream_version)

    def load(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> dict[UUID, HealthFacts]:
        cur.execute(
            f"SELECT {_COLUMNS} FROM account_health WHERE account_id = ANY(%s)",
            (list(stream_ids),),
        )
        rows = [dict(zip(_NAMES, values, strict=True)) for values in cur.fetchall()]
        return {r["account_id"]: _from_row(r) for r in rows}

    def save(self, cur: Cursor[Any], states: Mapping[UUID, HealthFacts | None]) -> None:
        self.delete(cur, [sid for sid, s in states.items() if s is None])
        _TABLE.upsert(cur, self.rows(states)[0][1])

    def rows(self, states: Mapping[UUID, Any]) -> TableRows:
        return [(_TABLE, [s.as_params() for s in states.values() if s is not None])]

    def delete(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> None:
        """Removes these streams' rows (a recompute then folds them again from the store)."""
        _TABLE.delete_accounts(cur, stream_ids)
