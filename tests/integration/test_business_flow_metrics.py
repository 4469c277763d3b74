"""The business flow counters on /metrics, on real PostgreSQL: real commands through the real
handlers (a scripted fake gateway) make payments succeed, decline hard and soft, go through
dunning to recovery and to bad debt, pay bad debt in full and in part, write one off,
recompute an account and reconcile an attempt left unresolved; the `business_flow`
projection counts them from the events, and the scrape shows exactly those counts. A
redelivery of every event changes nothing, and a fresh rebuild finds the same counts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.flow_metrics import FAMILIES
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.recompute import recompute
from adapters.reconcile import reconcile_account
from commands import bad_debt, billing, dunning
from commands.models import MarkUncollectible, PayBadDebt, RunBilling, Subscribe, WriteOffBadDebt
from commands.ports import ProcessorUnavailable
from projections import rebuild
from projections.feed import catch_up
from projections.recompute import RecomputeInProgress, recompute_lock_key
from projections.runtime import apply_batch
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

TOKEN = "scrape-token-flow"
FLOW_FAMILIES = {f.name.removesuffix("_total") for f in FAMILIES}  # as the parser names them
FLOW = "business_flow"

pytestmark = pytest.mark.usefixtures("container_gateway")


def subscribe(container: Container, account_id: UUID, on_session: bool, plan: str = PLAN) -> None:
    cmd = Subscribe(account_id=account_id, plan_id=plan, on_session=on_session)
    billing.subscribe(container.deps, cmd, customer_ctx())


def invoices_of(container: Container, account_id: UUID) -> list[str]:
    envelopes = container.reader.stream_between(account_id, 0, None)
    return [e.data["invoice_id"] for e in envelopes if e.event_type == "InvoiceFinalized"]


@dataclass(frozen=True)
class Flow:
    accounts: dict[str, UUID]


@pytest.fixture
def flow(container: Container, gateway: FakeGateway, clock: FixedClock) -> Flow:
    deps = container.deps
    ok = usd_account(deps, "pm_ok")
    subscribe(container, ok, on_session=True)  # paid at once, on session

    soft = usd_account(deps, "pm_soft")
    gateway.decline_next("pm_soft", "insufficient_funds")
    subscribe(container, soft, on_session=False)  # fails soft, the first retry pays it

    hard = usd_account(deps, "pm_hard")
    gateway.decline_next("pm_hard", "expired_card")
    subscribe(container, hard, on_session=True)  # fails hard: the invoice is voided

    bad = usd_account(deps, "pm_bad")
    gateway.always_decline("pm_bad", "insufficient_funds")
    subscribe(container, bad, on_session=False)  # then four retries, then uncollectible

    part = usd_account(deps, "pm_part")
    gateway.always_decline("pm_part", "insufficient_funds")
    subscribe(container, part, on_session=False)
    subscribe(container, part, on_session=False, plan="business-monthly-usd")
    first, second = invoices_of(container, part)
    for invoice_id in (first, second):  # support gives up by hand: no dunning outcome
        mark = MarkUncollectible(account_id=part, invoice_id=invoice_id)
        bad_debt.mark_uncollectible(deps, mark, support_ctx("customer went silent"))

    for _ in range(10):
        clock.advance(days=1)
        report = dunning.run_billing(deps, RunBilling(account_ids=[soft, bad, part]), system_ctx())
        assert report.errors == {}
    gateway._always.clear()
    paid = bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=bad), customer_ctx(uuid4()))
    assert paid.bad_debt is False
    partly = bad_debt.pay_bad_debt(
        deps, PayBadDebt(account_id=part, invoice_ids=[first]), customer_ctx(uuid4())
    )
    assert partly.still_uncollectible == [second]
    write_off = WriteOffBadDebt(account_id=part, invoice_id=second)
    bad_debt.write_off_bad_debt(deps, write_off, support_ctx("not worth chasing"))

    recompute(container, ok, support_ctx("customer doubts the list"))

    stuck = usd_account(deps, "pm_stuck")
    gateway.go_down_next("pm_stuck")
    with pytest.raises(ProcessorUnavailable):
        subscribe(container, stuck, on_session=False)
    clock.advance(hours=3)
    for _ in range(2):  # found by the first check; the second finds it again: not new
        [finding] = reconcile_account(container, stuck).findings
        assert finding.kind.value == "attempt_unresolved"

    catch_up(container.connection, container.projections[FLOW], container.reader)
    return Flow({"ok": ok, "soft": soft, "hard": hard, "bad": bad, "part": part, "stuck": stuck})


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.settings = container.settings.model_copy(
        update={"metrics_token": SecretStr(TOKEN), "metrics_cache_s": 0.0}
    )
    with TestClient(create_app(container, ApiKeys([]))) as test_client:
        yield test_client


Samples = dict[tuple[str, ...], float]


def scrape(client: TestClient) -> dict[str, Samples]:
    """The business flow's counter families (and its read errors), each sample keyed by its
    label values in the labels' name order."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    return {
        family.name: {
            tuple(v for _, v in sorted(s.labels.items())): s.value
            for s in family.samples
            if s.name.endswith("_total")
        }
        for family in text_string_to_metric_families(answer.text)
        if family.name in FLOW_FAMILIES or family.name == "billing_business_flow_read_errors"
    }


def nonzero(samples: Samples) -> Samples:
    return {k: v for k, v in samples.items() if v}


def test_each_flow_counter_has_exactly_what_the_commands_did(
    flow: Flow, client: TestClient
) -> None:
    found = scrape(client)
    # labels in name order: processor, session
    assert found["billing_payment_attempts"] == {
        ("braintree", "off"): 0,
        ("braintree", "on"): 0,
        ("stripe", "off"): 10,  # soft 2, bad 5, part 2, stuck 1
        ("stripe", "on"): 4,  # ok, hard, and the two bad-debt payments
    }
    # decline_kind, outcome, processor, session
    assert nonzero(found["billing_payment_outcomes"]) == {
        ("none", "succeeded", "stripe", "on"): 3,
        ("hard", "failed", "stripe", "on"): 1,
        ("none", "succeeded", "stripe", "off"): 1,
        ("soft", "failed", "stripe", "off"): 8,
    }
    assert len(found["billing_payment_outcomes"]) == 16  # the others at 0
    # decline_code, processor
    assert found["billing_payment_declines"] == {
        ("insufficient_funds", "stripe"): 8,
        ("expired_card", "stripe"): 1,
    }
    assert found["billing_dunning_steps"] == {("1",): 2, ("2",): 1, ("3",): 1, ("4",): 1}
    assert found["billing_dunning_outcomes"] == {("recovered",): 1, ("exhausted",): 1}
    assert found["billing_invoice_transitions"] == {
        ("drafted",): 7,
        ("open",): 7,
        ("paid",): 2,
        ("voided",): 1,
        ("uncollectible",): 3,
        ("recovered",): 2,
        ("written_off",): 1,
    }
    assert found["billing_bad_debt_payments"] == {("full",): 1, ("partial",): 1}
    assert found["billing_bad_debt_write_offs"] == {(): 1}
    assert found["billing_recomputes"] == {("requested",): 1}
    assert found["billing_recompute_outcomes"] == {
        ("completed",): 1,
        ("refused",): 0,
        ("failed",): 0,
    }
    assert nonzero(found["billing_reconciliation_findings"]) == {("attempt_unresolved",): 1}
    assert found["billing_business_flow_read_errors"] == {(): 0}


def test_every_replica_reports_the_same_counts(flow: Flow, container: Container) -> None:
    container.settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    scraped = []
    for _ in range(2):  # two API processes over the same database
        with TestClient(create_app(container, ApiKeys([]))) as client:
            found = scrape(client)
            scraped.append(found)
    assert scraped[0] == scraped[1]
    assert set(scraped[0]) == {*FLOW_FAMILIES, "billing_business_flow_read_errors"}
    assert scraped[0]["billing_bad_debt_write_offs"] == {(): 1}


def flow_rows(container: Container) -> list[tuple[object, ...]]:
    with container.connection() as conn:
        return conn.execute(
            "SELECT account_id, metric, labels::text, count FROM business_flow_counts"
            " ORDER BY 1, 2, 3"
        ).fetchall()


def test_a_redelivery_counts_nothing_twice_and_a_rebuild_finds_the_same_counts(
    flow: Flow, container: Container, client: TestClient
) -> None:
    projection = container.projections[FLOW]
    before, rows = scrape(client), flow_rows(container)
    assert rows
    everything = container.reader.read_after(0, 100_000)
    with container.connection() as conn:  # every event delivered again (Kafka redelivery)
        outcome = apply_batch(conn, projection, everything, container.reader)
    assert (outcome.applied, outcome.skipped) == (0, len(everything))
    one = flow.accounts["bad"]
    again = container.reader.stream_between(one, 0, None)
    with container.connection() as conn:  # one stream replayed, as a recompute reads it
        assert apply_batch(conn, projection, again, container.reader).applied == 0
    assert (scrape(client), flow_rows(container)) == (before, rows)

    with container.connection() as conn, rebuild.exclusive_rebuild(conn, FLOW):
        conn.commit()
        start = rebuild.prepare(conn, projection, container.reader.head(), fresh=True)
        rebuild.build(conn, projection, container.reader, batch_size=7)
        report = rebuild.swap(conn, projection, container.reader, start)
    assert report.differences == []
    assert report.accounts_compared == len(flow.accounts)
    assert (scrape(client), flow_rows(container)) == (before, rows)


def test_a_recompute_refolds_the_same_counts_and_counts_itself(
    flow: Flow, container: Container, client: TestClient
) -> None:
    before = scrape(client)
    account_id = flow.accounts["part"]
    with container.connection() as conn:
        conn.execute("DELETE FROM business_flow_counts WHERE account_id = %s", (account_id,))
        conn.commit()
    damaged = scrape(client)
    assert damaged["billing_bad_debt_write_offs"] == {(): 0}
    _, changes = recompute(container, account_id, support_ctx("counts look wrong"))
    assert changes[FLOW].changed
    after = scrape(client)
    assert after["billing_recomputes"] == {("requested",): 2}
    assert after["billing_recompute_outcomes"][("completed",)] == 2
    recomputes = ("billing_recomputes", "billing_recompute_outcomes")
    assert {**after, **{k: before[k] for k in recomputes}} == before


def test_a_refused_and_a_failed_recompute_are_counted_as_such(
    flow: Flow,
    container: Container,
    client: TestClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id = flow.accounts["ok"]
    with psycopg.connect(database_url) as holder, holder.transaction():
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (recompute_lock_key(account_id),))
        with pytest.raises(RecomputeInProgress):
            recompute(container, account_id, support_ctx("second click"))

    def broken(*_: object) -> list[object]:
        raise RuntimeError("the store went away mid-read")

    monkeypatch.setattr(container.reader, "stream_between", broken)
    with pytest.raises(RuntimeError):
        recompute(container, account_id, support_ctx("during an outage"))
    monkeypatch.undo()
    found = scrape(client)
    assert found["billing_recompute_outcomes"] == {
        ("completed",): 1,
        ("refused",): 1,
        ("failed",): 1,
    }
    catch_up(container.connection, container.projections[FLOW], container.reader)
    # the failed one's request is recorded (its refold failed); the refused one recorded nothing
    assert scrape(client)["billing_recomputes"] == {("requested",): 2}


def test_promtool_finds_no_problem_in_the_exposition(flow: Flow, client: TestClient) -> None:
    """`promtool check metrics` lints the whole /metrics, the flow families included."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not on PATH: run scripts/setup-services (Debian's prometheus)"
    linted = subprocess.run(
        [promtool, "check", "metrics"],
        input=answer.text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (linted.returncode, linted.stdout + linted.stderr) == (0, "")
