"""Every dashboard, and where its JSON file lives."""

from __future__ import annotations

from pathlib import Path

from adapters.grafana import account_health, api, payments, pipeline
from adapters.grafana.panels import Dashboard, render

DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"


def dashboards() -> list[Dashboard]:
    return [
        account_health.dashboard(),
        payments.dashboard(),
        pipeline.dashboard(),
        api.dashboard(),
    ]


def path_of(spec: Dashboard) -> Path:
    return DASHBOARD_DIR / f"{spec.uid}.json"


def write_all() -> list[Path]:
    DASHBOARD_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in dashboards():
        path = path_of(spec)
        path.write_text(render(spec))
        written.append(path)
    return written


def differing() -> list[Path]:
    """The dashboards whose file is missing or not what the code makes."""
    return [
        path_of(spec)
        for spec in dashboards()
        if not path_of(spec).is_file() or path_of(spec).read_text() != render(spec)
    ]
