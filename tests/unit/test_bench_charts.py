"""bench/charts.py draws each chart from results shaped as the bench writes them."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from bench import batch_size, charts, report

CPU = {"busy": 0.6, "others": 0.01}


def _stage(key: str, stage: str, per_s: float, copy_per_s: float = 100_000.0) -> dict[str, Any]:
    return {
        "key": key,
        "stage": stage,
        "events": 2_000,
        "seconds": 2_000 / per_s,
        "cpu": CPU,
        "notes": "",
        "extra": {},
        "events_per_s": per_s,
        "ratio_to_copy": per_s / copy_per_s,
    }


def _latency(p50: float) -> dict[str, float]:
    return {"p50": p50, "p90": p50 * 2, "p99": p50 * 3, "max": p50 * 4, "count": 400}


def _batch(size: int, per_s: float) -> dict[str, Any]:
    row = _stage(f"batch_{size}", f"app.save(*accounts), {size} accounts/tx", per_s)
    return {**row, "extra": {"accounts_per_save": size, "saves": 5_000 // size}}


RUN: dict[str, Any] = {
    "started_at": "2026-12-05T03:00:00+00:00",
    "options": {"events": 2_000},
    "throughput": [
        _stage("copy", "raw COPY, one transaction", 100_000.0),
        _stage("append_single", "open_account, 1 account/tx", 500.0),
        _stage("append_batch", "app.save(*accounts), 500 accounts/tx", 5_000.0),
        _stage("relay", "relay: store -> Kafka", 4_000.0),
        _stage("kafka_produce", "aiokafka produce (pre-encoded)", 16_000.0),
        _stage("project_feed", "store feed: store -> read model", 4_300.0),
    ],
    "lag": {
        "offered_rate": 200.0,
        "achieved_rate": 199.5,
        "appends": 400,
        "cpu": CPU,
        **{key: _latency(10.0 * (i + 1)) for i, (_, key) in enumerate(report.LAG_HOPS)},
    },
    "batch_sizes": [_batch(1, 600.0), _batch(10, 2_500.0), _batch(100, 4_500.0)],
}


def _month_end(durable: bool, started_at: str) -> dict[str, Any]:
    def run(key: str, stage: str, appended: float, end_to_end: float) -> dict[str, Any]:
        return {
            "key": key,
            "stage": stage,
            "accounts": 1_000,
            "events": 5_000,
            "renewals_per_s_appended": appended,
            "renewals_per_s_end_to_end": end_to_end,
        }

    return {
        "started_at": started_at,
        "options": {"accounts": 1_000, "page": 500, "durable": durable},
        "runs": [
            run("before", "one account per transaction", 80.0, 79.0),
            run("after", "a page per transaction", 480.0, 240.0),
        ],
        "copy": {"events": 5_000, "seconds": 0.05, "events_per_s": 100_000.0},
    }


MONTH_END_ON = _month_end(True, "2026-12-05T02:19:15+00:00")
MONTH_END_OFF = _month_end(False, "2026-12-05T02:14:07+00:00")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text)]


def _bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _tick_labels(figure: Figure, axes: int) -> list[str]:
    return [t.get_text() for t in figure.axes[axes].get_yticklabels()]


def test_draw_writes_one_png_per_chart_at_the_figure_size(tmp_path: Path) -> None:
    drawn = {p.name: p for p in charts.draw([RUN, MONTH_END_ON, MONTH_END_OFF], tmp_path)}
    assert set(drawn) == {"throughput.png", "latency.png", "batch_size.png", "month_end.png"}
    for name, figure in charts.figures([RUN, MONTH_END_ON, MONTH_END_OFF]).items():
        width_in, height_in = figure.get_size_inches()
        expected = (round(width_in * charts.DPI), round(height_in * charts.DPI))
        assert _png_size(drawn[f"{name}.png"]) == expected
        assert expected[0] == 1_100


def test_throughput_puts_each_stage_against_its_own_reference() -> None:
    figure = charts.throughput_figure(RUN)
    store, kafka = figure.axes
    assert _tick_labels(figure, 0) == [
        "raw COPY, one transaction",
        "open_account, 1 account/tx",
        "app.save(*accounts), 500 accounts/tx",
        "store feed: store -> read model",
    ]
    assert _tick_labels(figure, 1) == ["aiokafka produce (pre-encoded)", "relay: store -> Kafka"]
    assert [p.get_width() for p in _bars(kafka)] == [16_000.0, 4_000.0]
    assert store.get_xscale() == "log"
    texts = _texts(figure)
    assert "500/s  (1/200 of raw COPY)" in texts
    assert "4,000/s  (1/4 of raw produce)" in texts
    assert "100,000/s  (reference)" in texts


def test_latency_has_four_percentiles_per_hop() -> None:
    figure = charts.latency_figure(RUN)
    assert _tick_labels(figure, 0) == [label for label, _ in report.LAG_HOPS]
    widths = [p.get_width() for p in _bars(figure.axes[0])]
    assert widths[: len(report.LAG_HOPS)] == [10.0, 20.0, 30.0, 40.0, 50.0]  # the p50s
    assert widths[-1] == 200.0  # max of the last hop
    [legend] = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["p50", "p90", "p99", "max"]


def test_batch_size_plots_events_per_second_against_accounts_per_save() -> None:
    figure = charts.batch_size_figure(RUN)
    points = np.asarray(figure.axes[0].get_lines()[0].get_xydata())
    assert points[:, 0].tolist() == [1, 10, 100]
    assert points[:, 1].tolist() == [600.0, 2_500.0, 4_500.0]
    texts = _texts(figure)
    assert "2,500/s\n1/40 of COPY" in texts
    assert "raw COPY, one transaction: 100,000/s" in texts


def test_month_end_draws_one_panel_per_result_in_time_order() -> None:
    figure = charts.month_end_figure([MONTH_END_OFF, MONTH_END_ON])
    assert [ax.get_title().split(",")[0] for ax in figure.axes] == ["fsync off", "fsync on"]
    heights = [p.get_height() for p in _bars(figure.axes[0])]
    assert heights == [80.0, 480.0, 79.0, 240.0]
    assert "1,667/s" in " ".join(_texts(figure))


def test_results_of_neither_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="not a result"):
        charts.figures([{"started_at": "2026-12-05"}])


def test_docs_link_each_chart_outside_the_generated_sections() -> None:
    text = report.DOCS.read_text(encoding="utf-8")
    prose = text.split(report.BEGIN)[0] + text.split(report.END)[1]
    for name in ("throughput", "latency", "batch_size", "month_end"):
        assert f"](benchmarks/{name}.png)" in prose


def test_batch_size_table_and_sizes() -> None:
    table = report.batch_size_table(RUN["batch_sizes"])
    assert "| 10 | 500 | 2,000 | 0.80 | 2,500 | 0.025 (1/40) | 60% / 1% |" in table
    assert batch_size.accounts_per_size(20_000, (1, 1_000)) == 5_000
    assert batch_size.accounts_per_size(100_000, (1, 1_000)) == 25_000
