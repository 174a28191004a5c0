"""Tests of handlers/reporting.py: metrics arithmetic, windows, filters, golden markdown."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.errors import MalformedMessage
from handlers.reporting import (
    ReportPeriod,
    ReportType,
    ValidationRecord,
    compute_metrics,
    render_report,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "reports"


def record(
    score: float,
    *,
    ago: timedelta = timedelta(hours=1),
    agent: str = "planner",
    content_type: str = "action_plan",
    issues: tuple[str, ...] = (),
    thread: str | None = "thread_a",
    run: str | None = "run_1",
) -> ValidationRecord:
    return ValidationRecord(
        user_id="alice",
        thread_id=thread,
        run_id=run,
        agent_name=agent,
        content_type=content_type,
        score=score,
        passed=score >= 0.6,
        issues=issues,
        created_at=NOW - ago,
    )


FIVE = [
    record(0.2, agent="triager", content_type="triage", issues=("No owner.", "No cause.")),
    record(0.4, agent="triager", content_type="triage", issues=("No owner.",)),
    record(0.6, issues=("Hedging.",)),
    record(0.8, issues=("No cause.",)),
    record(1.0),
]


def test_metrics_arithmetic_on_five_records() -> None:
    m = compute_metrics(FIVE, now=NOW, period_hours=24)
    assert (m.validations, m.passed, m.failed) == (5, 3, 2)
    assert m.pass_rate == 0.6
    assert m.average_score == 0.6
    # linear interpolation: p10 = 0.2 + 0.4 * (0.4 - 0.2), p90 = 0.8 + 0.6 * (1.0 - 0.8)
    assert (m.p10_score, m.p50_score, m.p90_score) == (0.28, 0.6, 0.92)
    assert m.by_content_type == {
        "action_plan": {"validations": 3, "pass_rate": 1.0, "average_score": 0.8},
        "triage": {"validations": 2, "pass_rate": 0.0, "average_score": 0.3},
    }
    assert m.by_agent == {
        "planner": {"validations": 3, "pass_rate": 1.0, "average_score": 0.8},
        "triager": {"validations": 2, "pass_rate": 0.0, "average_score": 0.3},
    }
    assert m.top_issues == (("No cause.", 2), ("No owner.", 2), ("Hedging.", 1))
    assert (m.alert_threshold, m.alerts_below_threshold) == (0.5, 2)


def test_alert_threshold_is_configurable() -> None:
    m = compute_metrics(FIVE, now=NOW, period_hours=24, alert_threshold=0.9)
    assert m.alerts_below_threshold == 4


def test_single_record_percentiles_are_its_score() -> None:
    m = compute_metrics([record(0.45)], now=NOW, period_hours=1.5)
    assert (m.p10_score, m.p50_score, m.p90_score) == (0.45, 0.45, 0.45)


def test_top_issues_keep_the_five_most_frequent_ties_by_text() -> None:
    records = [
        record(0.1, issues=tuple(f"issue {c}" for c in "abcdefg"[: n + 1])) for n in range(7)
    ]
    m = compute_metrics(records, now=NOW, period_hours=24)
    assert m.top_issues == (
        ("issue a", 7),
        ("issue b", 6),
        ("issue c", 5),
        ("issue d", 4),
        ("issue e", 3),
    )


def test_window_includes_its_start_and_now_but_not_before_or_after() -> None:
    records = [
        record(0.1, ago=timedelta(hours=24)),  # exactly at the start: in
        record(0.2, ago=timedelta(hours=24, seconds=1)),  # just before: out
        record(0.3, ago=timedelta(0)),  # exactly now: in
        record(0.4, ago=-timedelta(seconds=1)),  # in the future: out
    ]
    m = compute_metrics(records, now=NOW, period_hours=24)
    assert m.validations == 2
    assert m.average_score == 0.2
    assert m.period_start == NOW - timedelta(hours=24)
    assert m.period_end == NOW


def test_fractional_period_hours() -> None:
    records = [record(0.5, ago=timedelta(minutes=20)), record(0.9, ago=timedelta(minutes=40))]
    assert compute_metrics(records, now=NOW, period_hours=0.5).validations == 1


def test_agent_filter_keeps_one_agent() -> None:
    m = compute_metrics(FIVE, now=NOW, period_hours=24, agent_name="triager")
    assert (m.agent_name, m.validations, m.average_score) == ("triager", 2, 0.3)
    assert list(m.by_agent) == ["triager"]


def test_unknown_agent_gives_empty_metrics() -> None:
    m = compute_metrics(FIVE, now=NOW, period_hours=24, agent_name="nobody")
    assert m.validations == 0


def test_empty_metrics_have_no_rates() -> None:
    m = compute_metrics([], now=NOW, period_hours=24)
    assert (m.validations, m.passed, m.pass_rate, m.average_score) == (0, 0, None, None)
    assert (m.p10_score, m.p50_score, m.p90_score) == (None, None, None)
    assert (m.by_content_type, m.by_agent, m.top_issues) == ({}, {}, ())


def test_naive_datetimes_are_taken_as_utc() -> None:
    aware = record(0.7, ago=timedelta(hours=2))
    naive = dataclasses.replace(aware, created_at=aware.created_at.replace(tzinfo=None))
    m = compute_metrics([naive], now=NOW.replace(tzinfo=None), period_hours=3)
    assert m.validations == 1
    assert m.period_end == NOW


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "24", None])
def test_bad_period_hours_is_a_malformed_message(bad: object) -> None:
    with pytest.raises(MalformedMessage, match="period_hours must be a positive number of hours"):
        compute_metrics(FIVE, now=NOW, period_hours=bad)  # type: ignore[arg-type]


def test_to_dict_is_json_ready_with_every_figure() -> None:
    payload = compute_metrics(FIVE, now=NOW, period_hours=24).to_dict()
    decoded = json.loads(json.dumps(payload))
    assert decoded["period_start"] == "2026-11-23T12:00:00Z"
    assert decoded["period_end"] == "2026-11-24T12:00:00Z"
    assert decoded["top_issues"][0] == {"issue": "No cause.", "count": 2}
    assert (decoded["validations"], decoded["passed"], decoded["failed"]) == (5, 3, 2)
    assert decoded["by_agent"]["triager"]["average_score"] == 0.3


# -- reports -------------------------------------------------------------------------------

ISSUES = (
    "No owner: say who does each step (a name, a team or an @handle).",
    'No deadline: say when each step is due (a date, "by Friday", "within 2 weeks").',
    "Not quantified: add numbers with units (ms, %, GB, req/s) for current values, "
    "targets and expected impact.",
    'No cause: say why it happened ("because ...", "caused by ...").',
)


def _dataset() -> list[ValidationRecord]:
    """Fixed records over eight days: two agents, three types, some sparse hours and days."""
    rows = [
        # (hours ago, score, agent, content type, issue indexes, thread, run)
        (0.5, 0.91, "planner", "action_plan", (), "thread_7", "run_70"),
        (1.2, 0.42, "triager", "triage", (0, 3), "thread_7", "run_71"),
        (1.9, 0.66, "planner", "action_plan", (1,), "thread_7", "run_71"),
        (5.0, 0.35, "analyst|v2", "data_analysis", (2,), None, None),
        (5.5, 0.73, "analyst|v2", "data_analysis", (), "thread_6", "run_60"),
        (13.0, 0.58, "triager", "triage", (0,), "thread_6", "run_61"),
        (23.9, 0.81, "planner", "action_plan", (), "thread_5", "run_50"),
        (30.0, 0.22, "triager", "triage", (0, 2, 3), "thread_4", "run_40"),
        (50.0, 0.77, "planner", "action_plan", (1,), "thread_3", "run_30"),
        (75.0, 0.64, "analyst|v2", "data_analysis", (), "thread_3", "run_31"),
        (140.0, 0.49, "triager", "triage", (3,), "thread_2", "run_20"),
        (167.9, 0.95, "planner", "action_plan", (), "thread_1", "run_10"),
        (200.0, 0.10, "planner", "action_plan", (0, 1), "thread_0", "run_00"),  # outside a week
    ]
    return [
        record(
            score,
            ago=timedelta(hours=hours),
            agent=agent,
            content_type=kind,
            issues=tuple(ISSUES[i] for i in issue_ids),
            thread=thread,
            run=run,
        )
        for hours, score, agent, kind, issue_ids, thread, run in rows
    ]


def _check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run pytest with --update-golden"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("report_type", list(ReportType))
@pytest.mark.parametrize("period", list(ReportPeriod))
def test_report_matches_golden_markdown(
    report_type: ReportType, period: ReportPeriod, update_golden: bool
) -> None:
    markdown, _ = render_report(_dataset(), report_type=report_type, period=period, now=NOW)
    _check_golden(f"{report_type.value}_{period.value}.md", markdown, update_golden)


def test_empty_report_says_so(update_golden: bool) -> None:
    markdown, raw = render_report(
        _dataset()[-1:], report_type=ReportType.DETAILED, period=ReportPeriod.DAY, now=NOW
    )
    assert "No validations in this period." in markdown
    assert "## Headline" not in markdown
    assert raw["validations"] == 0
    assert raw["worst_validations"] == []
    assert all(bucket["validations"] == 0 for bucket in raw["trend"])
    _check_golden("empty_day.md", markdown, update_golden)


@pytest.mark.parametrize(("period", "buckets", "expected"), [("day", 24, 7), ("week", 7, 12)])
def test_trend_buckets_cover_the_window_and_add_up(
    period: str, buckets: int, expected: int
) -> None:
    _, raw = render_report(_dataset(), report_type="summary", period=period, now=NOW)
    trend = raw["trend"]
    assert len(trend) == buckets
    assert trend[0]["bucket_start"] == raw["period_start"]
    assert sum(b["validations"] for b in trend) == raw["validations"] == expected


def test_day_trend_puts_records_in_their_hour() -> None:
    _, raw = render_report(_dataset(), report_type="summary", period="day", now=NOW)
    counts = [b["validations"] for b in raw["trend"]]
    # bucket = int(24 - hours ago): 23.9 -> 0; 13 -> 11; 5.5 -> 18; 5 -> 19; 1.9, 1.2 -> 22
    assert counts == [1] + [0] * 10 + [1] + [0] * 6 + [1, 1] + [0] * 2 + [2, 1]
    assert raw["trend"][1]["average_score"] is None  # an empty hour has no score, not 0


def test_detailed_report_lists_worst_validations_lowest_first() -> None:
    markdown, raw = render_report(_dataset(), report_type="detailed", period="week", now=NOW)
    scores = [w["score"] for w in raw["worst_validations"]]
    assert scores == sorted(scores)
    assert scores[0] == 0.22
    assert len(scores) == 10
    assert raw["worst_validations"][0]["thread_id"] == "thread_4"
    assert "| 0.220 | no | triage | triager | `thread_4` | `run_40` |" in markdown


def test_summary_report_has_no_worst_validations() -> None:
    markdown, raw = render_report(_dataset(), report_type="summary", period="week", now=NOW)
    assert "Worst validations" not in markdown
    assert "worst_validations" not in raw


def test_pipes_in_names_do_not_break_tables() -> None:
    markdown, _ = render_report(_dataset(), report_type="summary", period="day", now=NOW)
    assert "| analyst\\|v2 | 2 | 50.0% | 0.540 |" in markdown


def test_report_raw_data_is_json_ready_and_deterministic() -> None:
    first = render_report(_dataset(), report_type="detailed", period="week", now=NOW)
    second = render_report(
        list(reversed(_dataset())), report_type="detailed", period="week", now=NOW
    )
    assert first == second
    assert json.loads(json.dumps(first[1]))["generated_at"] == "2026-11-24T12:00:00Z"


def test_unknown_report_type_or_period_is_a_malformed_message() -> None:
    with pytest.raises(
        MalformedMessage, match=r"^unknown report_type 'full'; use one of summary, detailed$"
    ):
        render_report([], report_type="full", period="day", now=NOW)
    with pytest.raises(MalformedMessage, match=r"^unknown period 'month'; use one of day, week$"):
        render_report([], report_type="summary", period="month", now=NOW)
