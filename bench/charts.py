"""Charts of the bench's JSON results, as PNGs for docs/benchmarks.md.

    python -m bench.charts bench/results/<stamp>.json [bench/results/month-end-*.json ...]

From a `python -m bench` result: throughput.png (each stage against its raw reference),
latency.png (the lag stage's percentiles per hop), batch_size.png (stage 6: events/s
against accounts per save). From `python -m bench.month_end` results: month_end.png (one
panel per result, e.g. fsync off and on). Given several `python -m bench` results, the
latest is drawn. Figures are built without pyplot and rendered by the Agg backend: nothing
is displayed, nothing global is touched.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench.report import LAG_HOPS, REFERENCE, ROOT

DOCS_DIR = ROOT / "docs" / "benchmarks"
DPI = 100
WIDTH_IN = 11.0
RELAY, PRODUCE = "relay", "kafka_produce"
COPY_LABEL = "raw COPY, one transaction"
GOAL_RENEWALS_PER_S = 1_000_000 / 600  # issue 16: 1M accounts in 10 minutes
REFERENCE_COLOUR, STAGE_COLOUR, GOAL_COLOUR = "#9e9e9e", "#1f77b4", "#d62728"
PERCENTILES = (("p50", "#9ecae1"), ("p90", "#4292c6"), ("p99", "#08519c"), ("max", "#08306b"))
Result = dict[str, Any]


def _figure(height_in: float) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _plain_numbers(axis: Any) -> None:
    """1,000 and 10,000 on a log axis rather than 10^3 and 10^4; no minor labels."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axis.set_minor_formatter(NullFormatter())


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}/s"


def _share(ratio: float, of: str) -> str:
    """0.71 of raw COPY; 1/20 of raw COPY (how many times slower, when under a half)."""
    return f"{ratio:.2f} of {of}" if ratio >= 0.5 else f"1/{1 / ratio:.0f} of {of}"


def _run_label(result: Result) -> str:
    postgres = result.get("machine", {}).get("postgres", {})
    fsync = f", fsync {postgres['fsync']}" if "fsync" in postgres else ""
    return f"run {result['started_at']}, N = {result['options']['events']:,}{fsync}"


def _bars(ax: Axes, rows: list[Result], reference: Result, of: str) -> None:
    """Horizontal bars, top to bottom, the reference grey; each labelled rate and share."""
    names = [r["stage"] for r in rows]
    rates = [r["events_per_s"] for r in rows]
    colours = [REFERENCE_COLOUR if r is reference else STAGE_COLOUR for r in rows]
    bars = ax.barh(names, rates, color=colours)
    share = [
        "reference" if r is reference else _share(r["events_per_s"] / reference["events_per_s"], of)
        for r in rows
    ]
    labels = [f"{_rate(r['events_per_s'])}  ({s})" for r, s in zip(rows, share, strict=True)]
    ax.bar_label(bars, labels=labels, padding=4, fontsize=9)
    ax.invert_yaxis()
    ax.set_xscale("log")
    _plain_numbers(ax.xaxis)
    ax.grid(axis="x", which="major", alpha=0.3)


def throughput_figure(result: Result) -> Figure:
    """PostgreSQL stages against raw COPY; the relay against raw aiokafka produce."""
    rows = result["throughput"]
    kafka = [r for r in rows if r["key"] in (PRODUCE, RELAY)]
    kafka.sort(key=lambda r: r["key"] != PRODUCE)
    store = [r for r in rows if r["key"] not in (PRODUCE, RELAY)]
    store.sort(key=lambda r: r["key"] != REFERENCE)
    figure = _figure(0.45 * (len(rows) + 2) + 1.6)
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [len(store), len(kafka)]}
    )
    _bars(top, store, store[0], "raw COPY")
    top.set_title("PostgreSQL stages against raw COPY of the same rows (grey)", fontsize=11)
    _bars(bottom, kafka, kafka[0], "raw produce")
    bottom.set_title(
        "the relay against raw aiokafka produce of the same messages (grey)", fontsize=11
    )
    rates = [r["events_per_s"] for r in rows]
    bottom.set_xlim(min(rates) / 2, max(rates) * 12)  # room for the labels on the right
    bottom.set_xlabel("events per second (log scale)")
    figure.suptitle(f"Throughput of each stage against its raw reference ({_run_label(result)})")
    return figure


def latency_figure(result: Result) -> Figure:
    """The lag stage: p50, p90, p99 and max of each hop, in milliseconds."""
    lag = result["lag"]
    figure = _figure(6.4)
    ax = figure.subplots()
    height = 0.8 / len(PERCENTILES)
    for i, (point, colour) in enumerate(PERCENTILES):
        values = [lag[key][point] for _, key in LAG_HOPS]
        positions = [hop + (i - 1.5) * height for hop in range(len(LAG_HOPS))]
        bars = ax.barh(positions, values, height=height, color=colour, label=point)
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=8)
    ax.set_yticks(range(len(LAG_HOPS)), [label for label, _ in LAG_HOPS])
    ax.invert_yaxis()
    ax.set_xlim(0, max(lag[key]["max"] for _, key in LAG_HOPS) * 1.1)
    ax.set_xlabel("milliseconds")
    _plain_numbers(ax.xaxis)
    ax.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=len(PERCENTILES), title="percentile")
    ax.set_title(
        f"offered {lag['offered_rate']:g} appends/s, achieved {lag['achieved_rate']:g}/s,"
        f" {lag['appends']:,} appends; CPU {lag['cpu']['busy']:.0%} busy"
        f" ({lag['cpu']['others']:.0%} other work)",
        fontsize=10,
    )
    figure.suptitle(f"End-to-end latency per hop ({_run_label(result)})")
    return figure


def _reference(result: Result, key: str) -> Result:
    return next(r for r in result["throughput"] if r["key"] == key)


def batch_size_figure(result: Result) -> Figure:
    """Stage 6: events/s of app.save against accounts per save, with raw COPY above."""
    rows = result["batch_sizes"]
    sizes = [r["extra"]["accounts_per_save"] for r in rows]
    rates = [r["events_per_s"] for r in rows]
    copy = _reference(result, REFERENCE)["events_per_s"]
    command = _reference(result, "append_single")["events_per_s"]
    figure = _figure(5.6)
    ax = figure.subplots()
    ax.plot(sizes, rates, marker="o", color=STAGE_COLOUR, label="app.save(*accounts)")
    for size, row in zip(sizes, rows, strict=True):
        ax.annotate(
            f"{_rate(row['events_per_s'])}\n{_share(row['ratio_to_copy'], 'COPY')}",
            (size, row["events_per_s"]), textcoords="offset points", xytext=(0, 10),
            ha="center", fontsize=8,
        )  # fmt: skip
    ax.plot([1], [command], marker="s", linestyle="none", color="#ff7f0e",
            label=f"open_account command, 1 account/tx: {_rate(command)}")  # fmt: skip
    ax.axhline(copy, color=REFERENCE_COLOUR, linestyle="--", label=f"{COPY_LABEL}: {_rate(copy)}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_numbers(ax.yaxis)
    ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)
    ax.set_ylim(min([*rates, command]) / 2, copy * 2)
    ax.set_xlabel("accounts per save (one transaction each; log scale)")
    ax.set_ylabel("events per second (log scale)")
    ax.grid(which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    figure.suptitle(f"Append throughput against batch size ({_run_label(result)})")
    return figure


_RENEWAL_RATES = {
    "renewals_per_s_appended": ("appended", "#9ecae1"),
    "renewals_per_s_end_to_end": ("end to end (relay and every projection)", "#08519c"),
}


def _month_end_panel(ax: Axes, result: Result) -> None:
    runs = result["runs"]
    names = [r["stage"].replace(" per ", "\nper ") for r in runs]
    width = 0.38
    offsets = (-width / 2, width / 2)
    for offset, (key, (label, colour)) in zip(offsets, _RENEWAL_RATES.items(), strict=True):
        values = [r[key] for r in runs]
        bars = ax.bar([i + offset for i in range(len(runs))], values, width, color=colour,
                      label=label)  # fmt: skip
        ax.bar_label(bars, labels=[_rate(v) for v in values], padding=2, fontsize=9)
    ax.set_xticks(range(len(runs)), names)
    ax.axhline(GOAL_RENEWALS_PER_S, color=GOAL_COLOUR, linestyle="--",
               label=f"goal: 1M accounts in 10 min ({_rate(GOAL_RENEWALS_PER_S)})")  # fmt: skip
    options = result["options"]
    ax.set_title(
        f"fsync {'on' if options['durable'] else 'off'}, {options['accounts']:,} accounts,"
        f" page {options['page']}\n{result['started_at'][:16].replace('T', ' ')} UTC",
        fontsize=10,
    )
    ax.grid(axis="y", alpha=0.3)


def month_end_figure(results: Sequence[Result]) -> Figure:
    """Renewals/s, one account per transaction against a page, appended and end to end."""
    figure = _figure(5.6)
    axes = figure.subplots(1, len(results), sharey=True, squeeze=False)[0]
    for ax, result in zip(axes, results, strict=True):
        _month_end_panel(ax, result)
    axes[0].set_ylabel("renewals per second")
    highest = max(r[k] for m in results for r in m["runs"] for k in _RENEWAL_RATES)
    axes[0].set_ylim(0, max(highest, GOAL_RENEWALS_PER_S) * 1.15)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=9)
    figure.suptitle("Month-end billing run: renewals per second (5 events per renewal)")
    return figure


def save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    return path


def figures(results: Sequence[Result]) -> dict[str, Figure]:
    """The charts these results make, by file stem."""
    runs = [r for r in results if "throughput" in r]
    month_ends = [r for r in results if "runs" in r and "copy" in r]
    if len(runs) + len(month_ends) != len(results):
        raise ValueError("not a result of `python -m bench` or `python -m bench.month_end`")
    drawn: dict[str, Figure] = {}
    if runs:
        latest = max(runs, key=lambda r: r["started_at"])
        drawn["throughput"] = throughput_figure(latest)
        drawn["latency"] = latency_figure(latest)
        if latest.get("batch_sizes"):
            drawn["batch_size"] = batch_size_figure(latest)
    if month_ends:
        drawn["month_end"] = month_end_figure(sorted(month_ends, key=lambda r: r["started_at"]))
    return drawn


def draw(results: Sequence[Result], out_dir: Path) -> list[Path]:
    """Writes each chart as `<out_dir>/<name>.png`; returns the paths written."""
    return [save(figure, out_dir / f"{name}.png") for name, figure in figures(results).items()]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.charts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", nargs="+", type=Path, help="JSON files from bench/results")
    parser.add_argument("--out", type=Path, default=DOCS_DIR, help="where the PNGs go")
    args = parser.parse_args()
    results = [json.loads(path.read_text(encoding="utf-8")) for path in args.results]
    for path in draw(results, args.out):
        print(path)


if __name__ == "__main__":
    main()
