"""The Reads stage's results as markdown, and into docs/benchmarks.md ("Reads")."""

from __future__ import annotations

from typing import Any

from bench import report

BEGIN, END = "<!-- bench:reads:begin -->", "<!-- bench:reads:end -->"
HEADING = "## Reads"
GOALS_MS = {"recompute": 50.0, "page": 10.0, "health": 5.0}  # p99, issue 16


def _row(label: str, s: dict[str, Any], goal: float, note: str) -> str:
    met = "yes" if s["p99"] <= goal else "**no**"
    return (
        f"| {label} | {s['p50']} | {s['p90']} | {s['p99']} | {s['max']} | {s['count']}"
        f" | <= {goal:g} ({met}) | {note} |"
    )


def latency_table(result: dict[str, Any]) -> str:
    r, h = result["recompute"], result["health"]
    events = f"{r['events_at_first_sample']}-{r['events_at_last_sample']} events"
    lines = [
        "| read (server time) | p50 ms | p90 ms | p99 ms | max ms | n | goal p99 ms (met)"
        " | notes (plan: custom / generic) |",
        "|---|---:|---:|---:|---:|---:|---|---|",
        _row("recompute one account", r["recompute_ms"], GOALS_MS["recompute"],
             f"{r['accounts']} accounts, {events}; every projection"),
        _row("- of which: read and decode the stream", r["stream_read_ms"],
             GOALS_MS["recompute"], "StoreReader.stream_between"),
    ]  # fmt: skip
    for p in result["invoice_pages"]:
        plan = f"{_walks(p['plan'])} / {_walks(p['generic_plan'])}"
        plan += " (checked)" if p["plan_required"] else " (reported)"
        note = f"{p['account_invoices']:,} invoices, {p['rows_shown']} rows; {plan}"
        label = f"invoice list: {p['label']}, page {p['page']}"
        lines.append(_row(label, p["latency_ms"], GOALS_MS["page"], note))
    lines.append(
        _row("account health", h["latency_ms"], GOALS_MS["health"],
             f"random accounts of {h['accounts']:,}")
    )  # fmt: skip
    return "\n".join(lines)


def _walks(plan: dict[str, Any]) -> str:
    return "keyset index" if plan["uses_keyset_index"] else "**not the keyset index**"


def _fill(fill: dict[str, Any]) -> str:
    sizes = ", ".join(f"{t} {mb:,.0f} MB" for t, mb in fill["table_mb"].items())
    return (
        f"Tables: {fill['invoices']:,} invoices (one account with"
        f" {fill['big_account_invoices']:,}, the others one a month for two years),"
        f" {fill['accounts']:,} accounts with a health row; filled by COPY and analysed in"
        f" {fill['seconds']:.0f} s; {sizes} (indexes included)."
    )


def _plans(result: dict[str, Any]) -> str:
    parts = []
    for p in result["invoice_pages"]:
        for kind, name in (("plan", "custom plan"), ("generic_plan", "generic plan")):
            plan = p[kind]
            ok = "walks" if plan["uses_keyset_index"] else "does NOT walk"
            parts.append(
                f"{p['label']}, page {p['page']}, {name}: {ok} the keyset index"
                f" `invoices_newest` without a sort (nodes: {', '.join(plan['nodes'])})"
                f"\n\n```\n{plan['text']}\n```"
            )
    parts.append(f"account health:\n\n```\n{result['health']['plan']['text']}\n```")
    return "\n\n".join(parts)


def _machine(result: dict[str, Any]) -> str:
    m, pg = result["machine"], result["machine"]["postgres"]
    load = ", ".join(f"{x:.2f}" for x in result["load_average"]["before"])
    return (
        f"Run {result['started_at']} ({result['duration_s']:.0f} s in all), {m['cpu_model']},"
        f" {m['cores']} cores; PostgreSQL {pg['version']} (fsync={pg['fsync']},"
        f" synchronous_commit={pg['synchronous_commit']}, shared_buffers={pg['shared_buffers']});"
        f" code {m['code']['commit']} ({m['code']['uncommitted_files']} files differing);"
        f" load average before {load}."
    )


def markdown(result: dict[str, Any]) -> str:
    return "\n\n".join(
        [_machine(result), _fill(result["fill"]), latency_table(result),
         "<details><summary>Plans: custom (EXPLAIN ANALYZE, BUFFERS) and generic"
         " (EXPLAIN GENERIC_PLAN)</summary>\n\n"
         + _plans(result) + "\n\n</details>"]
    )  # fmt: skip


def update_docs(text: str) -> None:
    report.replace_section(text, BEGIN, END, HEADING)
