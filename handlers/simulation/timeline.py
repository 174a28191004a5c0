"""Simulated time: a clock for the handlers, and the same time on exported spans and log lines.

The handlers take their clock as a parameter (store timestamps, ID epochs), but
the OpenTelemetry SDK and `logging` stamp spans and log lines with the wall
clock. So that a simulated hour of traffic *looks* like an hour in the exported
files, the `Timeline` records, for every simulated message, the wall-clock
instant its handling began (a *mark*) and the simulated instant it stands for.
A wall-clock time ``t`` inside message ``k`` maps to ``sim_k + (t - wall_k)``:
order and real durations inside a message are kept, and messages are spread
out in simulated time. Marks never let simulated time run slower than the wall
clock, so the mapping is strictly increasing and the auditor's ordering of
events by timestamp is the order in which they happened.

`SimulatedTimeExporter` applies the mapping to spans before they reach the file
exporter, `SimulatedTimeFilter` to log records before they are formatted.
Nothing here writes a log line or a span itself: the handlers still do.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from handlers.logs import EVENT_TIME

_NS = 1_000_000_000
#: A mark is at least this far (ns) past the mapped time of the previous message's start,
#: so that two messages never share a timestamp.
_MIN_STEP_NS = 1_000


class Timeline:
    """The simulated clock plus the wall-to-simulated mapping. ``timeline()`` is epoch seconds."""

    def __init__(self, start: float, wall_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = int(start * _NS)
        self._wall_ns = wall_ns
        self._walls: list[int] = []
        self._sims: list[int] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """The current simulated time (constant while one message is handled)."""
        return self._now_ns / _NS

    @property
    def now_ns(self) -> int:
        return self._now_ns

    def mark(self, advance_s: float) -> float:
        """Start the next message ``advance_s`` simulated seconds after the previous one.

        Returns the simulated time of the message, which only depends on the
        steps (so IDs and replies repeat run to run). The telemetry of a message
        that starts before the previous one's wall-clock time has elapsed in
        simulated time (a step shorter than a slow message) is pushed later so
        that exported timestamps stay strictly increasing.
        """
        wall = self._wall_ns()
        with self._lock:
            self._now_ns += int(advance_s * _NS)
            sim = self._now_ns
            if self._walls:
                sim = max(sim, self._sims[-1] + (wall - self._walls[-1]) + _MIN_STEP_NS)
            self._walls.append(wall)
            self._sims.append(sim)
        return self._now_ns / _NS

    def to_simulated_ns(self, wall_ns: int) -> int:
        """The simulated time (ns) of a wall-clock instant (ns) recorded during the simulation."""
        with self._lock:
            k = bisect.bisect_right(self._walls, wall_ns) - 1
            if k < 0:  # before the first message (set-up): pin to the start
                return self._sims[0] if self._sims else self._now_ns
            return self._sims[k] + (wall_ns - self._walls[k])

    def wall_now_simulated(self) -> float:
        """The simulated time of the present wall-clock instant, in epoch seconds."""
        return self.to_simulated_ns(self._wall_ns()) / _NS


def _shifted(span: ReadableSpan, timeline: Timeline) -> ReadableSpan:
    def shift(ns: int | None) -> int | None:
        return None if ns is None else timeline.to_simulated_ns(ns)

    events = [
        Event(e.name, e.attributes, timestamp=timeline.to_simulated_ns(e.timestamp))
        for e in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=shift(span.start_time),
        end_time=shift(span.end_time),
        instrumentation_scope=span.instrumentation_scope,
    )


class SimulatedTimeExporter(SpanExporter):
    """Moves spans onto the timeline and hands them to ``inner`` in chunks.

    Used behind a synchronous span processor: spans are buffered here (never
    dropped, unlike a full batch queue) and written ``chunk`` at a time, which
    keeps the file exporter's per-call cost off most messages.
    """

    def __init__(self, inner: SpanExporter, timeline: Timeline, *, chunk: int = 512) -> None:
        self.inner = inner
        self._timeline = timeline
        self._chunk = chunk
        self._buffer: list[ReadableSpan] = []
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self._buffer.extend(_shifted(span, self._timeline) for span in spans)
            if len(self._buffer) < self._chunk:
                return SpanExportResult.SUCCESS
            return self._drain()

    def _drain(self) -> SpanExportResult:
        pending, self._buffer = self._buffer, []
        if not pending:
            return SpanExportResult.SUCCESS
        return self.inner.export(pending)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            ok = self._drain() is SpanExportResult.SUCCESS
        return self.inner.force_flush(timeout_millis) and ok

    def shutdown(self) -> None:
        with self._lock:
            result = self._drain()
        self.inner.shutdown()
        if result is not SpanExportResult.SUCCESS:
            # Nothing else would report it: the processor ignores shutdown's outcome.
            raise RuntimeError("the last spans of the simulation could not be written")


class SimulatedTimeFilter(logging.Filter):
    """Re-stamps each log record with the simulated time of the instant it is written."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self._timeline = timeline

    def filter(self, record: logging.LogRecord) -> bool:
        created = self._timeline.wall_now_simulated()
        record.created = created
        record.msecs = (created - int(created)) * 1000
        event_ns = getattr(record, EVENT_TIME, None)
        if event_ns is not None:  # the event's own (wall) time: mapped as its span's start is
            setattr(record, EVENT_TIME, self._timeline.to_simulated_ns(event_ns))
        return True
