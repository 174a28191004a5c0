"""Tests for dashboards/html.py: sections and figures present, escaping, self-contained, empty data."""

import json
import re
from html.parser import HTMLParser

import pytest

from dashboards.errors import DashboardError
from dashboards.html import render_dashboard, write_dashboard
from tests.dashboards.reports import demo_documents, empty_report, strategy_report

SECTIONS = {
    "headline": "Headline figures",
    "comparisons": "Before / after",
    "charts": "Charts",
    "top-sessions": "Most affected sessions",
    "break-examples": "Break examples",
    "rejected": "Rejected records",
}
CHARTS = ("break-rate", "breaks-by-event", "breaks-over-time", "threads-per-session")


class _Rows(HTMLParser):
    """Text of table rows per section id: {section: [[cell text, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self._section = dict(attrs).get("id", "")
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif self._cell is not None:
            self._cell.append(" ")  # nested blocks read as separate words

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.setdefault(self._section, []).append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rows(page: str) -> dict[str, list[list[str]]]:
    parser = _Rows()
    parser.feed(page)
    return parser.rows


def _chart_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    assert match, "chart data block missing"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def demo_page() -> str:
    return render_dashboard(demo_documents(), title="Continuity demo")


def test_every_section_has_its_heading(demo_page):
    for key, heading in SECTIONS.items():
        assert f'<section id="{key}"><h2>{heading}</h2>' in demo_page


def test_title_is_used(demo_page):
    assert "<title>Continuity demo</title>" in demo_page
    assert "<h1>Continuity demo</h1>" in demo_page


def test_headline_row_per_input_with_its_figures(demo_page):
    docs = demo_documents()
    rows = {row[0]: row for row in _rows(demo_page)["headline"][1:]}
    assert list(rows) == ["mint", "default-session", "resume", "rollout before", "rollout after"]
    mint = docs[0]
    low, high = mint["break_rate_ci"]
    assert rows["mint"][1:9] == [
        f"{mint['events']:,}",
        f"{mint['breaks']:,}",
        f"{mint['break_rate'] * 100:.2f}% ({low * 100:.2f}%\u2013{high * 100:.2f}%)",
        f"{mint['affected_sessions']} of {mint['sessions']}",
        f"{mint['stray_threads']} of {mint['threads']}",
        str(mint["orphan_threads"]),
        str(mint["run_breaks"]),
        str(mint["split_traces"]),
    ]
    assert rows["mint"][9] == "3"  # rejected
    assert rows["resume"][2] == "0"


def test_comparison_row_gives_both_sides_and_verdict(demo_page):
    header, row = _rows(demo_page)["comparisons"]
    assert header[:3] == ["Comparison", "Before", "After"]
    assert row[0] == "rollout split by version"
    assert row[1].startswith("rollout before ")
    assert row[2].startswith("rollout after 0.00%")
    assert row[5].startswith("Break rate fell from ") and "significant" in row[5]


def test_every_chart_has_a_container_and_a_figure(demo_page):
    figures = _chart_data(demo_page)
    for key in CHARTS:
        assert f'id="chart-{key}"' in demo_page
        assert figures[f"chart-{key}"]["data"], key


def test_chart_figures_hold_each_inputs_values(demo_page):
    docs = demo_documents()
    figures = _chart_data(demo_page)
    rates = figures["chart-break-rate"]["data"][0]["y"]
    assert rates == pytest.approx(
        [d["break_rate"] * 100 for d in docs[:3]]
        + [docs[3]["before"]["break_rate"] * 100, docs[3]["after"]["break_rate"] * 100]
    )
    per_minute = figures["chart-breaks-over-time"]["data"][0]
    assert per_minute["y"] == [row["breaks"] for row in docs[0]["breaks_per_minute"]]


def test_tables_list_sessions_examples_and_rejections(demo_page):
    rows = _rows(demo_page)
    mint = demo_documents()[0]
    first = mint["break_examples"][0]
    example = next(
        r for r in rows["break-examples"] if r[0] == f"{first['source']}:{first['line']}"
    )
    assert example[4:7] == [first["event"], first["expected_thread"], first["actual_thread"]]
    top = mint["top_sessions"][0]
    assert [top["user_id"], top["session_id"], str(top["events"])] in [
        r[:3] for r in rows["top-sessions"]
    ]
    assert ["quality-demo/mint/traces.jsonl:1", "invalid_json"] in rows["rejected"]


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_text_from_the_data_is_escaped():
    raw = strategy_report("mint", label=HOSTILE, source=f"logs/{HOSTILE}.jsonl", rejected=1)
    raw["by_event"][0]["event"] = HOSTILE
    raw["top_sessions"][0]["user_id"] = HOSTILE
    raw["break_examples"][0]["actual_thread"] = "</script><script>alert(2)</script>"
    raw["rejected_by_reason"] = {HOSTILE: 1}
    page = render_dashboard([raw], title=HOSTILE)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    data = re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and ">" not in data
    assert "&lt;script&gt;" in json.loads(data)["chart-break-rate"]["data"][0]["x"][0]


def test_page_is_self_contained(demo_page):
    assert not re.search(r"<script[^>]*\bsrc=", demo_page)
    assert not re.search(r"<link\b", demo_page)
    # plotly.js mentions URLs in its code; the page's own markup must not load any.
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", demo_page, flags=re.S)
    assert not re.search(r"\b(src|href|url)\s*[=(]\s*[\"']?\s*(https?:)?//", markup)
    assert "Plotly.newPlot" in demo_page
    assert "plotly.js v" in demo_page[:200_000]  # the library itself is inlined


def test_empty_report_renders_no_data_notes():
    page = render_dashboard([empty_report("quiet")])
    assert 'class="chart"' not in page
    assert page.count('class="nodata"') == len(CHARTS)
    assert _chart_data(page) == {}
    row = _rows(page)["headline"][1]
    assert row[:4] == ["quiet", "0", "0", "—"]
    assert "No breaks." in page and "No rejected records." in page


def test_report_with_only_design_keys_renders():
    raw = strategy_report("mint")
    design = {k: raw[k] for k in list(raw)[: list(raw).index("rejected_by_reason") + 1]}
    page = render_dashboard([design], names=["audit-mint"])
    assert _rows(page)["headline"][1][0] == "audit-mint"
    assert "chart-break-rate" in _chart_data(page)


def test_output_is_deterministic():
    docs = demo_documents()
    assert render_dashboard(docs) == render_dashboard(docs)


def test_no_reports_is_an_error():
    with pytest.raises(DashboardError, match="no audit reports given"):
        render_dashboard([])


def test_invalid_object_is_named_by_position():
    with pytest.raises(DashboardError, match=r"^report 2: not a valid audit report: field "):
        render_dashboard([strategy_report("mint"), {"lines": 1}])


def test_write_dashboard_writes_the_page_and_labels_by_file_name(tmp_path):
    raw = strategy_report("mint")
    raw["label"] = ""
    path = tmp_path / "audit-mint.json"
    path.write_text(json.dumps(raw))
    out = write_dashboard([path], tmp_path / "sub" / "dash.html", title="T")
    assert out == tmp_path / "sub" / "dash.html"
    page = out.read_text(encoding="utf-8")
    assert _rows(page)["headline"][1][0] == "audit-mint"


def test_write_dashboard_names_the_bad_file(tmp_path):
    path = tmp_path / "audit.json"
    path.write_text("[1, 2]")
    with pytest.raises(DashboardError, match=r"audit.json: not an audit report"):
        write_dashboard([path], tmp_path / "dash.html")
    assert not (tmp_path / "dash.html").exists()
