"""The business flow counters of the whole fleet (adapters/flow_metrics.py): the counts of
the `business_flow` read model (projections/business_flow.py) summed over the accounts, and
reconciliation's findings found by kind and recomputes' outcomes, in one query."""

from __future__ import annotations

from typing import Any

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

FINDINGS = "billing_reconciliation_findings_total"
RECOMPUTE_OUTCOMES = "billing_recompute_outcomes_total"

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs

_QUERY = (
    "SELECT metric, labels, sum(count)::bigint FROM business_flow_counts"
    " GROUP BY metric, labels"
    " UNION ALL SELECT %s, jsonb_build_object('kind', kind), found"
    " FROM reconciliation_finding_totals"
    " UNION ALL SELECT %s, jsonb_build_object('outcome', outcome), count"
    " FROM recompute_outcome_totals"
)


class FlowCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    # metric (as exported, `..._total`) -> its label values -> the count over the fleet
    counts: dict[str, dict[Labels, int]]


def business_flow(conn: Connection[Any]) -> FlowCounts:
    counts: dict[str, dict[Labels, int]] = {}
    for metric, labels, count in conn.execute(_QUERY, (FINDINGS, RECOMPUTE_OUTCOMES)).fetchall():
        counts.setdefault(metric, {})[tuple(sorted(labels.items()))] = int(count)
    return FlowCounts(counts=counts)
