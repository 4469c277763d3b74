"""The business flow as Prometheus counters, read at scrape time from the `business_flow` read
model and reconciliation's totals (queries/business_flow.py): derived from the events, so
every API replica reports the same values (aggregate with `max without (instance)`, never
`sum`). One read serves every scrape for `ttl_s` seconds. A database that cannot answer
leaves these families out (logged, counted in `billing_business_flow_read_errors_total`);
/metrics still answers with everything else. Built and registered by create_app, never at
import: nothing connects before a scrape asks.

The series whose label values are known in advance are exported from the start, at 0, so
that the first increase of each is seen (`increase()` needs a sample before it); decline
codes are bounded to those the ledger knows by name (`ledger.payments.KNOWN_DECLINES`),
others counted as `other`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, Metric

from adapters.scrape_read import CachedRead, Connect, ReadFamilies
from commands.reconcile_compare import FindingKind
from ledger.payments import KNOWN_DECLINES, Processor
from projections import business_flow as flow
from queries.business_flow import FINDINGS, RECOMPUTE_OUTCOMES, FlowCounts, business_flow

Values = tuple[str, ...]

PROCESSORS = tuple(p.value for p in Processor)
SESSIONS = ("on", "off")
OUTCOMES = (
    ("succeeded", "none"),
    ("action_required", "none"),
    ("failed", "hard"),
    ("failed", "soft"),
)
TRANSITIONS = ("drafted", "open", "paid", "voided", "uncollectible", "recovered", "written_off")


def _same(values: Values) -> Values:
    return values


def _bounded_decline(values: Values) -> Values:
    processor, code = values
    return processor, code if code in KNOWN_DECLINES else "other"


@dataclass(frozen=True)
class _Family:
    name: str  # as exported, `..._total`
    doc: str
    labels: tuple[str, ...]
    always: tuple[Values, ...] = ()  # exported at 0 until counted
    bound: Callable[[Values], Values] = _same

    def empty(self) -> CounterMetricFamily:
        return CounterMetricFamily(self.name, self.doc, labels=list(self.labels))

    def of(self, counts: FlowCounts) -> CounterMetricFamily:
        values = dict.fromkeys(self.always, 0)
        for labels, n in counts.counts.get(self.name, {}).items():
            given = dict(labels)
            bounded = self.bound(tuple(given.get(name, "") for name in self.labels))
            values[bounded] = values.get(bounded, 0) + n
        family = self.empty()
        for label_values, n in sorted(values.items()):
            family.add_metric(list(label_values), n)
        return family


FAMILIES = (
    _Family(
        flow.ATTEMPTS,
        "Payment attempts started, by processor and session (off: collection; on: the"
        " customer present, bad-debt payments included)",
        ("processor", "session"),
        tuple(itertools.product(PROCESSORS, SESSIONS)),
    ),
    _Family(
        flow.OUTCOMES,
        "Payment attempts' outcomes recorded (action_required: asked the customer to"
        " authenticate, an outcome before the final one)",
        ("processor", "session", "outcome", "decline_kind"),
        tuple((p, s, *o) for p, s, o in itertools.product(PROCESSORS, SESSIONS, OUTCOMES)),
    ),
    _Family(
        flow.DECLINES,
        "Payment failures by processor and decline code (codes the ledger does not know by"
        " name count as other)",
        ("processor", "decline_code"),
        bound=_bounded_decline,
    ),
    _Family(
        flow.DUNNING_STEPS,
        "Dunning retries started, by retry number (the off-session collections of the invoice"
        " that failed before it; 10+ from the tenth)",
        ("step",),
    ),
    _Family(
        flow.DUNNING_OUTCOMES,
        "Invoices that left dunning: paid after a failed collection (recovered), or marked"
        " uncollectible by the billing run (exhausted)",
        ("outcome",),
        (("recovered",), ("exhausted",)),
    ),
    _Family(
        flow.TRANSITIONS,
        "Invoice transitions, by the status reached (recovered: paid while uncollectible;"
        " written_off: voided while uncollectible)",
        ("to",),
        tuple((t,) for t in TRANSITIONS),
    ),
    _Family(
        flow.BAD_DEBT_PAYMENTS,
        "Payments of uncollectible invoices: full when no uncollectible invoice is left on"
        " the account after it, partial when some are",
        ("coverage",),
        (("full",), ("partial",)),
    ),
    _Family(
        flow.WRITE_OFFS,
        "Uncollectible invoices written off (voided)",
        (),
        ((),),
    ),
    _Family(
        flow.RECOMPUTES,
        "Recomputes of an account's read models recorded (outcome: requested; what the"
        " refold came to is billing_recompute_outcomes_total)",
        ("outcome",),
        (("requested",),),
    ),
    _Family(
        RECOMPUTE_OUTCOMES,
        "What recomputes came to: completed (refolded), refused (another recompute of the"
        " account was running), failed (an error after it was claimed)",
        ("outcome",),
        (("completed",), ("refused",), ("failed",)),
    ),
    _Family(
        FINDINGS,
        "Reconciliation findings found, by kind (a mismatch counts once, when a check first"
        " finds it)",
        ("kind",),
        tuple((k.value,) for k in FindingKind),
    ),
)
READ = ReadFamilies(
    "billing_business_flow_read_errors",
    (
        "Reads of the business flow the database did not answer (those scrapes left out the"
        " business flow families)"
    ),
    "billing_business_flow_read_duration_seconds",
    "How long the last read of the business flow took",
)


class FlowMetrics:
    """A prometheus_client collector of the business flow (see the module's docstring)."""

    def __init__(
        self,
        connect: Connect,
        ttl_s: float = 5.0,
        statement_timeout_ms: int = 5000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reads = CachedRead(
            connect,
            business_flow,
            "metrics.business_flow_unavailable",
            ttl_s,
            statement_timeout_ms,
            monotonic,
        )

    def describe(self) -> Iterator[Metric]:
        """The families without samples: registering reads nothing."""
        yield from READ.described()
        for family in FAMILIES:
            yield family.empty()

    def collect(self) -> Iterator[Metric]:
        read = self._reads.current()
        yield from READ.collected(self._reads.errors, read)
        if read.state is None:
            return
        for family in FAMILIES:
            yield family.of(read.state)
