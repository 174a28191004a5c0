"""The self-contained HTML dashboard of audit reports.

One file: CSS, plotly.js (inlined from the installed `plotly` package) and the chart data
all live in the page, so it opens with no network access. Chart data is embedded as JSON
with `<`, `>` and `&` escaped so that no value can close its `<script>` element.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from dashboards.charts import Chart, all_charts
from dashboards.errors import DashboardError
from dashboards.model import (
    AuditReport,
    Comparison,
    ComparisonView,
    DashboardInput,
    dashboard_inputs,
    load_document,
    parse_document,
)
from dashboards.tables import (
    break_examples_tables,
    comparison_table,
    headline_table,
    rejected_tables,
    top_sessions_tables,
    when,
)

DEFAULT_TITLE = "Session continuity audit"
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}
_STYLE = """
:root { color-scheme: light; --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main { max-width: 1500px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 10px; }
h3 { font-size: 1rem; margin: 0 0 2px; }
.meta, .muted { color: var(--muted); }
.meta { margin: 0 0 8px; font-size: .9rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
.charts { display:grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap:16px; }
.chart { width: 100%; }
.desc { margin: 0 0 6px; color: var(--muted); font-size: .9rem; }
.note { margin: 6px 0 0; color: #92400e; font-size: .9rem; }
.nodata { padding: 40px 0; text-align:center; color: var(--muted); background:#fafafa;
  border:1px dashed var(--line); border-radius:6px; }
.table-wrap { overflow-x:auto; }
table { border-collapse: collapse; width: 100%; background:#fff; font-size: .9rem; }
th, td { text-align:left; padding: 6px 10px; border-bottom:1px solid var(--line); vertical-align: top; }
th { background:#f3f4f6; font-weight:600; }
.nowrap { white-space: nowrap; }
.per-input-grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap:10px;
  align-items: start; }
.per-input-grid details.per-input { margin-bottom: 0; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
code { font: .82rem/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  overflow-wrap:anywhere; }
.swatch { display:inline-block; width:11px; height:11px; border-radius:2px; margin-right:7px; }
.verdict.sig { color:#065f46; font-weight:600; }
.verdict.nosig { color: var(--muted); }
details.per-input { background:#fff; border:1px solid var(--line); border-radius:8px;
  margin-bottom: 10px; padding: 8px 14px; }
details.per-input > summary { cursor:pointer; font-weight:600; padding: 2px 0; }
details.per-input table { margin-top: 8px; }
footer { max-width:1500px; margin: 30px auto; padding: 0 24px; color: var(--muted); font-size:.85rem; }
"""
_BOOT = """
(function () {
  var figures = JSON.parse(document.getElementById("chart-data").textContent);
  var config = JSON.parse(document.getElementById("chart-config").textContent);
  Object.keys(figures).forEach(function (id) {
    Plotly.newPlot(id, figures[id].data, figures[id].layout, config);
  });
})();
"""


def _script_json(value: Any) -> str:
    """JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plotly_js() -> str:
    try:
        return resources.files("plotly").joinpath("package_data/plotly.min.js").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DashboardError(
            f"plotly.js is not available ({exc}); install the `plotly` package"
        ) from None


def _chart_card(chart: Chart) -> str:
    note = f'<p class="note">{html.escape(chart.note)}</p>' if chart.note else ""
    if chart.figure is None:
        body = f'<div class="nodata">{html.escape(chart.note or "No data.")}</div>'
        note = ""
    else:
        body = (
            f'<div class="chart" id="chart-{chart.key}" data-chart="{chart.key}" role="img" '
            f'aria-label="{html.escape(chart.title)}" style="height:{chart.height}px"></div>'
        )
    return (
        f'<figure class="card chart-card" id="card-{chart.key}" style="margin:0">'
        f"<h3>{html.escape(chart.title)}</h3><p class='desc'>{html.escape(chart.description)}</p>"
        f"{body}{note}</figure>"
    )


def _time_span(inputs: Sequence[DashboardInput]) -> str:
    starts = [i.report.time_range.start for i in inputs if i.report.time_range.start]
    ends = [i.report.time_range.end for i in inputs if i.report.time_range.end]
    if not starts or not ends:
        return "no events"
    return f"events from {when(min(starts))} to {when(max(ends))} UTC"


def _section(title: str, body: str, key: str) -> str:
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{body}</section>'


def _page(title: str, inputs: list[DashboardInput], views: list[ComparisonView]) -> str:
    charts = all_charts(inputs)
    figures = {f"chart-{c.key}": c.figure for c in charts if c.figure is not None}
    sources = sorted({name for item in inputs for name in item.report.inputs})
    source_text = ", ".join(sources) if sources else "not recorded"
    sections = [
        _section("Headline figures", headline_table(inputs), "headline"),
        _section("Before / after", comparison_table(views), "comparisons") if views else "",
        _section(
            "Charts",
            '<div class="charts">' + "".join(_chart_card(c) for c in charts) + "</div>",
            "charts",
        ),
        _section("Most affected sessions", top_sessions_tables(inputs), "top-sessions"),
        _section("Break examples", break_examples_tables(inputs), "break-examples"),
        _section("Rejected records", rejected_tables(inputs), "rejected"),
    ]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script>{_plotly_js()}</script>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<p class="meta">{len(inputs)} input(s); {html.escape(_time_span(inputs))}; read from: {html.escape(source_text)}</p>
</header>
<main>
{"".join(sections)}
</main>
<footer>Generated by <code>quality dashboard</code>. Rates are breaks / events;
intervals are Wilson 95%; a break is an event outside its session's current thread.</footer>
<script type="application/json" id="chart-data">{_script_json(figures)}</script>
<script type="application/json" id="chart-config">{_script_json(_PLOTLY_CONFIG)}</script>
<script>{_BOOT}</script>
</body>
</html>
"""


def render_dashboard(
    reports: Sequence[Mapping[str, Any] | AuditReport | Comparison],
    title: str = DEFAULT_TITLE,
    names: Sequence[str] | None = None,
) -> str:
    """Render audit reports and comparison objects (parsed JSON or models) as one HTML page.

    `names` are fallback labels for reports without a `label` (e.g. their file names).
    Raises `DashboardError` when an object is not a report or comparison, or none is given.
    """
    if not reports:
        raise DashboardError(
            "no audit reports given; pass one or more `quality audit --json` files"
        )
    documents = [
        item
        if isinstance(item, (AuditReport, Comparison))
        else parse_document(item, f"report {index + 1}")
        for index, item in enumerate(reports)
    ]
    inputs, views = dashboard_inputs(documents, names)
    return _page(title, inputs, views)


def write_dashboard(
    report_paths: Sequence[Path], out_path: Path, title: str = DEFAULT_TITLE
) -> Path:
    """Read `quality audit --json` files and write the dashboard to `out_path`; returns the path."""
    documents = [load_document(Path(path)) for path in report_paths]
    page = render_dashboard(documents, title=title, names=[Path(p).stem for p in report_paths])
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DashboardError(f"{out}: cannot write the dashboard: {exc.strerror or exc}") from None
    return out
