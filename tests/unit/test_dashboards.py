"""The Grafana dashboards as code (dashboards/, `python -m adapters.grafana`): the committed JSON
in deploy/grafana/dashboards is exactly what the generator makes (they never drift), every
panel queries the provisioned datasource, and every metric a panel names is documented in
docs/observability.md. tests/integration/test_prometheus.py evaluates every expression
against a real Prometheus."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

from adapters.grafana.catalogue import DASHBOARD_DIR, dashboards, differing, path_of
from adapters.grafana.panels import DATASOURCE, render

REPO_ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = REPO_ROOT / "docs" / "observability.md"
METRIC = re.compile(r"\bbilling_[a-z0-9_]+\b")
SAMPLE_SUFFIXES = ("_bucket", "_count", "_sum")


def test_the_committed_dashboards_are_what_the_generator_makes() -> None:
    assert differing() == [], "run `uv run python -m adapters.grafana` and commit the JSON"
    generated = {path_of(spec) for spec in dashboards()}
    assert set(DASHBOARD_DIR.glob("*.json")) == generated  # no file the code does not make


def test_the_check_mode_agrees() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "adapters.grafana", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stderr) == (0, "")


def test_the_sdk_is_the_build_for_grafana_11_6() -> None:
    assert importlib.metadata.version("grafana-foundation-sdk").endswith("!11.6.0")


def test_the_four_dashboards_and_their_sections() -> None:
    titles = {spec.uid: [s.title for s in spec.sections] for spec in dashboards()}
    assert set(titles) == {
        "billing-account-health",
        "billing-payments",
        "billing-pipeline",
        "billing-api",
    }
    assert all(sections for sections in titles.values())


def test_every_panel_queries_the_provisioned_prometheus() -> None:
    for spec in dashboards():
        document = json.loads(render(spec))
        ids = [panel["id"] for panel in document["panels"]]
        assert len(ids) == len(set(ids)), spec.uid
        for panel in document["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE.uid}
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE.uid
                assert METRIC.search(target["expr"]), target["expr"]
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_every_metric_of_the_panels_is_documented() -> None:
    documented = set(re.findall(r"^\| `(billing_[a-z0-9_]+)`", OBSERVABILITY.read_text(), re.M))
    for spec in dashboards():
        for query in spec.queries():
            for name in METRIC.findall(query.expr):
                family = next(
                    (name.removesuffix(s) for s in SAMPLE_SUFFIXES if name.endswith(s)), name
                )
                assert family in documented, f"{spec.uid}: {name} is not in observability.md"


def test_scrape_time_families_are_never_summed_over_processes() -> None:
    """A family every process reports alike (read from the database) is taken with `max`:
    a `sum` over instances would count it once per process."""
    same_everywhere = re.compile(
        r"billing_(accounts|stuck_accounts|bad_debt_minor_units|open_receivable_minor_units|"
        r"store_head_position|relay_lag_|projection_lag_events|projection_store_lag_seconds|"
        r"projection_poisoned_streams|projection_rebuild_progress_ratio|payment_|dunning_|"
        r"invoice_transitions|bad_debt_payments|bad_debt_write_offs|recompute|reconciliation_findings)"
    )
    for spec in dashboards():
        for query in spec.queries():
            if same_everywhere.search(query.expr):
                assert "max without (instance, job)" in query.expr, query.expr


def test_observability_md_lists_every_panel_and_its_promql() -> None:
    text = OBSERVABILITY.read_text()
    dashboards_section = text[text.index("## Dashboards") : text.index("## Alerts")]
    for spec in dashboards():
        assert f"### {spec.title} (`{spec.uid}`)" in dashboards_section
        for section in spec.sections:
            for panel in section.panels:
                assert f"* **{panel.title}**: {panel.description}" in dashboards_section
                for query in panel.queries:
                    assert f"  `{query.expr}`" in dashboards_section, query.expr
