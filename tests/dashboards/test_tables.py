"""Tests for dashboards/tables.py: number formats, verdicts and the per-input tables."""

import pytest

from dashboards.model import dashboard_inputs, parse_document
from dashboards.tables import (
    break_examples_tables,
    cell,
    comparison_table,
    headline_table,
    percent,
    rate_with_interval,
    rejected_tables,
    top_sessions_tables,
    verdict,
    when,
)
from tests.dashboards.reports import comparison, empty_report, strategy_report


def _inputs(*raws):
    return dashboard_inputs([parse_document(raw, "t") for raw in raws])


@pytest.mark.parametrize(
    ("rate", "expected"), [(0.0, "0.00%"), (0.219814, "21.98%"), (1.0, "100.00%"), (None, "—")]
)
def test_percent(rate, expected):
    assert percent(rate) == expected


def test_rate_with_interval_shows_the_wilson_bounds():
    report = parse_document(strategy_report("mint"), "t")
    low, high = report.break_rate_ci
    assert rate_with_interval(report) == (
        f"{report.break_rate * 100:.2f}% ({low * 100:.2f}%\u2013{high * 100:.2f}%)"
    )


def test_rate_of_an_empty_report_is_a_dash():
    assert rate_with_interval(parse_document(empty_report(), "t")) == "—"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1234, "1,234"), (None, '<span class="muted">—</span>'), ("<x>", "&lt;x&gt;")],
)
def test_cell_formats_and_escapes(value, expected):
    assert cell(value) == expected


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-11-24T08:13:05.250000Z", "2026-11-24 08:13:05.250000"),
        ("2026-11-24T09:13:05+01:00", "2026-11-24 08:13:05"),
        ("yesterday", "yesterday"),
        (None, ""),
    ],
)
def test_when_shows_utc(ts, expected):
    assert when(ts) == expected


def _view(before, after):
    _, views = _inputs(comparison(before, after))
    return views[0]


def test_verdict_of_a_significant_drop():
    view = _view(strategy_report("mint"), strategy_report("resume"))
    p = view.comparison.p_value
    assert verdict(view) == (
        f"Break rate fell from {percent(view.comparison.before.break_rate)} to 0.00%: "
        f"significant (p = {p:.3g})."
    )


def test_verdict_of_a_significant_rise():
    view = _view(strategy_report("resume"), strategy_report("mint"))
    assert verdict(view).startswith("Break rate rose from 0.00% to ")


def test_verdict_without_difference():
    view = _view(strategy_report("mint"), strategy_report("default-session"))
    assert verdict(view) == "No significant difference (p = 1)."


def test_verdict_without_p_value():
    view = _view(strategy_report("mint"), empty_report())
    assert view.comparison.p_value is None
    assert verdict(view) == "No test: one side has no events."


def test_comparison_table_names_the_split():
    doc = comparison(strategy_report("mint"), strategy_report("resume"), kind="at", value="T")
    doc["unsplit"] = 7
    _, views = _inputs(doc)
    table = comparison_table(views)
    assert "split at T; 7 records on neither side" in table
    assert "mint before" in table and "resume after" in table


def test_headline_table_has_one_row_per_input():
    inputs, _ = _inputs(strategy_report("mint"), strategy_report("resume"))
    table = headline_table(inputs)
    assert table.count("<tr>") == 3  # header and two inputs
    assert "12 of 12" in table  # affected sessions of mint


def test_top_sessions_show_only_sessions_with_breaks():
    inputs, _ = _inputs(strategy_report("mint"), strategy_report("resume"))
    html = top_sessions_tables(inputs)
    mint, resume = html.split("</details>")[:2]
    assert mint.count("<tr>") == 11
    assert "No affected sessions." in resume


def test_break_examples_show_source_and_line():
    raw = strategy_report("mint")
    inputs, _ = _inputs(raw)
    first = raw["break_examples"][0]
    assert f"<code>{first['source']}:{first['line']}</code>" in break_examples_tables(inputs)


def test_rejected_tables_count_reasons_and_list_examples():
    inputs, _ = _inputs(strategy_report("mint", rejected=3))
    html = rejected_tables(inputs)
    assert "3 rejected. invalid_json: 2, missing_timestamp: 1" in html
    assert html.count("<tr>") == 4


def test_break_examples_open_only_the_first_input_and_count_what_is_shown():
    mint, default = strategy_report("mint"), strategy_report("default-session")
    inputs, _ = _inputs(mint, default)
    html = break_examples_tables(inputs)
    assert html.count('<details class="per-input" open>') == 1
    assert f"(20 of {mint['breaks']} breaks shown)" in html
    assert html.count("<tr>") == 2 * 21  # both tables are there, the second one collapsed
