"""Tests for dashboards/charts.py: the figures carry the reports' values, or say why there is none."""

import pytest

from dashboards.charts import (
    MAX_EVENT_TYPES,
    PALETTE,
    all_charts,
    break_rate_chart,
    breaks_by_event_chart,
    breaks_over_time_chart,
    colour,
    threads_per_session_chart,
)
from dashboards.model import dashboard_inputs, parse_document
from tests.dashboards.reports import empty_report, strategy_report


def _inputs(*raws):
    inputs, _ = dashboard_inputs([parse_document(raw, "t") for raw in raws])
    return inputs


def test_break_rate_bars_carry_rates_and_interval_as_error_bars():
    raws = [strategy_report("mint"), strategy_report("resume")]
    figure = break_rate_chart(_inputs(*raws)).figure
    assert figure is not None
    trace = figure["data"][0]
    assert trace["x"] == ["mint", "resume"]
    assert trace["y"] == pytest.approx([raw["break_rate"] * 100 for raw in raws])
    low, high = raws[0]["break_rate_ci"]
    rate = raws[0]["break_rate"]
    assert trace["error_y"]["array"][0] == pytest.approx((high - rate) * 100)
    assert trace["error_y"]["arrayminus"][0] == pytest.approx((rate - low) * 100)
    assert [a["text"] for a in figure["layout"]["annotations"]] == [
        f"{rate * 100:.1f}%",
        "0.0%",
    ]


def test_axes_have_titles():
    for chart in all_charts(_inputs(strategy_report("mint"))):
        assert chart.figure is not None
        layout = chart.figure["layout"]
        assert layout["xaxis"]["title"]["text"], chart.key
        assert chart.title


def test_each_input_keeps_its_colour_across_charts():
    inputs = _inputs(strategy_report("mint"), strategy_report("default-session"))
    by_event = breaks_by_event_chart(inputs).figure
    over_time = breaks_over_time_chart(inputs).figure
    assert by_event is not None and over_time is not None
    assert [t["marker"]["color"] for t in by_event["data"]] == [colour(0), colour(1)]
    assert [t["line"]["color"] for t in over_time["data"]] == [colour(0), colour(1)]
    assert colour(len(PALETTE)) == colour(0)


def test_breaks_by_event_lists_broken_events_by_breaks_and_names_clean_ones():
    raw = strategy_report("mint")
    chart = breaks_by_event_chart(_inputs(raw))
    assert chart.figure is not None
    expected = [row["event"] for row in raw["by_event"] if row["breaks"] > 0]
    trace = chart.figure["data"][0]
    assert trace["y"] == expected
    assert trace["x"] == [row["breaks"] for row in raw["by_event"] if row["breaks"] > 0]
    assert chart.note == "No breaks in: chat.user_message, thread.create, thread.switch."


def test_breaks_by_event_caps_the_number_of_event_types():
    raw = strategy_report("mint")
    raw["by_event"] = [{"event": f"op.{n:02d}", "events": 10, "breaks": 40 - n} for n in range(20)]
    chart = breaks_by_event_chart(_inputs(raw))
    assert chart.figure is not None
    assert len(chart.figure["data"][0]["y"]) == MAX_EVENT_TYPES
    hidden = sum(40 - n for n in range(MAX_EVENT_TYPES, 20))
    assert f"5 more event types with {hidden} breaks not shown." in chart.note


def test_no_breaks_anywhere_gives_a_note_instead_of_a_chart():
    chart = breaks_by_event_chart(_inputs(strategy_report("resume")))
    assert chart.figure is None
    assert chart.note.startswith("No breaks in any input.")


def test_breaks_per_minute_points_are_utc_minutes():
    raw = strategy_report("mint")
    raw["breaks_per_minute"] = [
        {"minute": "2026-11-24T09:13:00+01:00", "events": 3, "breaks": 1},
        {"minute": "2026-11-24T08:14:00Z", "events": 2, "breaks": 0},
    ]
    figure = breaks_over_time_chart(_inputs(raw)).figure
    assert figure is not None
    assert figure["data"][0]["x"] == ["2026-11-24 08:13:00", "2026-11-24 08:14:00"]
    assert figure["data"][0]["y"] == [1, 0]
    assert figure["data"][0]["customdata"] == [3, 2]


def test_threads_per_session_bars_follow_the_distribution():
    raw = strategy_report("mint")
    figure = threads_per_session_chart(_inputs(raw)).figure
    assert figure is not None
    assert figure["data"][0]["x"] == [row["threads"] for row in raw["threads_per_session"]]
    assert figure["data"][0]["y"] == [row["sessions"] for row in raw["threads_per_session"]]


def test_empty_report_has_no_figures_only_notes():
    charts = all_charts(_inputs(empty_report()))
    assert [chart.figure for chart in charts] == [None] * 4
    assert all(chart.note.startswith("No data") for chart in charts)


def test_empty_input_beside_a_full_one_is_named_and_left_out():
    chart = break_rate_chart(_inputs(strategy_report("mint"), empty_report("later")))
    assert chart.figure is not None
    assert chart.figure["data"][0]["x"] == ["mint"]
    assert chart.note == "No events in: later."


def test_labels_from_data_are_html_escaped_for_plotly():
    raw = strategy_report("mint", label="<b>x</b>")
    raw["by_event"][0]["event"] = "<img src=x>"
    inputs = _inputs(raw)
    assert break_rate_chart(inputs).figure["data"][0]["x"] == ["&lt;b&gt;x&lt;/b&gt;"]
    by_event = breaks_by_event_chart(inputs).figure
    assert by_event["data"][0]["name"] == "&lt;b&gt;x&lt;/b&gt;"
    assert by_event["data"][0]["y"][0] == "&lt;img src=x&gt;"


def test_quotes_in_labels_reach_plotly_as_quotes():
    """plotly.js decodes &lt; &gt; &amp; but not &quot;: a quote stays a quote."""
    raw = strategy_report("mint", label='Team "A"')
    raw["by_event"][0]["event"] = "say \"hi\" & 'bye'"
    inputs = _inputs(raw)
    assert break_rate_chart(inputs).figure["data"][0]["x"] == ['Team "A"']
    assert breaks_by_event_chart(inputs).figure["data"][0]["y"][0] == "say \"hi\" &amp; 'bye'"


def test_numeric_looking_labels_stay_categories():
    inputs = _inputs(strategy_report("mint", label="1.0"), strategy_report("resume", label="2"))
    figure = break_rate_chart(inputs).figure
    assert figure["layout"]["xaxis"]["type"] == "category"
    assert figure["data"][0]["x"] == ["1.0", "2"]
