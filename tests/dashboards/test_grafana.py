"""Structure of the shipped Grafana dashboard and of the Collector config that feeds it."""

import re

import pytest
import yaml

from dashboards.grafana_files import COLLECTOR_CONFIG, grafana_dashboard, grafana_file

METRICS = {
    "traces_span_metrics_calls_total",
    "traces_span_metrics_duration_milliseconds_bucket",
}
#: Span attributes of the telemetry contract that the connector turns into labels.
ATTRIBUTE_DIMENSIONS = {"continuity.strategy", "continuity.outcome", "quality.message.type"}
#: The connector's own dimensions, plus `le` of the duration histogram.
LABELS = {"span_name", "status_code", "le"} | {d.replace(".", "_") for d in ATTRIBUTE_DIMENSIONS}
PROMQL_WORDS = {
    "sum",
    "rate",
    "increase",
    "histogram_quantile",
    "by",
    "ignoring",
    "group_left",
    "without",
    "on",
}
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


@pytest.fixture(scope="module")
def dashboard():
    return grafana_dashboard()


def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def expression_names(expr: str) -> tuple[set[str], set[str], set[str]]:
    """(metric names, label names, other identifiers) used by a PromQL expression."""
    bare = re.sub(r"\$\w+", "", _strip_strings(expr))
    metrics = set(re.findall(r"([A-Za-z_:][\w:]*)\s*\{", bare))
    labels = set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", bare))
    for group in re.findall(
        r"\b(?:by|without|ignoring|on|group_left|group_right)\s*\(([^)]*)\)", bare
    ):
        labels |= {name.strip() for name in group.split(",") if name.strip()}
    identifiers = set(re.findall(r"\b[A-Za-z_][\w:]*\b", bare))
    return metrics, labels, identifiers - metrics - labels


def _targets(dashboard):
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel, target


def test_expression_parser_sees_metrics_and_labels():
    metrics, labels, other = expression_names(
        'sum by (le, span_name) (rate(m_bucket{a="x", b=~"$v"}[$__rate_interval]))'
    )
    assert (metrics, labels, other) == (
        {"m_bucket"},
        {"le", "span_name", "a", "b"},
        {"sum", "by", "rate"},
    )


def test_schema_version_and_identity(dashboard):
    assert dashboard["schemaVersion"] >= 38
    assert dashboard["uid"] == "quality-continuity"
    assert dashboard["title"]


def test_datasource_is_a_templating_variable(dashboard):
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE
            assert (
                set(re.findall(r"\w+", variable["definition"])) - {"label_values"}
                <= METRICS | LABELS
            )


def test_every_panel_has_title_datasource_and_targets(dashboard):
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["title"].strip(), panel["id"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]


def test_expressions_use_only_the_spanmetrics_metrics_and_labels(dashboard):
    for panel, target in _targets(dashboard):
        metrics, labels, other = expression_names(target["expr"])
        assert metrics and metrics <= METRICS, (panel["title"], metrics)
        assert labels <= LABELS, (panel["title"], labels - LABELS)
        assert other <= PROMQL_WORDS, (panel["title"], other - PROMQL_WORDS)


def test_panel_ids_are_unique(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_panels_fit_24_columns_without_overlapping(dashboard):
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["h"] > 0
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_required_panels_are_there(dashboard):
    exprs = {
        panel["title"]: " ".join(t["expr"] for t in panel["targets"])
        for panel in dashboard["panels"]
    }
    by_kind = {panel["title"]: panel["type"] for panel in dashboard["panels"]}
    assert "sum by (span_name)" in exprs["Messages/s by event"]
    assert (
        "sum by (continuity_outcome)" in exprs["Share of quality operations by continuity outcome"]
    )
    share = exprs["Minted + defaulted share of quality operations"]
    assert by_kind["Minted + defaulted share of quality operations"] == "stat"
    assert 'continuity_outcome=~"minted|defaulted"' in share and "[$__range]" in share
    assert 'status_code="STATUS_CODE_ERROR"' in exprs["Error replies/s by event"]
    latency = exprs["Latency p50 / p99 by event"]
    assert "histogram_quantile(0.5," in latency and "histogram_quantile(0.99," in latency


@pytest.fixture(scope="module")
def collector():
    return yaml.safe_load(grafana_file(COLLECTOR_CONFIG).read_text("utf-8"))


def test_collector_pipeline_goes_otlp_to_spanmetrics_to_prometheus(collector):
    pipelines = collector["service"]["pipelines"]
    assert pipelines["traces"]["receivers"] == ["otlp"]
    assert "spanmetrics" in pipelines["traces"]["exporters"]
    assert pipelines["metrics"]["receivers"] == ["spanmetrics"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert set(collector["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert "endpoint" in collector["exporters"]["prometheus"]


def test_collector_dimensions_make_the_dashboards_labels(collector, dashboard):
    connector = collector["connectors"]["spanmetrics"]
    dimensions = {d["name"] for d in connector["dimensions"]}
    assert dimensions == ATTRIBUTE_DIMENSIONS
    used = set().union(*(expression_names(t["expr"])[1] for _, t in _targets(dashboard)))
    assert {d.replace(".", "_") for d in dimensions} <= used


def test_collector_names_match_the_dashboards_metrics(collector):
    connector = collector["connectors"]["spanmetrics"]
    prefix = connector["namespace"].replace(".", "_")
    assert connector["histogram"]["unit"] == "ms"
    assert {f"{prefix}_calls_total", f"{prefix}_duration_milliseconds_bucket"} == METRICS


def test_every_exporter_and_receiver_used_is_defined(collector):
    for pipeline in collector["service"]["pipelines"].values():
        for name in pipeline["receivers"]:
            assert name in collector["receivers"] or name in collector["connectors"]
        for name in pipeline["exporters"]:
            assert name in collector["exporters"] or name in collector["connectors"]
        for name in pipeline.get("processors", []):
            assert name in collector["processors"]
