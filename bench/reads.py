"""Reads: how long the ledger's read paths take on the server, with full tables. See
docs/benchmarks.md, "Reads".

    python -m bench.reads [--invoices 1000000] [--samples 200] [--durable] [--write-docs]

On a private PostgreSQL (no Kafka): accounts with a 500-event history built through the
commands, the read models fed from the store, then the `invoices`, `accounts`,
`account_health` and `projection_streams` tables filled by COPY (bench/read_fill.py) and
analysed. Each read is called in-process as its HTTP route calls it (a pool connection, the
query function), `--samples` times after a few unmeasured calls; nothing goes over HTTP."""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import Connection

from adapters import heap
from adapters.bootstrap import Container, build
from adapters.recompute import recompute
from adapters.settings import Settings
from bench import read_report, report
from bench.machine import describe
from bench.measure import latency_summary, say
from bench.read_fill import MONTHS, Filled, fill
from bench.read_history import SUPPORT, WalkingClock, build_history
from bench.read_plans import Plan, explain, explain_generic, statement_of
from bench.services import running_database
from ledger.invoices import DisplayStatus
from projections.feed import catch_up
from queries.health import get_health
from queries.invoices import DateRange, InvoiceFilters, InvoicePage, list_invoices

HISTORY_EVENTS = 500
RECOMPUTES_PER_ACCOUNT = 20  # each recompute records one event: histories stay 500..519
WARM_UP = 5
PAGE_SIZE = 20  # the API's default page, and the console's
HISTORY_START = datetime(2019, 1, 1, 12, tzinfo=UTC)
CURSOR_KEY = b"bench-reads-cursor-key"


@dataclass(frozen=True)
class PageCase:
    key: str
    label: str
    account: UUID
    invoices: int
    page: int  # 1: the first page; n: after following n - 1 cursors
    filters: InvoiceFilters

    @property
    def plan_required(self) -> bool:
        """The big account's pages must walk the keyset index (the issue's goal); a small
        account's plan is reported only: sorting its two dozen rows is as cheap."""
        return self.key.startswith("big")


def timed(samples: int, call: Callable[[int], object], warm_up: int = WARM_UP) -> list[float]:
    for i in range(warm_up):
        call(i)
    seconds: list[float] = []
    for i in range(samples):
        began = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - began)
    return seconds


# --- 1. recompute ----------------------------------------------------------------------


def histories(container: Container, clock: WalkingClock, samples: int) -> list[UUID]:
    count = max(1, -(-samples // RECOMPUTES_PER_ACCOUNT))
    say(f"{count} accounts with {HISTORY_EVENTS} events, through the commands")
    ids = []
    for i in range(count):  # side by side in time: each from the same start
        clock.current = HISTORY_START
        ids.append(build_history(container.deps, clock, i, HISTORY_EVENTS))
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    return ids


def measure_recompute(container: Container, ids: list[UUID], samples: int) -> dict[str, Any]:
    """`adapters.recompute.recompute`, what POST /accounts/{id}/recompute calls, round robin
    over the accounts (each call records one `AccountRecomputeRequested`); beside it, the
    part that reads and decodes the stream (`StoreReader.stream_between`)."""
    for i in range(WARM_UP):  # warm-ups record their event too
        recompute(container, ids[i % len(ids)], SUPPORT)
    before = _heads(container, ids)
    full = timed(samples, lambda i: recompute(container, ids[i % len(ids)], SUPPORT), warm_up=0)
    read = timed(samples, lambda i: container.reader.stream_between(ids[i % len(ids)], 0, None))
    after = _heads(container, ids)
    return {
        "accounts": len(ids),
        "events_at_first_sample": min(before.values()) + 1,
        "events_at_last_sample": max(after.values()),
        "recompute_ms": latency_summary(full),
        "stream_read_ms": latency_summary(read),
    }


def _heads(container: Container, ids: list[UUID]) -> dict[UUID, int]:
    with container.connection() as conn:
        rows = conn.execute(
            "SELECT originator_id, max(originator_version) FROM ledger_events"
            " WHERE originator_id = ANY(%s) GROUP BY 1",
            (ids,),
        ).fetchall()
        conn.rollback()
    return {r[0]: r[1] for r in rows}


# --- 2. invoice pages ------------------------------------------------------------------


def page_cases(filled: Filled, now: datetime) -> list[PageCase]:
    """The first page, as the account page opens, and a later page with the console's
    filters: the big account's paid invoices issued in the last year, a small account's
    invoices issued in the last two years (all 24 of them: a second page exists)."""
    last_year = InvoiceFilters(
        status=DisplayStatus.PAID, issued=DateRange(start=now - timedelta(days=365))
    )
    two_years = InvoiceFilters(issued=DateRange(start=now - timedelta(days=730)))
    big, small = filled.big_account, filled.small_account
    big_n, small_n = filled.big_invoices, min(MONTHS, filled.invoices - filled.big_invoices)
    return [
        PageCase("big_first", "big account, no filter", big, big_n, 1, InvoiceFilters()),
        PageCase("big_filtered", "big account, paid + issued in the last year", big, big_n, 5,
                 last_year),
        PageCase("small_first", "small account, no filter", small, small_n, 1,
                 InvoiceFilters()),
        PageCase("small_filtered", "small account, issued in the last 2 years", small,
                 small_n, 2, two_years),
    ]  # fmt: skip


def cursor_for(conn: Connection[Any], case: PageCase, now: datetime) -> tuple[str | None, int]:
    """The cursor a client holds on `case.page`, or on the last page if there are fewer,
    and the number of that page."""
    cursor: str | None = None
    reached = 1
    while reached < case.page:
        page = _page(conn, case, now, cursor)
        if page.next_cursor is None:
            break
        cursor, reached = page.next_cursor, reached + 1
    conn.rollback()
    return cursor, reached


def _page(conn: Connection[Any], case: PageCase, now: datetime, cursor: str | None) -> InvoicePage:
    return list_invoices(conn, case.account, CURSOR_KEY, now, case.filters, PAGE_SIZE, cursor)


def measure_page(
    container: Container, case: PageCase, now: datetime, samples: int
) -> dict[str, Any]:
    with container.connection() as conn:
        cursor, reached = cursor_for(conn, case, now)
        shown = len(_page(conn, case, now, cursor).items)
        query, params = statement_of(conn, lambda c: _page(c, case, now, cursor))
        plan = explain(conn, query, params)
        generic = explain_generic(conn, query, params)

    def one(_: int) -> None:
        with container.connection() as conn:
            _page(conn, case, now, cursor)

    return {
        "key": case.key,
        "label": case.label,
        "account_invoices": case.invoices,
        "page": reached,
        "rows_shown": shown,
        "plan_required": case.plan_required,
        "latency_ms": latency_summary(timed(samples, one)),
        "plan": plan.as_dict(),
        "generic_plan": generic.as_dict(),
        "sql": query,
    }


# --- 3. account health -----------------------------------------------------------------


def measure_health(
    container: Container, filled: Filled, now: datetime, samples: int
) -> dict[str, Any]:
    """`get_health` for accounts drawn at random among every account with a health row."""
    rng = random.Random(16)
    drawn = [rng.choice(filled.accounts) for _ in range(samples + WARM_UP)]

    def one(i: int) -> None:
        with container.connection() as conn:
            if get_health(conn, drawn[i], now) is None:
                raise AssertionError(f"no health row for {drawn[i]}")

    with container.connection() as conn:
        query, params = statement_of(conn, lambda c: get_health(c, drawn[0], now))
        plan: Plan = explain(conn, query, params)
    return {
        "accounts": len(filled.accounts),
        "latency_ms": latency_summary(timed(samples, one)),
        "plan": plan.as_dict(),
    }


# --- the run ---------------------------------------------------------------------------


@contextmanager
def _container(dsn: str, clock: WalkingClock) -> Iterator[Container]:
    built = build(Settings(database_url=dsn, kafka_bootstrap=None), clock=clock)
    heap.settle()  # as the API process does once built (adapters/cli/runtime.serve_http)
    try:
        yield built
    finally:
        built.close()


def measure_on(
    container: Container, clock: WalkingClock, invoices: int, samples: int
) -> dict[str, Any]:
    """Every stage on a migrated, empty database (the test suite runs this at tiny sizes)."""
    ids = histories(container, clock, samples)
    now = clock.now()
    say(f"filling: {invoices:,} invoices by COPY, then ANALYZE")
    with container.connection() as conn:
        filled = fill(conn, invoices, now)
    say(f"filled in {filled.seconds:.1f}s: {filled.table_mb} MB")
    say("recompute")
    recomputed = measure_recompute(container, ids, samples)
    pages = []
    for case in page_cases(filled, now):
        say(f"invoice page: {case.label}")
        pages.append(measure_page(container, case, now, samples))
    say("account health")
    health = measure_health(container, filled, now, samples)
    return {
        "fill": {
            "invoices": filled.invoices,
            "big_account_invoices": filled.big_invoices,
            "accounts": len(filled.accounts),
            "seconds": round(filled.seconds, 1),
            "table_mb": filled.table_mb,
        },
        "recompute": recomputed,
        "invoice_pages": pages,
        "health": health,
    }


def measure(invoices: int, samples: int, durable: bool) -> dict[str, Any]:
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    began = time.perf_counter()
    with running_database(durable) as db:
        machine = describe(db.dsn)
        clock = WalkingClock(HISTORY_START)
        with _container(db.dsn, clock) as container:
            measured = measure_on(container, clock, invoices, samples)
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - began, 1),
        "options": {"invoices": invoices, "samples": samples, "durable": durable},
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "machine": machine,
        **measured,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    parser.add_argument("--invoices", type=int, default=1_000_000, help="rows in `invoices`")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per read")
    parser.add_argument("--durable", action="store_true", help="fsync and synchronous commit on")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    result = measure(args.invoices, args.samples, args.durable)
    path = report.save_json(result, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-reads")
    text = read_report.markdown(result)
    print(text)
    say(f"results in {path.relative_to(report.ROOT)}")
    if args.write_docs:
        read_report.update_docs(text)
        say(f"updated {report.DOCS.relative_to(report.ROOT)}")
    if missed := plans_missed(result):
        say(f"plan check FAILED: {', '.join(missed)} did not walk the keyset index")
        raise SystemExit(1)


def plans_missed(result: dict[str, Any]) -> list[str]:
    """The pages whose plan must walk the keyset index and does not."""
    return [
        f"{p['label']} ({kind})"
        for p in result["invoice_pages"]
        for kind in ("plan", "generic_plan")
        if p["plan_required"] and not p[kind]["uses_keyset_index"]
    ]


if __name__ == "__main__":
    main()
