"""Tests for dashboards/model.py: validating report JSON and labelling the dashboard's inputs."""

import json

import pytest

from dashboards.errors import DashboardError
from dashboards.model import (
    AuditReport,
    Comparison,
    dashboard_inputs,
    load_document,
    parse_document,
)
from tests.dashboards.reports import comparison, empty_report, strategy_report

DESIGN_KEYS = (
    "lines",
    "rejected",
    "unattributed",
    "missing_thread",
    "events",
    "sessions",
    "threads",
    "breaks",
    "break_rate",
    "affected_sessions",
    "stray_threads",
    "orphan_threads",
    "run_breaks",
    "split_traces",
    "by_event",
    "rejected_by_reason",
)


def test_report_fields_are_read():
    raw = strategy_report("mint", rejected=3)
    report = parse_document(raw, "mint.json")
    assert isinstance(report, AuditReport)
    assert (report.events, report.breaks, report.rejected) == (
        raw["events"],
        raw["breaks"],
        3,
    )
    assert report.break_rate_ci == tuple(raw["break_rate_ci"])
    assert [row.event for row in report.by_event] == [row["event"] for row in raw["by_event"]]
    assert report.break_examples[0].line == raw["break_examples"][0]["line"]


def test_unknown_keys_are_ignored():
    report = parse_document({**empty_report(), "something_new": [1, 2]}, "x.json")
    assert isinstance(report, AuditReport)


def test_report_with_only_design_keys_loads_with_empty_extras():
    raw = {key: strategy_report("resume")[key] for key in DESIGN_KEYS}
    report = parse_document(raw, "old.json")
    assert isinstance(report, AuditReport)
    assert report.label == ""
    assert report.break_rate_ci is None
    assert report.breaks_per_minute == ()


def test_object_with_before_and_after_is_a_comparison():
    doc = comparison(strategy_report("mint"), strategy_report("resume"))
    parsed = parse_document(doc, "cmp.json")
    assert isinstance(parsed, Comparison)
    assert parsed.before.breaks == doc["before"]["breaks"]
    assert parsed.is_significant is True


@pytest.mark.parametrize(
    ("significant", "delta", "p_value", "expected"),
    [
        (None, {}, 0.01, True),
        (None, {}, 0.2, False),
        (None, {}, None, False),
        (None, {"significant": True}, 0.2, True),
        (False, {}, 0.01, False),
    ],
)
def test_significance_uses_the_objects_verdict_then_the_p_value(
    significant, delta, p_value, expected
):
    doc = {
        "before": empty_report("a"),
        "after": empty_report("b"),
        "delta": delta,
        "p_value": p_value,
    }
    if significant is not None:
        doc["significant"] = significant
    parsed = parse_document(doc, "cmp.json")
    assert isinstance(parsed, Comparison)
    assert parsed.is_significant is expected


def test_invalid_field_is_named_in_one_line():
    raw = strategy_report("mint")
    raw["by_event"][1]["breaks"] = "many"
    with pytest.raises(DashboardError) as info:
        parse_document(raw, "mint.json")
    message = str(info.value)
    assert message.startswith("mint.json: not a valid audit report: field by_event.1.breaks: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("events",), -5, "events"),
        (("break_rate",), 5.0, "break_rate"),
        (("break_rate_ci",), [0.1, 1.5], "break_rate_ci.1"),
        (("by_event", 0, "breaks"), -1, "by_event.0.breaks"),
        (("rejected_by_reason",), {"invalid_json": -2}, "rejected_by_reason.invalid_json"),
    ],
)
def test_a_count_below_zero_or_a_rate_above_one_is_refused(path, value, field):
    """A report with `events: -5` or `break_rate: 5.0` was drawn as if it were true."""
    raw = strategy_report("mint")
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DashboardError, match=rf"field {field}: "):
        parse_document(raw, "mint.json")


def test_missing_required_key_is_reported():
    raw = strategy_report("mint")
    del raw["events"]
    with pytest.raises(DashboardError, match=r"field events: Field required"):
        parse_document(raw, "mint.json")


def test_non_object_is_rejected():
    with pytest.raises(DashboardError, match=r"^x.json: not an audit report \(expected a JSON"):
        parse_document([1, 2], "x.json")


def test_load_document_reports_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(DashboardError) as info:
        load_document(path)
    assert str(info.value) == f"{path}: no such audit report file"


def test_load_document_reports_invalid_json_with_position(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"lines": 1,\n  oops}')
    with pytest.raises(DashboardError) as info:
        load_document(path)
    assert str(info.value).startswith(f"{path}: not JSON (line 2, column 3: ")


def test_load_document_reads_a_report(tmp_path):
    path = tmp_path / "mint.json"
    path.write_text(json.dumps(strategy_report("mint")))
    assert isinstance(load_document(path), AuditReport)


def test_repeated_labels_are_made_unique():
    docs = [
        parse_document(strategy_report("mint"), "a"),
        parse_document(strategy_report("mint"), "b"),
    ]
    inputs, _ = dashboard_inputs(docs)
    assert [item.label for item in inputs] == ["mint", "mint (2)"]


def test_fallback_name_labels_reports_without_label():
    raw = strategy_report("mint")
    raw["label"] = ""
    inputs, _ = dashboard_inputs([parse_document(raw, "a")], names=["audit-mint"])
    assert inputs[0].label == "audit-mint"


def test_comparison_sides_become_before_and_after_inputs():
    doc = parse_document(
        comparison(
            strategy_report("mint", label="rollout"), strategy_report("resume", label="rollout")
        ),
        "cmp",
    )
    inputs, views = dashboard_inputs([doc])
    assert [item.label for item in inputs] == ["rollout before", "rollout after"]
    assert (views[0].label, views[0].before_label, views[0].after_label) == (
        "rollout",
        "rollout before",
        "rollout after",
    )


def test_comparison_of_two_labelled_input_sets_names_both():
    doc = parse_document(comparison(strategy_report("mint"), strategy_report("resume")), "cmp")
    inputs, views = dashboard_inputs([doc])
    assert [item.label for item in inputs] == ["mint before", "resume after"]
    assert views[0].label == "mint vs resume"


def test_split_by_with_more_than_two_sides_shows_every_side():
    sides = {v: strategy_report("resume", label="rollout", users=1) for v in ("1.2", "1.0", "1.1")}
    doc = comparison(sides["1.0"], sides["1.2"])
    doc["sides"] = sides
    inputs, views = dashboard_inputs([parse_document(doc, "cmp")])
    assert [item.label for item in inputs] == ["rollout 1.0", "rollout 1.1", "rollout 1.2"]
    assert (views[0].before_label, views[0].after_label) == ("rollout 1.0", "rollout 1.2")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"lines": NaN}', "not JSON: NaN is not a JSON value"),  # Python's json writes it
        ("[" * 100_000 + "]" * 100_000, "not an audit report: nested too deeply"),
    ],
)
def test_load_document_refuses_what_json_parse_would(tmp_path, text, says):
    path = tmp_path / "odd.json"
    path.write_text(text)
    with pytest.raises(DashboardError) as info:
        load_document(path)
    assert str(info.value).startswith(f"{path}: {says}")


def test_a_label_that_already_has_a_number_is_not_handed_out_twice():
    docs = [parse_document(strategy_report("mint", label=x), "f") for x in ("a", "a", "a (2)")]
    inputs, _ = dashboard_inputs(docs)
    labels = [item.label for item in inputs]
    assert labels[:2] == ["a", "a (2)"] and len(set(labels)) == 3


def test_split_by_sides_in_version_order_with_the_auditors_labels():
    """The auditor labels sides "<label> <value>" and compares the first and last values in
    version order: 1.9.0 before 1.10.0."""
    values = ("1.10.0", "1.9.0", "1.11.0")
    sides = {v: strategy_report("resume", label=f"rel {v}", users=1) for v in values}
    doc = comparison(sides["1.9.0"], sides["1.11.0"])
    doc["sides"] = sides
    inputs, views = dashboard_inputs([parse_document(doc, "cmp")])
    assert [item.label for item in inputs] == ["rel 1.9.0", "rel 1.10.0", "rel 1.11.0"]
    assert (views[0].before_label, views[0].after_label) == ("rel 1.9.0", "rel 1.11.0")
