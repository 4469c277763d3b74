"""The Reads benchmark's stages at tiny sizes on the real PostgreSQL (bench/reads.py): what
they return is well-formed, the tables are filled as the projections would fill them, and
the plan check tells a page that walks the keyset index from one that does not. No timing
is asserted: the figures are the benchmark's, recorded in docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from adapters.bootstrap import Container, build
from adapters.settings import Settings
from bench import read_report, reads
from bench.read_fill import MONTHS, Filled, fill
from bench.read_history import WalkingClock, build_history
from projections.feed import catch_up
from queries.health import HealthState, fleet_health

SUMMARY_KEYS = {"p50", "p90", "p99", "max", "count"}


@pytest.fixture
def walking() -> WalkingClock:
    return WalkingClock(reads.HISTORY_START)


@pytest.fixture
def bench_container(database_url: str, walking: WalkingClock) -> Iterator[Container]:
    built = build(Settings(database_url=database_url, kafka_bootstrap=None), clock=walking)
    yield built
    built.close()


def _summary_of(summary: dict[str, Any], samples: int) -> None:
    assert set(summary) == SUMMARY_KEYS
    assert summary["count"] == samples
    assert 0 < summary["p50"] <= summary["p90"] <= summary["p99"] <= summary["max"]


def test_the_stages_return_well_formed_results(
    bench_container: Container, walking: WalkingClock
) -> None:
    result = reads.measure_on(bench_container, walking, invoices=2_000, samples=3)

    assert result["fill"]["invoices"] == 2_000
    assert result["fill"]["big_account_invoices"] == 200
    recompute = result["recompute"]
    assert recompute["accounts"] == 1
    assert recompute["events_at_first_sample"] == reads.HISTORY_EVENTS + reads.WARM_UP + 1
    assert recompute["events_at_last_sample"] == reads.HISTORY_EVENTS + reads.WARM_UP + 3
    _summary_of(recompute["recompute_ms"], 3)
    _summary_of(recompute["stream_read_ms"], 3)
    pages = {p["key"]: p for p in result["invoice_pages"]}
    assert set(pages) == {"big_first", "big_filtered", "small_first", "small_filtered"}
    for page in pages.values():
        _summary_of(page["latency_ms"], 3)
        assert page["plan"]["text"].startswith("Limit")
        assert "$1" in page["generic_plan"]["text"]  # parameters unknown
        assert "FROM invoices WHERE account_id" in page["sql"]
    assert pages["big_first"]["rows_shown"] == reads.PAGE_SIZE
    assert [p["page"] for p in pages.values()] == [1, 5, 1, 2]
    assert pages["small_filtered"]["rows_shown"] == MONTHS - reads.PAGE_SIZE
    assert [k for k, p in pages.items() if p["plan_required"]] == ["big_first", "big_filtered"]
    assert pages["small_first"]["account_invoices"] == MONTHS
    _summary_of(result["health"]["latency_ms"], 3)
    assert "account_health_pkey" in result["health"]["plan"]["text"]
    lines = read_report.latency_table(result).splitlines()
    assert len(lines) == 2 + 2 + 4 + 1  # header, recompute and its part, pages, health


def test_the_filled_tables_read_as_the_projections_wrote_them(
    bench_container: Container, walking: WalkingClock
) -> None:
    filled, now = _filled(bench_container, walking, invoices=3_000)

    with bench_container.connection() as conn:
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM invoices WHERE account_id = ANY(%s) GROUP BY 1",
                (filled.accounts,),
            ).fetchall()
        )
        fleet = fleet_health(conn, now)
        tracked = conn.execute(
            "SELECT count(*) FROM projection_streams WHERE stream_id = %s", (filled.big_account,)
        ).fetchone()
    assert set(statuses) == {"paid", "void", "uncollectible", "open"}
    assert sum(statuses.values()) == 3_000
    assert fleet.accounts == len(filled.accounts) + 1  # and the long-history account
    assert fleet.by_state[HealthState.PAST_DUE] > 0
    assert fleet.by_state[HealthState.BAD_DEBT] > 0
    assert fleet.by_state[HealthState.HEALTHY] > fleet.accounts / 2
    assert tracked == (5,)


def test_the_plan_check_sees_a_page_read_without_the_keyset_index(
    bench_container: Container, walking: WalkingClock
) -> None:
    filled, now = _filled(bench_container, walking, invoices=3_000)
    first_page = next(c for c in reads.page_cases(filled, now) if c.key == "big_first")

    page = reads.measure_page(bench_container, first_page, now, samples=1)
    walked = page["plan"]
    with bench_container.connection() as conn:
        conn.execute("DROP INDEX invoices_newest")
        conn.commit()
    dropped = reads.measure_page(bench_container, first_page, now, samples=1)
    without, without_generic = dropped["plan"], dropped["generic_plan"]

    assert walked["uses_keyset_index"] is True
    assert page["generic_plan"]["uses_keyset_index"] is True
    assert reads.plans_missed({"invoice_pages": [page]}) == []
    assert "Index Scan on invoices_newest" in walked["nodes"]
    assert without["uses_keyset_index"] is False
    assert "Sort" in without["nodes"]
    assert without_generic["uses_keyset_index"] is False
    missed = reads.plans_missed({"invoice_pages": [dropped]})
    label = first_page.label  # and so `python -m bench.reads` exits with 1:
    assert missed == [f"{label} (plan)", f"{label} (generic_plan)"]


def _filled(container: Container, walking: WalkingClock, invoices: int) -> tuple[Filled, datetime]:
    build_history(container.deps, walking, 0, 60)  # enough for both kinds of template
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    with container.connection() as conn:
        return fill(conn, invoices, walking.now()), walking.now()
