"""What every dashboard is made of: PromQL queries, panels of a few kinds on the provisioned
Prometheus datasource, and sections (a row and its panels) laid out on Grafana's grid."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, StackingConfig
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import StackingMode, VizOrientation
from grafana_foundation_sdk.models.dashboard import DataSourceRef

# The datasource deploy/grafana/provisioning/datasources/prometheus.yml provisions (its uid).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
REFRESH = "30s"
TIME_FROM = "now-6h"
TAGS = ["billing"]
REF_IDS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    """A panel: `kind` is `timeseries` (a range over the dashboard's time) or `bars` (one
    bar per series, the value now)."""

    title: str
    description: str
    unit: str
    queries: tuple[Query, ...]
    kind: str = "timeseries"
    stacked: bool = False
    width: int = 12


@dataclass(frozen=True)
class Section:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    sections: tuple[Section, ...] = field(default=())

    def queries(self) -> list[Query]:
        return [q for s in self.sections for p in s.panels for q in p.queries]


def panel(
    title: str,
    description: str,
    unit: str,
    *queries: Query,
    kind: str = "timeseries",
    stacked: bool = False,
    width: int = 12,
) -> Panel:
    return Panel(title, description, unit, queries, kind, stacked, width)


def _target(query: Query, index: int, instant: bool) -> prometheus.Dataquery:
    target = (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend)
        .ref_id(REF_IDS[index])
        .datasource(DATASOURCE)
    )
    return target.instant() if instant else target.range()


def _timeseries(spec: Panel) -> timeseries.Panel:
    built = timeseries.Panel().fill_opacity(10 if not spec.stacked else 40)
    if spec.stacked:
        built = built.stacking(StackingConfig().mode(StackingMode.NORMAL))
    for index, query in enumerate(spec.queries):
        built = built.with_target(_target(query, index, instant=False))
    return built


def _bars(spec: Panel) -> bargauge.Panel:
    built = (
        bargauge.Panel()
        .orientation(VizOrientation.HORIZONTAL)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    for index, query in enumerate(spec.queries):
        built = built.with_target(_target(query, index, instant=True))
    return built


def _built(spec: Panel, panel_id: int) -> timeseries.Panel | bargauge.Panel:
    built = _bars(spec) if spec.kind == "bars" else _timeseries(spec)
    return (
        built.id(panel_id)
        .title(spec.title)
        .description(spec.description)
        .unit(spec.unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(spec.width)
    )


def build(spec: Dashboard) -> dashboard.Dashboard:
    """The SDK's dashboard of `spec`: each section a row, its panels under it, numbered in
    order (Grafana keys panels by id)."""
    built = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(TAGS)
        .refresh(REFRESH)
        .time(TIME_FROM, "now")
        .timezone("utc")
        .readonly()
    )
    panel_id = 0
    for section in spec.sections:
        panel_id += 1
        built = built.with_row(dashboard.Row(section.title).id(panel_id))
        for each in section.panels:
            panel_id += 1
            built = built.with_panel(_built(each, panel_id))
    return built


def render(spec: Dashboard) -> str:
    """The dashboard's JSON as Grafana provisions it from a file (stable key order)."""
    return json.dumps(build(spec).build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
