"""The `business_flow` read model: how many times each business step happened, per account,
counted from the events (payments and their outcomes, dunning, invoice transitions, bad debt,
recomputes). Exported at scrape time summed over the accounts (adapters/flow_metrics.py),
so every API replica reports the same counters.

Counts are kept per account, like every other read model, so that the projection framework
makes them exact: a redelivered or replayed event is skipped by its stream version, a
recompute refolds one account's counts from its stream, and a rebuild compares and swaps
them account by account. A count only grows while events are appended.

Beside the counts the fold keeps what it needs to label later events: each attempt still in
flight (processor, session, purpose, invoice) and each invoice not yet paid or void (status,
failed off-session collections: dunning's retry number). Paid and void invoices and settled
attempts leave the state, so it stays as small as what is unpaid.

What each event counts (docs/observability.md, "Business flow"):
* `PaymentAttemptStarted`: an attempt (processor, session: `off` for collection, `on` for
  on-session and bad-debt payments, the customer being present); a collection attempt of an
  invoice that failed `n` off-session collections already is dunning step `n`.
* `PaymentSucceeded`, `PaymentActionRequired`, `PaymentFailed`: an outcome of the attempt
  (decline kind from the failure's recorded kind); a failure also counts its decline code.
* An invoice's transitions: drafted, open, paid (by a payment, out of band, or covered by
  credit at finalization), voided, uncollectible, recovered (paid while uncollectible),
  written off (voided while uncollectible).
* A payment of an uncollectible invoice is a bad-debt payment: `full` when no uncollectible
  invoice is left on the account after it, `partial` when some are. A write-off is counted.
* Dunning outcomes: `recovered` when an open invoice with a failed off-session collection
  is paid; `exhausted` when an invoice is marked uncollectible by the ledger itself (the
  billing run's dunning), not by support's hand.
* `AccountRecomputeRequested`: a recompute, outcome `requested` (whether the refold changed
  anything is answered to the caller, not recorded in an event).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.types.json import Jsonb

from ledger.envelope import EventEnvelope
from ledger.payments import failure_kind
from projections.rows import RowTable, TableRows

ATTEMPTS = "billing_payment_attempts_total"
OUTCOMES = "billing_payment_outcomes_total"
DECLINES = "billing_payment_declines_total"
DUNNING_STEPS = "billing_dunning_steps_total"
DUNNING_OUTCOMES = "billing_dunning_outcomes_total"
TRANSITIONS = "billing_invoice_transitions_total"
BAD_DEBT_PAYMENTS = "billing_bad_debt_payments_total"
WRITE_OFFS = "billing_bad_debt_write_offs_total"
RECOMPUTES = "billing_recomputes_total"

OPEN, UNCOLLECTIBLE = "open", "uncollectible"
UNKNOWN = "unknown"  # an outcome of an attempt the fold never saw start (not expected)
LAST_STEP = 10  # dunning steps from the tenth on count as "10+" (a bounded label)

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs
Key = tuple[str, Labels]


def key(metric: str, **labels: str) -> Key:
    return metric, tuple(sorted(labels.items()))


def step_label(failures: int) -> str:
    return str(failures) if failures < LAST_STEP else f"{LAST_STEP}+"


@dataclass(frozen=True)
class AttemptFlow:
    invoice_id: str
    processor: str
    session: str  # on, off
    purpose: str  # collection, on_session, bad_debt


@dataclass(frozen=True)
class InvoiceFlow:
    status: str  # draft, open, uncollectible (paid and void invoices are dropped)
    collection_failures: int = 0  # failed off-session (`collection`) attempts


@dataclass(frozen=True)
class FlowState:
    counts: dict[Key, int] = field(default_factory=dict)
    attempts: dict[str, AttemptFlow] = field(default_factory=dict)  # in flight only
    invoices: dict[str, InvoiceFlow] = field(default_factory=dict)  # unpaid only


def counted(s: FlowState, *keys: Key) -> FlowState:
    counts = dict(s.counts)
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return replace(s, counts=counts)


# --- the fold -------------------------------------------------------------------------


def _session(purpose: str) -> str:
    return "off" if purpose == "collection" else "on"


def _attempt_of(s: FlowState, attempt_id: str) -> AttemptFlow:
    return s.attempts.get(attempt_id) or AttemptFlow("", UNKNOWN, UNKNOWN, UNKNOWN)


def _outcome(a: AttemptFlow, outcome: str, decline_kind: str = "none") -> Key:
    return key(
        OUTCOMES,
        processor=a.processor,
        session=a.session,
        outcome=outcome,
        decline_kind=decline_kind,
    )


def _without_attempt(s: FlowState, attempt_id: str) -> FlowState:
    return replace(s, attempts={k: a for k, a in s.attempts.items() if k != attempt_id})


def _without_invoice(s: FlowState, invoice_id: str) -> FlowState:
    """Its attempts in flight stay until their own outcome (the domain refuses settling an
    invoice another way while one is in flight; if it ever did not, the late outcome would
    keep its processor and session instead of counting as `unknown`)."""
    return replace(s, invoices={k: i for k, i in s.invoices.items() if k != invoice_id})


def _with_invoice(s: FlowState, invoice_id: str, invoice: InvoiceFlow) -> FlowState:
    return replace(s, invoices={**s.invoices, invoice_id: invoice})


def _attempt_started(s: FlowState, env: EventEnvelope) -> FlowState:
    a = env.data["attempt"]
    attempt = AttemptFlow(a["invoice_id"], a["processor"], _session(a["purpose"]), a["purpose"])
    s = counted(s, key(ATTEMPTS, processor=attempt.processor, session=attempt.session))
    invoice = s.invoices.get(attempt.invoice_id)
    if attempt.purpose == "collection" and invoice and invoice.collection_failures:
        s = counted(s, key(DUNNING_STEPS, step=step_label(invoice.collection_failures)))
    return replace(s, attempts={**s.attempts, a["attempt_id"]: attempt})


def _paid(s: FlowState, invoice_id: str) -> FlowState:
    """An invoice paid, however: by an attempt, out of band, or covered by credit."""
    invoice = s.invoices.get(invoice_id)
    s = _without_invoice(s, invoice_id)
    if invoice is None:
        return counted(s, key(TRANSITIONS, to="paid"))
    if invoice.status == UNCOLLECTIBLE:
        left = any(i.status == UNCOLLECTIBLE for i in s.invoices.values())
        coverage = "partial" if left else "full"
        return counted(
            s, key(TRANSITIONS, to="recovered"), key(BAD_DEBT_PAYMENTS, coverage=coverage)
        )
    s = counted(s, key(TRANSITIONS, to="paid"))
    if invoice.collection_failures:
        s = counted(s, key(DUNNING_OUTCOMES, outcome="recovered"))
    return s


def _succeeded(s: FlowState, env: EventEnvelope) -> FlowState:
    attempt_id = env.data["attempt_id"]
    attempt = _attempt_of(s, attempt_id)
    s = _without_attempt(counted(s, _outcome(attempt, "succeeded")), attempt_id)
    return _paid(s, attempt.invoice_id) if attempt.invoice_id else s


def _action_required(s: FlowState, env: EventEnvelope) -> FlowState:
    return counted(s, _outcome(_attempt_of(s, env.data["attempt_id"]), "action_required"))


def _failed(s: FlowState, env: EventEnvelope) -> FlowState:
    attempt_id = env.data["attempt_id"]
    attempt = _attempt_of(s, attempt_id)
    code = env.data["decline_code"]
    kind = env.data.get("failure") or failure_kind(code).value  # v1 messages lack it
    decline = key(DECLINES, processor=attempt.processor, decline_code=code)
    s = counted(s, _outcome(attempt, "failed", kind), decline)
    invoice = s.invoices.get(attempt.invoice_id)
    if attempt.purpose == "collection" and invoice is not None:
        failures = invoice.collection_failures + 1
        s = _with_invoice(s, attempt.invoice_id, replace(invoice, collection_failures=failures))
    return _without_attempt(s, attempt_id)


def _drafted(s: FlowState, env: EventEnvelope) -> FlowState:
    invoice_id = env.data["invoice"]["invoice_id"]
    return _with_invoice(
        counted(s, key(TRANSITIONS, to="drafted")), invoice_id, InvoiceFlow("draft")
    )


def _finalized(s: FlowState, env: EventEnvelope) -> FlowState:
    invoice_id = env.data["invoice_id"]
    s = counted(s, key(TRANSITIONS, to="open"))
    invoice = s.invoices.get(invoice_id, InvoiceFlow(OPEN))
    return _with_invoice(s, invoice_id, replace(invoice, status=OPEN))


def _voided(s: FlowState, env: EventEnvelope) -> FlowState:
    invoice_id = env.data["invoice_id"]
    invoice = s.invoices.get(invoice_id)
    s = _without_invoice(s, invoice_id)
    if invoice is not None and invoice.status == UNCOLLECTIBLE:
        return counted(s, key(TRANSITIONS, to="written_off"), key(WRITE_OFFS))
    return counted(s, key(TRANSITIONS, to="voided"))


def _marked_uncollectible(s: FlowState, env: EventEnvelope) -> FlowState:
    invoice_id = env.data["invoice_id"]
    s = counted(s, key(TRANSITIONS, to="uncollectible"))
    if env.meta["actor"]["kind"] != "support":  # the billing run's dunning gave up
        s = counted(s, key(DUNNING_OUTCOMES, outcome="exhausted"))
    invoice = s.invoices.get(invoice_id, InvoiceFlow(UNCOLLECTIBLE))
    return _with_invoice(s, invoice_id, replace(invoice, status=UNCOLLECTIBLE))


Step = Callable[[FlowState, EventEnvelope], FlowState]

_STEPS: dict[str, Step] = {
    "InvoiceDrafted": _drafted,
    "InvoiceFinalized": _finalized,
    "InvoiceCoveredByCredit": lambda s, env: _paid(s, env.data["invoice_id"]),
    "InvoiceVoided": _voided,
    "InvoiceMarkedUncollectible": _marked_uncollectible,
    "InvoicePaidOutOfBand": lambda s, env: _paid(s, env.data["invoice_id"]),
    "PaymentAttemptStarted": _attempt_started,
    "PaymentSucceeded": _succeeded,
    "PaymentActionRequired": _action_required,
    "PaymentFailed": _failed,
    "AccountRecomputeRequested": lambda s, env: counted(s, key(RECOMPUTES, outcome="requested")),
}
# No business step of the flow: the account's identity, methods and subscriptions (their
# invoices are counted), credits, refunds and disputes, reconciliation's records (its
# findings are counted where checks are stored, adapters/postgres/reconciliation.py).
IGNORED = frozenset(
    {
        "AccountForgotten",
        "AccountOpened",
        "AccountProfileUpdated",
        "AccountClosed",
        "ProviderCustomerLinked",
        "ProviderCustomerSynced",
        "PaymentMethodAdded",
        "DefaultPaymentMethodSet",
        "PaymentMethodRemoved",
        "PaymentMethodExpired",
        "PaymentMethodRevoked",
        "PaymentMethodTokenMigrated",
        "Subscribed",
        "SubscriptionChanged",
        "RefundIssued",
        "DisputeOpened",
        "DisputeClosed",
        "CreditGranted",
        "CreditClosed",
        "ReconciliationRepaired",
        "ReconciliationRepairStarted",
    }
)

# --- the tables -----------------------------------------------------------------------

_COUNTS = "business_flow_counts"
_ATTEMPTS = "business_flow_attempts"
_INVOICES = "business_flow_invoices"
_COUNT_ROWS = RowTable.of(_COUNTS, "account_id, metric, labels, count")
_ATTEMPT_ROWS = RowTable.of(
    _ATTEMPTS, "account_id, attempt_id, invoice_id, processor, session, purpose"
)
_INVOICE_ROWS = RowTable.of(_INVOICES, "account_id, invoice_id, status, collection_failures")


def _labels_of(raw: Mapping[str, str]) -> Labels:
    return tuple(sorted(raw.items()))


def _group(rows: Iterable[Sequence[Any]]) -> dict[UUID, list[Sequence[Any]]]:
    grouped: dict[UUID, list[Sequence[Any]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


class BusinessFlowProjection:
    name = "business_flow"
    tables: Sequence[str] = (_COUNTS, _ATTEMPTS, _INVOICES)
    applies = frozenset(_STEPS)
    ignores = IGNORED

    def fold(self, state: FlowState | None, envelope: EventEnvelope) -> FlowState | None:
        step = _STEPS.get(envelope.event_type)
        return step(state or FlowState(), envelope) if step else state

    def load(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> dict[UUID, FlowState]:
        ids = (list(stream_ids),)
        cur.execute(
            f"SELECT account_id, metric, labels, count FROM {_COUNTS} WHERE account_id = ANY(%s)",
            ids,
        )
        counts = _group(cur.fetchall())
        cur.execute(
            "SELECT account_id, attempt_id, invoice_id, processor, session, purpose"
            f" FROM {_ATTEMPTS} WHERE account_id = ANY(%s)",
            ids,
        )
        attempts = _group(cur.fetchall())
        cur.execute(
            "SELECT account_id, invoice_id, status, collection_failures"
            f" FROM {_INVOICES} WHERE account_id = ANY(%s)",
            ids,
        )
        invoices = _group(cur.fetchall())
        return {
            sid: FlowState(
                counts={(r[1], _labels_of(r[2])): r[3] for r in counts.get(sid, [])},
                attempts={r[1]: AttemptFlow(*r[2:]) for r in attempts.get(sid, [])},
                invoices={r[1]: InvoiceFlow(*r[2:]) for r in invoices.get(sid, [])},
            )
            for sid in counts.keys() | attempts.keys() | invoices.keys()
        }

    def save(self, cur: Cursor[Any], states: Mapping[UUID, FlowState | None]) -> None:
        """Replaces these streams' rows with their states' (a state of None: no rows)."""
        self.delete(cur, list(states))
        for table, rows in self.rows(states):
            table.insert(cur, rows)

    def rows(self, states: Mapping[UUID, FlowState | None]) -> TableRows:
        kept = [(sid, s) for sid, s in states.items() if s is not None]
        counts = [
            (sid, m, Jsonb(dict(labels)), n)
            for sid, s in kept
            for (m, labels), n in s.counts.items()
        ]
        attempts = [
            (sid, k, a.invoice_id, a.processor, a.session, a.purpose)
            for sid, s in kept
            for k, a in s.attempts.items()
        ]
        invoices = [
            (sid, k, i.status, i.collection_failures)
            for sid, s in kept
            for k, i in s.invoices.items()
        ]
        return [(_COUNT_ROWS, counts), (_ATTEMPT_ROWS, attempts), (_INVOICE_ROWS, invoices)]

    def delete(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> None:
        """Removes these streams' rows (a recompute then folds them again from the store)."""
        if not stream_ids:
            return
        for table in self.tables:
            cur.execute(f"DELETE FROM {table} WHERE account_id = ANY(%s)", (list(stream_ids),))
