"""Quality metrics and markdown reports over stored validations. Pure: no I/O.

``compute_metrics`` aggregates the validations of a window ``[now - period, now]``
(the payload of a ``quality_metrics`` reply); ``render_report`` turns the same
figures, a trend and (detailed) the worst validations into markdown plus a
JSON-ready ``raw_data`` dict. Both are deterministic given ``now``. Percentiles
use linear interpolation between closest ranks (numpy's default). Naive
datetimes are taken as UTC.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from handlers.errors import MalformedMessage

__all__ = [
    "DEFAULT_ALERT_THRESHOLD",
    "QualityMetrics",
    "ReportPeriod",
    "ReportType",
    "ValidationRecord",
    "compute_metrics",
    "render_report",
]

DEFAULT_ALERT_THRESHOLD = 0.5
_E = TypeVar("_E", bound=StrEnum)
_TOP_ISSUES = 5
_WORST = 10
_SPARK = "▁▂▃▄▅▆▇█"
_NONE = "\N{EN DASH}"  # an absent value in a table cell


@dataclass(frozen=True, slots=True)
class ValidationRecord:
    """One stored validation: who asked, in which thread/run, for which agent, and the verdict."""

    user_id: str
    thread_id: str | None
    run_id: str | None
    agent_name: str
    content_type: str
    score: float
    passed: bool
    issues: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QualityMetrics:
    """Aggregates over one window; ``to_dict()`` is the `quality_metrics` reply payload."""

    period_hours: float
    agent_name: str | None
    period_start: datetime
    period_end: datetime
    validations: int
    passed: int
    pass_rate: float | None
    average_score: float | None
    p10_score: float | None
    p50_score: float | None
    p90_score: float | None
    by_content_type: dict[str, dict[str, Any]]
    by_agent: dict[str, dict[str, Any]]
    top_issues: tuple[tuple[str, int], ...]
    alert_threshold: float
    alerts_below_threshold: int

    @property
    def failed(self) -> int:
        """Validations that did not pass."""
        return self.validations - self.passed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as RFC 3339 strings, issues as ``{issue, count}``."""
        return {
            "period_hours": self.period_hours,
            "agent_name": self.agent_name,
            "period_start": _iso(self.period_start),
            "period_end": _iso(self.period_end),
            "validations": self.validations,
            "passed": self.passed,
            "failed": self.failed,
            "pass_rate": self.pass_rate,
            "average_score": self.average_score,
            "p10_score": self.p10_score,
            "p50_score": self.p50_score,
            "p90_score": self.p90_score,
            "by_content_type": {k: dict(v) for k, v in self.by_content_type.items()},
            "by_agent": {k: dict(v) for k, v in self.by_agent.items()},
            "top_issues": [{"issue": i, "count": c} for i, c in self.top_issues],
            "alert_threshold": self.alert_threshold,
            "alerts_below_threshold": self.alerts_below_threshold,
        }


class ReportType(StrEnum):
    """``summary``: figures and a one-line trend; ``detailed``: trend table and worst validations."""

    SUMMARY = "summary"
    DETAILED = "detailed"


class ReportPeriod(StrEnum):
    """The report window, ending at ``now``: 24 hourly buckets or 7 daily buckets."""

    DAY = "day"
    WEEK = "week"


_PERIOD_BUCKETS: dict[ReportPeriod, tuple[int, timedelta]] = {
    ReportPeriod.DAY: (24, timedelta(hours=1)),
    ReportPeriod.WEEK: (7, timedelta(days=1)),
}


def _choice(enum: type[_E], value: str, name: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        names = ", ".join(member.value for member in enum)
        raise MalformedMessage(f"unknown {name} {value!r}; use one of {names}") from None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def _group(records: Sequence[ValidationRecord]) -> dict[str, Any]:
    count = len(records)
    if not count:
        return {"validations": 0, "pass_rate": None, "average_score": None}
    return {
        "validations": count,
        "pass_rate": round(sum(r.passed for r in records) / count, 3),
        "average_score": round(math.fsum(r.score for r in records) / count, 3),
    }


def _by(records: Sequence[ValidationRecord], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[ValidationRecord]] = {}
    for record in records:
        groups.setdefault(getattr(record, key), []).append(record)
    return {name: _group(groups[name]) for name in sorted(groups)}


def _in_window(
    records: Iterable[ValidationRecord], start: datetime, end: datetime, agent: str | None
) -> list[ValidationRecord]:
    return [
        r
        for r in records
        if start <= _utc(r.created_at) <= end and (agent is None or r.agent_name == agent)
    ]


def compute_metrics(
    records: Iterable[ValidationRecord],
    *,
    now: datetime,
    period_hours: float,
    agent_name: str | None = None,
    alert_threshold: float = DEFAULT_ALERT_THRESHOLD,
) -> QualityMetrics:
    """Aggregate the validations created in ``[now - period_hours, now]``, optionally of one agent.

    Raises `MalformedMessage` when ``period_hours`` is not a positive finite number.
    """
    numeric = isinstance(period_hours, int | float) and not isinstance(period_hours, bool)
    if not numeric or not 0 < period_hours < math.inf:
        raise MalformedMessage(
            f"period_hours must be a positive number of hours, got {period_hours!r}"
        )
    end = _utc(now)
    start = end - timedelta(hours=period_hours)
    window = _in_window(records, start, end, agent_name)
    headline = _group(window)
    ordered = sorted(r.score for r in window)
    issues = Counter(issue for r in window for issue in r.issues)
    top = sorted(issues.items(), key=lambda item: (-item[1], item[0]))[:_TOP_ISSUES]
    return QualityMetrics(
        period_hours=period_hours,
        agent_name=agent_name,
        period_start=start,
        period_end=end,
        validations=len(window),
        passed=sum(r.passed for r in window),
        pass_rate=headline["pass_rate"],
        average_score=headline["average_score"],
        p10_score=_percentile(ordered, 0.1),
        p50_score=_percentile(ordered, 0.5),
        p90_score=_percentile(ordered, 0.9),
        by_content_type=_by(window, "content_type"),
        by_agent=_by(window, "agent_name"),
        top_issues=tuple(top),
        alert_threshold=alert_threshold,
        alerts_below_threshold=sum(r.score < alert_threshold for r in window),
    )


def _trend(
    window: Sequence[ValidationRecord], start: datetime, end: datetime, period: ReportPeriod
) -> list[dict[str, Any]]:
    """Equal buckets from ``start``; the last one also holds records at exactly ``end``."""
    count, size = _PERIOD_BUCKETS[period]
    buckets: list[list[ValidationRecord]] = [[] for _ in range(count)]
    for record in window:
        index = min(int((_utc(record.created_at) - start) / size), count - 1)
        buckets[index].append(record)
    return [
        {"bucket_start": _iso(start + i * size), **_group(bucket)}
        for i, bucket in enumerate(buckets)
    ]


def _cell(value: object) -> str:
    """A markdown table cell: no pipes or newlines can break the table."""
    if value is None:
        return _NONE
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _pct(rate: float | None) -> str:
    return _NONE if rate is None else f"{rate * 100:.1f}%"


def _num(value: float | None) -> str:
    return _NONE if value is None else f"{value:.3f}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _group_table(title: str, label: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"## {title}", "", f"| {label} | validations | pass rate | average score |"]
    lines.append("|---|---:|---:|---:|")
    for name, g in groups.items():
        row = (_cell(name), g["validations"], _pct(g["pass_rate"]), _num(g["average_score"]))
        lines.append("| {} | {} | {} | {} |".format(*row))
    return [*lines, ""]


def _sparkline(trend: Sequence[dict[str, Any]]) -> str:
    """Average score per bucket as a block (0 → ▁, 1 → █); `·` marks an empty bucket."""
    marks = []
    for bucket in trend:
        score = bucket["average_score"]
        marks.append("·" if score is None else _SPARK[min(7, int(score * 8))])
    return "".join(marks)


def _trend_lines(
    trend: Sequence[dict[str, Any]], period: ReportPeriod, detailed: bool
) -> list[str]:
    unit = "hour" if period is ReportPeriod.DAY else "day"
    empty = sum(1 for b in trend if not b["validations"])
    lines = [
        f"## Trend (per {unit})",
        "",
        f"Average score per {unit} (▁ 0 to █ 1), oldest first: `{_sparkline(trend)}` "
        f"({empty} of {len(trend)} {unit}s without validations, shown as `·`).",
        "",
    ]
    if detailed:
        lines += [
            f"| {unit} from | validations | pass rate | average score |",
            "|---|---:|---:|---:|",
        ]
        for b in trend:
            start = b["bucket_start"].replace("T", " ").replace("Z", "")[:16]
            row = (start, b["validations"], _pct(b["pass_rate"]), _num(b["average_score"]))
            lines.append("| {} | {} | {} | {} |".format(*row))
        lines.append("")
    return lines


def _worst(window: Sequence[ValidationRecord]) -> list[ValidationRecord]:
    return sorted(window, key=lambda r: (r.score, _utc(r.created_at), r.thread_id or ""))[:_WORST]


def _record_dict(record: ValidationRecord) -> dict[str, Any]:
    return {
        "created_at": _iso(_utc(record.created_at)),
        "score": record.score,
        "passed": record.passed,
        "content_type": record.content_type,
        "agent_name": record.agent_name,
        "thread_id": record.thread_id,
        "run_id": record.run_id,
        "issues": list(record.issues),
    }


def render_report(
    records: Iterable[ValidationRecord],
    *,
    report_type: ReportType | str,
    period: ReportPeriod | str,
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """The markdown report and its JSON-ready raw data over the last day or week before ``now``.

    ``records`` are one user's validations (the caller filters by user). Raises
    `MalformedMessage` on an unknown report type or period.
    """
    kind = _choice(ReportType, report_type, "report_type")
    window_kind = _choice(ReportPeriod, period, "period")
    count, size = _PERIOD_BUCKETS[window_kind]
    records = list(records)
    metrics = compute_metrics(records, now=now, period_hours=count * size / timedelta(hours=1))
    window = _in_window(records, metrics.period_start, metrics.period_end, None)
    trend = _trend(window, metrics.period_start, metrics.period_end, window_kind)
    detailed = kind is ReportType.DETAILED
    worst = _worst(window) if detailed else []
    raw: dict[str, Any] = {
        "report_type": kind.value,
        "period": window_kind.value,
        "generated_at": _iso(metrics.period_end),
        **metrics.to_dict(),
        "trend": trend,
    }
    if detailed:
        raw["worst_validations"] = [_record_dict(r) for r in worst]

    span = "24 hours" if window_kind is ReportPeriod.DAY else "7 days"
    lines = [
        f"# Quality report: {kind.value}, last {span}",
        "",
        f"Generated {_stamp(metrics.period_end)} · window {_stamp(metrics.period_start)} "
        f"to {_stamp(metrics.period_end)}",
        "",
    ]
    if not metrics.validations:
        lines.append("No validations in this period.")
        return "\n".join(lines) + "\n", raw
    lines += [
        "## Headline",
        "",
        f"- Validations: {metrics.validations} ({metrics.passed} passed, {metrics.failed} failed)",
        f"- Pass rate: {_pct(metrics.pass_rate)}",
        f"- Average score: {_num(metrics.average_score)} (p10 {_num(metrics.p10_score)}, "
        f"p50 {_num(metrics.p50_score)}, p90 {_num(metrics.p90_score)})",
        f"- Below the alert threshold ({metrics.alert_threshold:.2f}): "
        f"{metrics.alerts_below_threshold}",
        "",
    ]
    lines += _group_table("By content type", "content type", metrics.by_content_type)
    lines += _group_table("By agent", "agent", metrics.by_agent)
    lines += _trend_lines(trend, window_kind, detailed)
    lines += ["## Top issues", ""]
    if metrics.top_issues:
        lines += [f"{i}. {issue} ({n}x)" for i, (issue, n) in enumerate(metrics.top_issues, 1)]
    else:
        lines.append("No issues reported.")
    lines.append("")
    if detailed:
        lines += [
            f"## Worst validations (lowest {len(worst)})",
            "",
            "| score | passed | content type | agent | thread | run | at (UTC) | first issue |",
            "|---:|---|---|---|---|---|---|---|",
        ]
        for r in worst:
            row = (
                f"{r.score:.3f}",
                "yes" if r.passed else "no",
                _cell(r.content_type),
                _cell(r.agent_name),
                f"`{_cell(r.thread_id)}`" if r.thread_id else _NONE,
                f"`{_cell(r.run_id)}`" if r.run_id else _NONE,
                _utc(r.created_at).strftime("%Y-%m-%d %H:%M"),
                _cell(r.issues[0]) if r.issues else _NONE,
            )
            lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(*row))
        lines.append("")
    return "\n".join(lines), raw
