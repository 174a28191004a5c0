"""HTML tables of the dashboard: headline figures, comparison verdicts, sessions and examples.

Every value from a report goes through `html.escape`; numbers are formatted here only.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from auditor.location import location
from dashboards.charts import colour
from dashboards.model import AuditReport, ComparisonView, DashboardInput

EN_DASH = "\u2013"
_MISSING = '<span class="muted">—</span>'


def percent(rate: float | None, digits: int = 2) -> str:
    """A rate in [0, 1] as a percentage string ("12.34%"); an em dash for None."""
    return "—" if rate is None else f"{rate * 100:.{digits}f}%"


def rate_with_interval(report: AuditReport) -> str:
    """The break rate and its 95% interval, e.g. "12.34% (11.02 to 13.80%)" with an en dash."""
    if report.events == 0:
        return "—"
    if report.break_rate_ci is None:
        return percent(report.break_rate)
    low, high = report.break_rate_ci
    return f"{percent(report.break_rate)} ({percent(low)}{EN_DASH}{percent(high)})"


def cell(value: Any) -> str:
    """One escaped table cell body; None shows as a muted dash."""
    if value is None or value == "":
        return _MISSING
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return html.escape(str(value))


def _code(value: str | None) -> str:
    return _MISSING if value is None or value == "" else f"<code>{html.escape(value)}</code>"


def _swatch(index: int) -> str:
    return f'<span class="swatch" style="background:{colour(index)}"></span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], classes: dict[int, str]) -> str:
    """A table; `classes` gives a CSS class per column index ("num", "nowrap")."""

    def attr(index: int) -> str:
        return f' class="{classes[index]}"' if index in classes else ""

    head = "".join(f'<th{attr(i)} scope="col">{html.escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{attr(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def when(ts: str | None) -> str:
    """An RFC 3339 time as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; unparseable text as given."""
    if not ts:
        return ""
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + fraction


_NUM = "num"
_NOWRAP = "nowrap"


def headline_table(inputs: Sequence[DashboardInput]) -> str:
    """One row of headline figures per input."""
    headers = [
        "Input",
        "Events",
        "Breaks",
        "Break rate (95% interval)",
        "Affected sessions",
        "Stray threads",
        "Orphan threads",
        "Run breaks",
        "Split traces",
        "Rejected",
        "No user / no thread",
        "Lines read",
    ]
    rows = []
    for index, item in enumerate(inputs):
        r = item.report
        rows.append(
            [
                f'<span class="nowrap">{_swatch(index)}<strong>{html.escape(item.label)}</strong></span>',
                cell(r.events),
                cell(r.breaks),
                html.escape(rate_with_interval(r)),
                f"{r.affected_sessions:,} of {r.sessions:,}",
                f"{r.stray_threads:,} of {r.threads:,}",
                cell(r.orphan_threads),
                cell(r.run_breaks),
                cell(r.split_traces),
                cell(r.rejected),
                f"{r.unattributed:,} / {r.missing_thread:,}",
                cell(r.lines),
            ]
        )
    return _table(headers, rows, dict.fromkeys(range(1, len(headers)), _NUM))


def verdict(view: ComparisonView) -> str:
    """A one-line verdict on a comparison (plain text, not escaped)."""
    comparison = view.comparison
    before, after = comparison.before, comparison.after
    if comparison.p_value is None:
        return "No test: one side has no events."
    if not comparison.is_significant:
        return f"No significant difference (p = {comparison.p_value:.3g})."
    direction = "fell" if after.break_rate < before.break_rate else "rose"
    return (
        f"Break rate {direction} from {percent(before.break_rate)} to "
        f"{percent(after.break_rate)}: significant (p = {comparison.p_value:.3g})."
    )


def _split_text(view: ComparisonView) -> str:
    split = view.comparison.split or {}
    kind, value = split.get("kind"), split.get("value")
    if kind == "at":
        text = f"split at {value}"
    elif kind == "by":
        text = f"split by {value}"
    elif kind == "inputs":
        text = "two input sets"
    else:
        text = ""
    if view.comparison.unsplit:
        text += f"; {view.comparison.unsplit:,} records on neither side"
    return text


def comparison_table(views: Sequence[ComparisonView]) -> str:
    """One row per comparison: both sides, the change and the verdict."""
    headers = ["Comparison", "Before", "After", "Change in break rate", "p-value", "Verdict"]
    rows = []
    for view in views:
        c = view.comparison
        change = c.after.break_rate - c.before.break_rate
        significant = c.p_value is not None and c.is_significant
        rows.append(
            [
                f"<strong>{html.escape(view.label)}</strong>"
                f'<div class="muted">{html.escape(_split_text(view))}</div>',
                f"{html.escape(view.before_label)}<div class='nowrap'>{html.escape(rate_with_interval(c.before))}</div>",
                f"{html.escape(view.after_label)}<div class='nowrap'>{html.escape(rate_with_interval(c.after))}</div>",
                html.escape(f"{change * 100:+.2f} points"),
                _MISSING if c.p_value is None else html.escape(f"{c.p_value:.3g}"),
                f'<span class="verdict {"sig" if significant else "nosig"}">'
                f"{html.escape(verdict(view))}</span>",
            ]
        )
    return _table(headers, rows, {3: _NUM, 4: _NUM})


def _per_input(
    inputs: Sequence[DashboardInput],
    empty_text: str,
    render: Callable[[AuditReport], str | None],
    grid: bool = False,
    summary: Callable[[AuditReport], str] | None = None,
    open_first_only: bool = False,
) -> str:
    """One collapsible block per input; blocks with content start open (or only the first)."""
    parts = []
    opened_one = False
    for index, item in enumerate(inputs):
        body = render(item.report)
        opened = " open" if body and not (open_first_only and opened_one) else ""
        opened_one = opened_one or bool(opened)
        content = body or f'<p class="note">{html.escape(empty_text)}</p>'
        extra = (
            f' <span class="muted">{html.escape(summary(item.report))}</span>' if summary else ""
        )
        parts.append(
            f'<details class="per-input"{opened}><summary>{_swatch(index)}'
            f"{html.escape(item.label)}{extra}</summary>{content}</details>"
        )
    return f'<div class="{"per-input-grid" if grid else "per-input-list"}">{"".join(parts)}</div>'


def top_sessions_tables(inputs: Sequence[DashboardInput]) -> str:
    """The most affected sessions of each input."""

    def render(report: AuditReport) -> str | None:
        affected = [s for s in report.top_sessions if s.breaks > 0]
        if not affected:
            return None
        rows = [
            [_code(s.user_id), _code(s.session_id), cell(s.events), cell(s.breaks), cell(s.threads)]
            for s in affected
        ]
        headers = ["User", "Session", "Events", "Breaks", "Threads"]
        return _table(headers, rows, {0: _NOWRAP, 1: _NOWRAP, 2: _NUM, 3: _NUM, 4: _NUM})

    return _per_input(inputs, "No affected sessions.", render, grid=True)


def break_examples_tables(inputs: Sequence[DashboardInput]) -> str:
    """The first breaks of each input, with the source and line they were read from."""

    def render(report: AuditReport) -> str | None:
        if not report.break_examples:
            return None
        rows = [
            [
                _code(location(b.source, b.line, b.item)),
                cell(when(b.ts)),
                _code(b.user_id),
                _code(b.session_id),
                cell(b.event),
                _code(b.expected_thread),
                _code(b.actual_thread),
                _code(b.trace_id),
            ]
            for b in report.break_examples
        ]
        headers = [
            "Source:line",
            "Time",
            "User",
            "Session",
            "Event",
            "Expected thread",
            "Actual thread",
            "Trace",
        ]
        return _table(headers, rows, {1: _NOWRAP, 2: _NOWRAP, 3: _NOWRAP, 4: _NOWRAP})

    def summary(report: AuditReport) -> str:
        return f"({len(report.break_examples):,} of {report.breaks:,} breaks shown)"

    return _per_input(inputs, "No breaks.", render, summary=summary, open_first_only=True)


def rejected_tables(inputs: Sequence[DashboardInput]) -> str:
    """Rejected records of each input: counts by reason and the first examples."""

    def render(report: AuditReport) -> str | None:
        if report.rejected == 0 and not report.rejected_examples:
            return None
        reasons = ", ".join(
            f"{html.escape(reason)}: {count:,}"
            for reason, count in sorted(report.rejected_by_reason.items())
        )
        rows = [
            [_code(location(r.source, r.line, r.item)), cell(r.reason)]
            for r in report.rejected_examples
        ]
        table = _table(["Source:line", "Reason"], rows, {1: _NOWRAP}) if rows else ""
        return f'<p class="reasons">{report.rejected:,} rejected. {reasons}</p>{table}'

    return _per_input(inputs, "No rejected records.", render)
