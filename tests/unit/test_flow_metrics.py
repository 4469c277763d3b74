"""The business flow collector without a database: the counts it is given become counter
families (known series at 0 from the start, decline codes bounded), registering reads
nothing, and a read the database refused leaves the families out and is counted."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from adapters.flow_metrics import FAMILIES, FlowMetrics
from queries.business_flow import FlowCounts
from tests.unit.test_business_metrics import Refusing


def family(name: str, counts: FlowCounts) -> dict[tuple[str, ...], float]:
    [found] = [f for f in FAMILIES if f.name == name]
    return {
        tuple(s.labels[n] for n in found.labels): s.value
        for s in found.of(counts).samples
        if s.name.endswith("_total")
    }


EMPTY = FlowCounts(counts={})


def test_the_series_known_in_advance_are_there_at_zero() -> None:
    assert family("billing_payment_attempts_total", EMPTY) == {
        ("braintree", "off"): 0,
        ("braintree", "on"): 0,
        ("stripe", "off"): 0,
        ("stripe", "on"): 0,
    }
    outcomes = family("billing_payment_outcomes_total", EMPTY)
    assert len(outcomes) == 2 * 2 * 4
    assert set(outcomes.values()) == {0}
    assert ("stripe", "off", "failed", "hard") in outcomes
    assert family("billing_invoice_transitions_total", EMPTY) == {
        (t,): 0
        for t in ("drafted", "open", "paid", "voided", "uncollectible", "recovered", "written_off")
    }
    assert family("billing_bad_debt_write_offs_total", EMPTY) == {(): 0}
    assert ("attempt_unresolved",) in family("billing_reconciliation_findings_total", EMPTY)
    assert family("billing_payment_declines_total", EMPTY) == {}
    assert family("billing_dunning_steps_total", EMPTY) == {}


def test_counts_are_exported_and_unknown_decline_codes_are_other() -> None:
    declines = "billing_payment_declines_total"
    counts = FlowCounts(
        counts={
            declines: {
                (("decline_code", "insufficient_funds"), ("processor", "stripe")): 3,
                (("decline_code", "issuer_said_no_1234"), ("processor", "stripe")): 2,
                (("decline_code", "weird"), ("processor", "stripe")): 1,
                (("decline_code", "expired_card"), ("processor", "braintree")): 1,
            },
            "billing_dunning_steps_total": {(("step", "1"),): 4, (("step", "10+"),): 1},
            "billing_bad_debt_write_offs_total": {(): 2},
        }
    )
    assert family(declines, counts) == {
        ("stripe", "insufficient_funds"): 3,
        ("stripe", "other"): 3,
        ("braintree", "expired_card"): 1,
    }
    assert family("billing_dunning_steps_total", counts) == {("1",): 4, ("10+",): 1}
    assert family("billing_bad_debt_write_offs_total", counts) == {(): 2}


def test_registering_reads_nothing_and_a_refused_read_leaves_the_families_out() -> None:
    refusing, now = Refusing(), [100.0]
    registry = CollectorRegistry()
    registry.register(FlowMetrics(refusing, ttl_s=5, monotonic=lambda: now[0]))
    assert refusing.asked == 0
    with capture_logs() as logs:
        exposed = generate_latest(registry).decode()
        now[0] += 5
        again = generate_latest(registry).decode()
    assert refusing.asked == 2
    assert [e["event"] for e in logs] == ["metrics.business_flow_unavailable"] * 2
    assert "billing_payment_attempts_total" not in exposed
    assert "billing_business_flow_read_errors_total 1.0" in exposed
    assert "billing_business_flow_read_errors_total 2.0" in again
