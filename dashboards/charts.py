"""Chart specifications for the HTML dashboard, as plain Plotly figure dicts.

Figures are built as dicts (not `plotly.graph_objects`) so rendering stays fast and
deterministic; the page inlines plotly.js once and draws them in the browser. A chart with
nothing to draw has `figure=None` and a note saying why, so an empty report shows
"no data" instead of an empty frame. Every string taken from the data is HTML-escaped,
because plotly.js reads a subset of HTML tags in labels and decodes entities back to text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dashboards.model import DashboardInput

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies; yellow last (low contrast).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
#: Event types shown in the breaks-by-event chart; the rest are summed up in its note.
MAX_EVENT_TYPES = 15


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the page: a Plotly figure dict, or None with a note saying why not."""

    key: str
    title: str
    description: str
    figure: dict[str, Any] | None
    note: str = ""
    height: int = 360


def colour(index: int) -> str:
    """The colour of the input at `index`, the same in every chart."""
    return PALETTE[index % len(PALETTE)]


def _text(value: str | None, missing: str = "(none)") -> str:
    # plotly renders its labels as (a little) HTML: <, > and & are escaped, quotes are not
    # (plotly.js does not decode &quot;: a label would read `Team &quot;A&quot;`)
    return html.escape(missing if value is None else value, quote=False)


def _layout(x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": 13, "color": "#1f2937"},
        # the mode bar stands upright in the right margin: across the top it covered the
        # legend's last entries
        "margin": {"l": 70, "r": 44, "t": 20, "b": 60},
        "modebar": {"orientation": "v"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        # automargin: tilted long tick labels get room instead of being cut under the title
        "xaxis": {
            "title": {"text": x_title},
            "gridcolor": "#e5e7eb",
            "zeroline": False,
            "automargin": True,
        },
        "yaxis": {
            "title": {"text": y_title},
            "gridcolor": "#e5e7eb",
            "zeroline": False,
            "automargin": True,
        },
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _no_events_note(inputs: Sequence[DashboardInput]) -> str:
    empty = [item.label for item in inputs if item.report.events == 0]
    return f"No events in: {', '.join(empty)}." if empty else ""


def _with_events(inputs: Sequence[DashboardInput]) -> list[tuple[int, DashboardInput]]:
    return [(index, item) for index, item in enumerate(inputs) if item.report.events > 0]


def break_rate_chart(inputs: Sequence[DashboardInput]) -> Chart:
    """Break rate per input as bars with the Wilson 95% interval as error bars."""
    title = "Break rate by input, with 95% interval"
    description = "Share of events that landed outside the session's current thread."
    shown = _with_events(inputs)
    if not shown:
        return Chart("break-rate", title, description, None, "No data: no input has events.")
    labels = [_text(item.label) for _, item in shown]
    rates = [item.report.break_rate * 100 for _, item in shown]
    intervals = [item.report.break_rate_ci or (item.report.break_rate,) * 2 for _, item in shown]
    highs = [high * 100 for _, high in intervals]
    lows = [low * 100 for low, _ in intervals]
    trace = {
        "type": "bar",
        "x": labels,
        "y": rates,
        "marker": {"color": [colour(index) for index, _ in shown]},
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [max(high - rate, 0.0) for high, rate in zip(highs, rates, strict=True)],
            "arrayminus": [max(rate - low, 0.0) for low, rate in zip(lows, rates, strict=True)],
            "color": "#374151",
            "thickness": 1.5,
            "width": 8,
        },
        "customdata": [
            [low, high, item.report.breaks, item.report.events]
            for (_, item), low, high in zip(shown, lows, highs, strict=True)
        ],
        "hovertemplate": "%{x}<br>break rate %{y:.2f}% (95% interval %{customdata[0]:.2f}"
        "\u2013%{customdata[1]:.2f}%)<br>%{customdata[2]} breaks / %{customdata[3]} events"
        "<extra></extra>",
    }
    top = max([*highs, 1.0]) * 1.25
    annotations = [
        {
            "x": label,
            "y": high,
            "text": f"{rate:.1f}%",
            "showarrow": False,
            "yshift": 12,
            "font": {"size": 13},
        }
        for label, rate, high in zip(labels, rates, highs, strict=True)
    ]
    layout = _layout(
        "input",
        "break rate (%)",
        xaxis={"type": "category"},  # labels such as "1.0" must not become a number axis
        yaxis={"range": [0, top], "ticksuffix": "%"},
        annotations=annotations,
        showlegend=False,
    )
    figure = {"data": [trace], "layout": layout}
    return Chart("break-rate", title, description, figure, _no_events_note(inputs))


def breaks_by_event_chart(inputs: Sequence[DashboardInput]) -> Chart:
    """Breaks per event type, one bar per input, event types with breaks only."""
    title = "Breaks by event type"
    description = "Which operations left the conversation's thread."
    shown = _with_events(inputs)
    if not shown:
        return Chart("breaks-by-event", title, description, None, "No data: no input has events.")
    totals: dict[str | None, list[int]] = {}
    for _, item in shown:
        for row in item.report.by_event:
            total = totals.setdefault(row.event, [0, 0])
            total[0] += row.breaks
            total[1] += row.events
    broken = sorted(
        (event for event, (breaks, _) in totals.items() if breaks > 0),
        key=lambda event: (-totals[event][0], -totals[event][1], event or ""),
    )
    clean = sorted(event or "(none)" for event, (breaks, _) in totals.items() if breaks == 0)
    notes = [_no_events_note(inputs)]
    if clean:
        notes.append(f"No breaks in: {', '.join(clean)}.")
    if not broken:
        note = " ".join(["No breaks in any input.", *notes]).strip()
        return Chart("breaks-by-event", title, description, None, note)
    if len(broken) > MAX_EVENT_TYPES:
        rest = broken[MAX_EVENT_TYPES:]
        notes.append(
            f"{len(rest)} more event types with {sum(totals[e][0] for e in rest)} breaks not shown."
        )
        broken = broken[:MAX_EVENT_TYPES]
    data = []
    for index, item in shown:
        counts = {row.event: row for row in item.report.by_event}
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": _text(item.label),
                "y": [_text(event) for event in broken],
                "x": [counts[e].breaks if e in counts else 0 for e in broken],
                "customdata": [counts[e].events if e in counts else 0 for e in broken],
                "marker": {"color": colour(index)},
                "hovertemplate": "%{fullData.name}<br>%{y}: %{x} breaks of %{customdata} events"
                "<extra></extra>",
            }
        )
    height = max(300, 110 + len(broken) * (14 * len(shown) + 16))
    layout = _layout(
        "breaks",
        "",
        barmode="group",
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        showlegend=True,
    )
    figure = {"data": data, "layout": layout}
    return Chart(
        "breaks-by-event", title, description, figure, " ".join(n for n in notes if n), height
    )


def _plotly_time(minute: str) -> str:
    """An RFC 3339 minute as plotly's zone-less date string, in UTC."""
    try:
        moment = datetime.fromisoformat(minute)
    except ValueError:
        return minute
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def breaks_over_time_chart(inputs: Sequence[DashboardInput]) -> Chart:
    """Breaks per UTC minute, one line per input."""
    title = "Breaks per minute"
    description = "When the breaks happened (UTC); hover for the events of that minute."
    shown = [(i, item) for i, item in _with_events(inputs) if item.report.breaks_per_minute]
    if not shown:
        note = "No data: no input has events per minute."
        return Chart("breaks-over-time", title, description, None, note)
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _text(item.label),
            "x": [_plotly_time(row.minute) for row in item.report.breaks_per_minute],
            "y": [row.breaks for row in item.report.breaks_per_minute],
            "customdata": [row.events for row in item.report.breaks_per_minute],
            "line": {"color": colour(index), "width": 2},
            "marker": {"size": 6},
            "hovertemplate": "%{fullData.name}<br>%{x}: %{y} breaks of %{customdata} events"
            "<extra></extra>",
        }
        for index, item in shown
    ]
    layout = _layout(
        "time (UTC, per minute)", "breaks", yaxis={"rangemode": "tozero"}, showlegend=True
    )
    figure = {"data": data, "layout": layout}
    return Chart("breaks-over-time", title, description, figure, _no_events_note(inputs))


def threads_per_session_chart(inputs: Sequence[DashboardInput]) -> Chart:
    """Distribution of distinct threads per session, one bar per input."""
    title = "Threads per session"
    description = "How many distinct threads each session touched; continuity keeps this low."
    shown = [(i, item) for i, item in _with_events(inputs) if item.report.threads_per_session]
    if not shown:
        note = "No data: no input has sessions."
        return Chart("threads-per-session", title, description, None, note)
    data = [
        {
            "type": "bar",
            "name": _text(item.label),
            "x": [row.threads for row in item.report.threads_per_session],
            "y": [row.sessions for row in item.report.threads_per_session],
            "marker": {"color": colour(index)},
            "hovertemplate": "%{fullData.name}<br>%{y} sessions with %{x} threads<extra></extra>",
        }
        for index, item in shown
    ]
    most = max(row.threads for _, item in shown for row in item.report.threads_per_session)
    xaxis: dict[str, Any] = {"dtick": 1} if most <= 20 else {}
    layout = _layout("distinct threads in the session", "sessions", barmode="group", xaxis=xaxis)
    figure = {"data": data, "layout": layout}
    return Chart("threads-per-session", title, description, figure, _no_events_note(inputs))


def all_charts(inputs: Sequence[DashboardInput]) -> list[Chart]:
    """The dashboard's charts, in page order."""
    return [
        break_rate_chart(inputs),
        breaks_by_event_chart(inputs),
        breaks_over_time_chart(inputs),
        threads_per_session_chart(inputs),
    ]
