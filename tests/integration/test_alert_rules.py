"""The alert rules (deploy/prometheus/alerts.yml) checked by the real promtool (Debian's
`prometheus` package, installed by scripts/setup-services): the file is valid, every alert
fires and stays quiet where its unit tests (alerts_test.yml) say, every metric a rule or a
test series names is one the code exports, and every runbook link is a section of
docs/operations.md. A missing promtool is a broken environment: these tests fail, never skip."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric

import adapters.metrics
import adapters.scheduler.metrics
from adapters.business_metrics import BusinessMetrics
from adapters.flow_metrics import FlowMetrics
from adapters.pipeline_metrics import PipelineMetrics

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = REPO_ROOT / "deploy" / "prometheus" / "alerts_test.yml"
OPERATIONS = REPO_ROOT / "docs" / "operations.md"
OBSERVABILITY = REPO_ROOT / "docs" / "observability.md"

METRIC_NAME = re.compile(r"\bbilling_[a-z0-9_]+\b")
SELECTOR = re.compile(r"\b(billing_[a-z0-9_]+)\{([^}]*)\}")
MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
TARGET_LABELS = {
    "instance"
}  # what Prometheus adds to every scraped series (a rule may group by it)
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created", ""),
    "info": ("_info",),
}
SEVERITIES = {"page", "ticket"}
# Imported for their registration in the default registry (module-level metrics).
REGISTERED = (adapters.metrics.HTTP_REQUESTS, adapters.scheduler.metrics.LAST_SUCCESS)


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is not on PATH: run scripts/setup-services (Debian's prometheus)"
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _rule_tests() -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    return tests


def _no_connection() -> AbstractContextManager[Any]:
    raise AssertionError("describing the business families must not connect")


def _exported_families() -> Iterator[Metric]:
    """Every family the processes export: the module-level metrics (per-process pipeline,
    HTTP, edge, scheduled jobs) and the scrape-time collectors (business state, business
    flow and pipeline state), described without reading."""
    yield from REGISTRY.collect()
    yield from _collected_families()


def _collected_families() -> Iterator[Metric]:
    now = lambda: datetime.now(UTC)  # noqa: E731 - the collectors' clock, never called here
    yield from BusinessMetrics(_no_connection, now).describe()
    yield from FlowMetrics(_no_connection).describe()
    yield from PipelineMetrics(_no_connection, list, "relay", lambda _: None, now).describe()


def _exported_sample_names() -> set[str]:
    return {
        family.name + suffix
        for family in _exported_families()
        for suffix in SAMPLE_SUFFIXES[family.type]
    }


def _exported_labels() -> dict[str, set[str]]:
    """Each exported sample name's label names."""
    labels: dict[str, set[str]] = {
        name: set(getattr(collector, "_labelnames", ()))
        | ({"le"} if name.endswith("_bucket") else set())
        for name, collector in REGISTRY._names_to_collectors.items()
    }
    for family in _collected_families():
        for suffix in SAMPLE_SUFFIXES[family.type]:
            labels[family.name + suffix] = set(getattr(family, "_labelnames", ()))
    return labels


def _label_names(matchers: str) -> set[str]:
    return set(MATCHER_LABEL.findall(matchers))


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a document's headings (lower case, punctuation dropped, spaces
    to hyphens)."""
    headings = re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_promtool_finds_the_rule_file_valid() -> None:
    result = _run("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in result.stdout


def test_every_alert_passes_its_promtool_unit_tests() -> None:
    result = _run("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    cases = [case for test in _rule_tests() for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    names = {alert["alert"] for alert in _alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested not firing"
    assert (firing | quiet) - names == set(), "tests of alerts the rules do not have"


def test_every_metric_of_the_rules_and_their_tests_is_exported() -> None:
    exported = _exported_sample_names()
    assert "billing_stuck_accounts" in exported  # the business collector is described
    assert "billing_scheduled_job_last_success_timestamp_seconds" in exported
    assert "billing_relay_published_position" in exported  # the pipeline collector too
    for alert in _alerts():
        used = set(METRIC_NAME.findall(alert["expr"]))
        assert used, f"{alert['alert']} names no billing_ metric"
        assert used - exported == set(), f"{alert['alert']} uses metrics nobody exports"
    for test in _rule_tests():
        for series in test["input_series"]:
            name = series["series"].split("{", 1)[0]
            assert name in exported, f"alerts_test.yml feeds {name}, which nobody exports"


def test_every_label_of_the_rules_and_their_tests_is_one_the_metric_has() -> None:
    labels = _exported_labels()
    for alert in _alerts():
        expr = alert["expr"]
        for name, matchers in SELECTOR.findall(expr):
            assert _label_names(matchers) <= labels[name], f"{alert['alert']}: {name}"
        known = set().union(*(labels[name] for name in METRIC_NAME.findall(expr)))
        for grouping in GROUPING.findall(expr):
            grouped = {label.strip() for label in grouping.split(",")}
            assert grouped <= known | TARGET_LABELS, (
                f"{alert['alert']} groups by labels no metric has"
            )
    for test in _rule_tests():
        for series in test["input_series"]:
            ((name, matchers),) = SELECTOR.findall(series["series"])
            assert _label_names(matchers) <= labels[name] | TARGET_LABELS, series["series"]


def test_a_misspelt_metric_is_not_taken_for_an_exported_one() -> None:
    exported = _exported_sample_names()
    assert "billing_stuck_account" not in exported
    assert "billing_http_requests" not in exported  # a counter's samples end in _total


@pytest.mark.parametrize("alert", _alerts(), ids=lambda alert: alert["alert"])
def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook(
    alert: dict[str, Any],
) -> None:
    assert alert["labels"]["severity"] in SEVERITIES
    annotations = alert["annotations"]
    assert annotations["summary"].strip()
    assert annotations["description"].strip()
    page, _, anchor = annotations["runbook_url"].partition("#")
    assert page == "docs/operations.md"
    assert anchor in _anchors(OPERATIONS.read_text()), f"no section #{anchor}"


def test_observability_lists_every_alert() -> None:
    text = OBSERVABILITY.read_text()
    alerts_section = text.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    for alert in _alerts():
        assert f"`{alert['alert']}`" in alerts_section
