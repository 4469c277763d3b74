"""Month-end: the billing run over N accounts whose subscriptions are all due, measured
end to end (appends, then the relay and every projection caught up), one account per
transaction (before) and a page per transaction (after), against raw COPY of the same
rows in the same run. See docs/benchmarks.md, "Month-end".

    python -m bench.month_end --accounts 10000 [--durable] [--page 500] [--write-docs]

With --write-docs, docs/benchmarks/month_end.png is redrawn from this run (to draw fsync
off and on side by side: `python -m bench.charts month-end-A.json month-end-B.json`).

The processor answers at once (`InstantProcessor`): what is measured is the ledger, not a
processor's latency."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg

from adapters import heap
from adapters.bootstrap import Container
from bench import charts, copy_reference, report
from bench.machine import describe
from bench.measure import Stopwatch, say
from bench.pipeline import ledger_process
from bench.services import Services, container_for, create_topic, running_services
from commands import dunning
from commands.base import Deps
from commands.models import CommandContext, RunBilling
from commands.ports import ChargeRequest, ChargeResult, ProcessorUnavailable, RefundRequest
from ledger.account import Account
from ledger.meta import Actor, ActorKind, EventMeta, Surface
from ledger.payments import AttemptPurpose, Processor
from ledger.profile import BillingProfile

PLAN = "pro-monthly-usd"
SETUP_CHUNK = 500
CATCH_UP_TIMEOUT_S = 1800.0
POLL_S = 0.2
CTX = CommandContext(actor_id="billing-run", actor_kind=ActorKind.SYSTEM, surface=Surface.SYSTEM)


class InstantProcessor:
    """Every charge succeeds at once (no network, no processor latency)."""

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return ChargeResult(succeeded=True, processor_payment_id=f"pay_{request.attempt_id}")

    def refund(self, request: RefundRequest) -> str:
        raise ProcessorUnavailable("the bench makes no refunds")

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        return None

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        raise ProcessorUnavailable("the bench cancels nothing")


@dataclass(frozen=True)
class Measured:
    key: str
    stage: str
    accounts: int
    events: int
    append_s: float
    visible_s: float
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "stage": self.stage,
            "accounts": self.accounts,
            "events": self.events,
            "append_s": round(self.append_s, 2),
            "visible_s": round(self.visible_s, 2),
            "renewals_per_s_appended": round(self.accounts / self.append_s, 1),
            "renewals_per_s_end_to_end": round(self.accounts / self.visible_s, 1),
            "events_per_s_appended": round(self.events / self.append_s, 1),
            "errors": self.errors,
        }


def _meta(at: datetime) -> EventMeta:
    return EventMeta(
        actor=Actor(id="bench-month-end", kind=ActorKind.SERVICE),
        surface=Surface.IAPI,
        correlation_id=uuid4(),
        occurred_at=at,
    )


def _due_account(deps: Deps, i: int, since: datetime) -> Account:
    """An account that subscribed `since` (its first invoice paid by card): due now."""
    meta = _meta(since)
    profile = BillingProfile(f"Month End {i:07d}", f"me-{i:07d}@example.com", "US", "USD")
    account = Account.open(uuid4(), profile, meta)
    method_id, sub_id, inv_id, attempt_id = (str(uuid4()) for _ in range(4))
    account.add_card(method_id, "pm_card_visa", "visa", "4242", 12, 2030, True, meta)
    account.subscribe(sub_id, deps.catalogue.plan(PLAN), inv_id, False, meta)
    account.start_attempt(attempt_id, inv_id, method_id, AttemptPurpose.COLLECTION, meta)
    account.record_success(attempt_id, f"pay_{attempt_id}", meta)
    return account


def build_fleet(deps: Deps, count: int, first: int) -> list[UUID]:
    since = deps.clock.now() - timedelta(days=32)
    ids: list[UUID] = []
    for start in range(first, first + count, SETUP_CHUNK):
        accounts = [
            _due_account(deps, i, since)
            for i in range(start, min(start + SETUP_CHUNK, first + count))
        ]
        deps.app.save(*accounts)
        ids += [a.id for a in accounts]
    return ids


def _head(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def _caught_up(dsn: str, projections: list[str], ids: list[UUID]) -> Callable[[], bool]:
    """Whether the relay and every projection have the fleet's last events."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT originator_id, max(originator_version) FROM ledger_events"
            " WHERE originator_id = ANY(%s) GROUP BY 1",
            (ids,),
        ).fetchall()
    last = {r[0]: r[1] for r in rows}
    head = _head(dsn)
    query = (
        "SELECT p.projection, count(*) FROM projection_streams p"
        " JOIN unnest(%s::uuid[], %s::bigint[]) AS t(id, v) ON p.stream_id = t.id"
        " WHERE p.version >= t.v GROUP BY 1"
    )
    args = (list(last), list(last.values()))

    def check() -> bool:
        with psycopg.connect(dsn) as conn:
            relay = conn.execute(
                "SELECT coalesce(min(position), 0) FROM relay_positions"
            ).fetchone()
            if not relay or relay[0] < head:
                return False
            counts: dict[str, int] = dict(conn.execute(query, args).fetchall())
        return all(counts.get(p, 0) >= len(last) for p in projections)

    return check


def _wait(check: Callable[[], bool], what: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    while not check():
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"{what}: a pipeline process exited (logs in the work dir)")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: the pipeline did not catch up")
        time.sleep(POLL_S)


def _measure_run(
    services: Services,
    container: Container,
    key: str,
    run: Callable[[Deps, list[UUID]], dunning.RunReport],
    ids: list[UUID],
    procs: list[subprocess.Popen[bytes]],
) -> Measured:
    # As in production: no test clocks (the development container asks for each account's).
    deps = replace(container.deps, gateway=InstantProcessor(), account_clocks=None)
    projections = list(container.projections)
    before = _head(services.dsn)
    watch = Stopwatch()
    report_ = run(deps, ids)
    append_s = watch.seconds
    events = _head(services.dsn) - before
    _wait(_caught_up(services.dsn, projections, ids), key, procs)
    visible_s = watch.seconds
    stage = {"before": "one account per transaction", "after": "a page per transaction"}[key]
    say(f"  {key}: {len(ids):,} accounts, {events:,} events, appended in {append_s:.1f}s,"
        f" visible in {visible_s:.1f}s, {len(report_.errors)} errors")  # fmt: skip
    return Measured(key, stage, len(ids), events, append_s, visible_s, len(report_.errors))


def _one_by_one(deps: Deps, ids: list[UUID]) -> dunning.RunReport:
    return dunning.run_one_by_one(deps, RunBilling(account_ids=ids), CTX)


def batched(page: int) -> Callable[[Deps, list[UUID]], dunning.RunReport]:
    def run(deps: Deps, ids: list[UUID]) -> dunning.RunReport:
        total = dunning.RunReport()
        for start in range(0, len(ids), 10_000):  # RunBilling takes at most 10,000
            cmd = RunBilling(account_ids=ids[start : start + 10_000])
            total.add(dunning.run_billing(deps, cmd, CTX, page))
        return total

    return run


def _one_by_one_all(deps: Deps, ids: list[UUID]) -> dunning.RunReport:
    total = dunning.RunReport()
    for start in range(0, len(ids), 10_000):
        total.add(_one_by_one(deps, ids[start : start + 10_000]))
    return total


def copy_of_run(dsn: str, first: int, last: int) -> dict[str, Any]:
    """COPY, in one transaction, of the rows the batched run stored (same bytes)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events"
            " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id",
            (first, last),
        ).fetchall()
        measured = copy_reference.copy_rows(conn, rows, len(rows))
    return {"events": measured.events, "seconds": round(measured.seconds, 3),
            "events_per_s": round(measured.per_second, 1)}  # fmt: skip


@contextmanager
def _pipeline(services: Services) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`ledger relay` and `ledger project` (every projection)."""
    with ExitStack() as stack:
        relay = stack.enter_context(ledger_process(services, "relay"))
        yield [relay, stack.enter_context(ledger_process(services, "project"))]


def measure(accounts: int, page: int, durable: bool, paged_only: bool = False) -> dict[str, Any]:
    started = datetime.now(UTC)
    with running_services(durable) as services:
        asyncio.run(create_topic(services.bootstrap, services.topic))
        machine = describe(services.dsn)
        with container_for(services) as container, _pipeline(services) as procs:
            heap.settle()  # as `ledger scheduler`, which runs the billing run, does once built
            fleets = 1 if paged_only else 2
            say(f"fleets: {fleets} x {accounts:,} accounts due")
            before_ids = [] if paged_only else build_fleet(container.deps, accounts, 0)
            after_ids = build_fleet(container.deps, accounts, accounts)
            projections = list(container.projections)
            _wait(_caught_up(services.dsn, projections, before_ids + after_ids), "setup", procs)
            runs = []
            if not paged_only:
                say("before: the run one account per transaction")
                runs.append(
                    _measure_run(services, container, "before", _one_by_one_all, before_ids, procs)
                )
            say(f"after: the run {page} accounts per transaction")
            head = _head(services.dsn)
            after = _measure_run(services, container, "after", batched(page), after_ids, procs)
            runs.append(after)
            copy = copy_of_run(services.dsn, head, head + after.events)
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "options": {
            "accounts": accounts,
            "page": page,
            "durable": durable,
            "paged_only": paged_only,
        },
        "machine": machine,
        "runs": [r.as_dict() for r in runs],
        "copy": copy,
    }


def markdown(result: dict[str, Any]) -> str:
    copy = result["copy"]["events_per_s"]
    lines = [
        f"fsync {'on' if result['options']['durable'] else 'off'},"
        f" {result['options']['accounts']:,} accounts, page {result['options']['page']};"
        f" raw COPY of the batched run's rows: {copy:,.0f} events/s",
        "",
        "| run | events | appended: renewals/s | events/s | vs COPY | end to end: renewals/s"
        " | 1M accounts end to end |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        million_s = 1_000_000 / r["renewals_per_s_end_to_end"]
        lines.append(
            f"| {r['stage']} | {r['events']:,} | {r['renewals_per_s_appended']:,.0f}"
            f" | {r['events_per_s_appended']:,.0f} | 1/{copy / r['events_per_s_appended']:.0f}"
            f" | {r['renewals_per_s_end_to_end']:,.0f} | {million_s / 60:.0f} min |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.month_end", description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000, help="N per run")
    parser.add_argument("--page", type=int, default=dunning.PAGE, help="accounts per save")
    parser.add_argument("--durable", action="store_true", help="fsync and synchronous commit on")
    parser.add_argument(
        "--paged-only", action="store_true", help="only the paged run (one fleet, not two)"
    )
    parser.add_argument("--write-docs", action="store_true", help="redraw month_end.png")
    args = parser.parse_args()
    result = measure(args.accounts, args.page, args.durable, args.paged_only)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = report.ROOT / "bench" / "results" / f"month-end-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))
    say(f"results in {path.relative_to(report.ROOT)}")
    if args.write_docs:
        for drawn in charts.draw([result], charts.DOCS_DIR):
            say(f"drew {drawn.relative_to(report.ROOT)}")


if __name__ == "__main__":
    main()
