"""Audit reports as the dashboard reads them: `quality audit --json` objects, validated at the edge.

A document is either one report or one comparison (`{"before", "after", "delta", "p_value"}`,
optionally with `"sides"`). `dashboard_inputs` flattens documents into labelled inputs (one per
report, one per side of a comparison) and the comparisons to judge. Reports from an auditor
that writes only DESIGN.md's keys still load: the dashboard's extra keys have empty defaults.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from auditor.ordering import natural_key
from dashboards.errors import DashboardError

#: p-value under which a comparison is called significant, when the object does not say.
SIGNIFICANCE_LEVEL = 0.05

#: A count of records, events, sessions...: never negative.
Count = Annotated[int, Field(ge=0)]
#: A rate or a probability: between 0 and 1.
Rate = Annotated[float, Field(ge=0, le=1)]


@dataclass(frozen=True, slots=True)
class EventCount:
    """Events and breaks of one event name (`by_event`)."""

    event: str | None
    events: Count
    breaks: Count


@dataclass(frozen=True, slots=True)
class MinuteCount:
    """Events and breaks in one UTC minute (`breaks_per_minute`)."""

    minute: str
    events: Count
    breaks: Count


@dataclass(frozen=True, slots=True)
class ThreadsBucket:
    """How many sessions touched exactly `threads` distinct threads (`threads_per_session`)."""

    threads: Count
    sessions: Count


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One of the most affected sessions (`top_sessions`)."""

    user_id: str | None
    session_id: str | None
    events: Count
    breaks: Count
    threads: Count


@dataclass(frozen=True, slots=True)
class BreakExample:
    """One break with where it was read (`break_examples`)."""

    source: str
    line: int
    item: int = 0  # index of the record on its line (the spans of one OTLP batch share one)
    ts: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    event: str | None = None
    expected_thread: str | None = None
    actual_thread: str | None = None
    trace_id: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedExample:
    """One rejected record (`rejected_examples`)."""

    source: str
    line: int
    reason: str
    item: int = 0


@dataclass(frozen=True, slots=True)
class TimeRange:
    """First and last accepted event time, RFC 3339 (null for an empty report)."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class AuditReport:
    """One `quality audit --json` report (DESIGN.md's keys, then the dashboard's extra keys)."""

    lines: Count
    rejected: Count
    unattributed: Count
    missing_thread: Count
    events: Count
    sessions: Count
    threads: Count
    breaks: Count
    break_rate: Rate
    affected_sessions: Count
    stray_threads: Count
    orphan_threads: Count
    run_breaks: Count
    split_traces: Count
    by_event: tuple[EventCount, ...]
    rejected_by_reason: dict[str, Count]
    label: str = ""
    inputs: tuple[str, ...] = ()
    break_rate_ci: tuple[Rate, Rate] | None = None
    run_break_rate: Rate | None = None
    time_range: TimeRange = field(default_factory=TimeRange)
    breaks_per_minute: tuple[MinuteCount, ...] = ()
    threads_per_session: tuple[ThreadsBucket, ...] = ()
    top_sessions: tuple[SessionSummary, ...] = ()
    break_examples: tuple[BreakExample, ...] = ()
    rejected_examples: tuple[RejectedExample, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    """A before/after comparison object (`--split-at`, `--split-by`, `quality compare`)."""

    before: AuditReport
    after: AuditReport
    delta: dict[str, Any]
    p_value: Rate | None
    significant: bool | None = None
    split: dict[str, Any] | None = None
    sides: dict[str, AuditReport] | None = None
    unsplit: int | None = None

    @property
    def is_significant(self) -> bool:
        """The object's own verdict, else p < 0.05 (False without a p-value)."""
        if self.significant is not None:
            return self.significant
        nested = self.delta.get("significant")
        if isinstance(nested, bool):
            return nested
        return self.p_value is not None and self.p_value < SIGNIFICANCE_LEVEL


@dataclass(frozen=True, slots=True)
class DashboardInput:
    """One column of the dashboard: a report and the unique label it is shown under."""

    label: str
    report: AuditReport


@dataclass(frozen=True, slots=True)
class ComparisonView:
    """A comparison with the labels its two sides are shown under."""

    label: str
    before_label: str
    after_label: str
    comparison: Comparison


_REPORT = TypeAdapter(AuditReport)
_COMPARISON = TypeAdapter(Comparison)


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"field {where}: {first['msg']}{more}"


def parse_document(document: Any, origin: str) -> AuditReport | Comparison:
    """Validate one JSON document as a report or a comparison; `origin` names it in errors."""
    if not isinstance(document, Mapping):
        raise DashboardError(
            f"{origin}: not an audit report (expected a JSON object from `quality audit --json`)"
        )
    is_comparison = "before" in document and "after" in document
    adapter: TypeAdapter[Any] = _COMPARISON if is_comparison else _REPORT
    kind = "comparison" if is_comparison else "audit report"
    try:
        result: AuditReport | Comparison = adapter.validate_python(document)
        return result
    except ValidationError as exc:
        raise DashboardError(
            f"{origin}: not a valid {kind}: {_one_line(exc)}; write it with `quality audit --json`"
        ) from None


def load_document(path: Path) -> AuditReport | Comparison:
    """Read and validate one `quality audit --json` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DashboardError(f"{path}: no such audit report file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise DashboardError(f"{path}: cannot read the audit report: {reason}") from None
    try:
        document = json.loads(text, parse_constant=_not_json)
        return parse_document(document, str(path))
    except json.JSONDecodeError as exc:
        raise DashboardError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "write it with `quality audit --json`"
        ) from None
    except ValueError as exc:  # NaN or Infinity: Python writes them, JSON has no such value
        raise DashboardError(
            f"{path}: not JSON: {exc}; write it with `quality audit --json`"
        ) from None
    except RecursionError:
        raise DashboardError(f"{path}: not an audit report: nested too deeply") from None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


class _Labels:
    """Hands out unique labels: a repeated one gets " (2)", " (3)"... (never a label already
    handed out, even one that came with its own " (2)")."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def unique(self, wanted: str) -> str:
        label, count = wanted, 1
        while label in self._taken:
            count += 1
            label = f"{wanted} ({count})"
        self._taken.add(label)
        return label


def _side_name(report: AuditReport, fallback: str) -> str:
    return report.label or fallback


def _side_label(report: AuditReport, value: str, fallback: str) -> str:
    """A `--split-by` side: the auditor labels it "<label> <value>" already."""
    label = report.label or fallback
    return label if label.endswith(f" {value}") or label == value else f"{label} {value}"


def dashboard_inputs(
    documents: Sequence[AuditReport | Comparison], names: Iterable[str] | None = None
) -> tuple[list[DashboardInput], list[ComparisonView]]:
    """Flatten documents into labelled inputs and comparisons, in the order given.

    `names` are fallback labels (e.g. file stems) for reports without a `label`.
    A comparison's sides are shown as "<label> before" / "<label> after", or as
    "<label> <value>" for each side of a `--split-by` with more than two values.
    """
    fallbacks = list(names) if names is not None else []
    labels = _Labels()
    inputs: list[DashboardInput] = []
    views: list[ComparisonView] = []
    for index, document in enumerate(documents):
        fallback = fallbacks[index] if index < len(fallbacks) else f"input {index + 1}"
        if isinstance(document, AuditReport):
            inputs.append(DashboardInput(labels.unique(document.label or fallback), document))
            continue
        base = _side_name(document.before, fallback)
        after_base = _side_name(document.after, fallback)
        if document.sides:
            # in the auditor's order: versions by their numbers (1.9.0 before 1.10.0)
            values = sorted(document.sides, key=natural_key)
            side_labels = {
                value: labels.unique(_side_label(document.sides[value], value, fallback))
                for value in values
            }
            inputs.extend(
                DashboardInput(side_labels[value], document.sides[value]) for value in values
            )
            before_label, after_label = side_labels[values[0]], side_labels[values[-1]]
        else:
            before_label = labels.unique(f"{base} before")
            after_label = labels.unique(f"{after_base} after")
            inputs.append(DashboardInput(before_label, document.before))
            inputs.append(DashboardInput(after_label, document.after))
        title = base if base == after_base else f"{base} vs {after_base}"
        views.append(ComparisonView(title, before_label, after_label, document))
    return inputs, views
