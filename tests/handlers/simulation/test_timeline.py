"""Simulated time: the clock, the wall-to-simulated mapping, and its use on spans and logs."""

from __future__ import annotations

import logging

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from handlers.simulation.timeline import SimulatedTimeExporter, SimulatedTimeFilter, Timeline

S = 1_000_000_000


class WallClock:
    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __call__(self) -> int:
        return self.ns


class Collect(SpanExporter):
    def __init__(self) -> None:
        self.batches: list[list[ReadableSpan]] = []

    def export(self, spans):  # type: ignore[no-untyped-def]
        self.batches.append(list(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def test_clock_moves_only_by_the_steps() -> None:
    wall = WallClock(5 * S)
    timeline = Timeline(1000.0, wall)
    assert timeline.mark(3.0) == 1003.0
    wall.ns += 10 * S  # a slow message must not change the app's clock (IDs repeat)
    assert timeline.mark(2.0) == 1005.0
    assert timeline() == 1005.0


def test_wall_time_inside_a_message_maps_after_its_simulated_start() -> None:
    wall = WallClock(5 * S)
    timeline = Timeline(1000.0, wall)
    timeline.mark(3.0)
    assert timeline.to_simulated_ns(5 * S + 1234) == 1003 * S + 1234
    wall.ns = 6 * S
    timeline.mark(4.0)
    assert timeline.to_simulated_ns(6 * S + 10) == 1007 * S + 10


def test_mapping_stays_increasing_when_a_message_outlasts_the_step() -> None:
    wall = WallClock(0)
    timeline = Timeline(0.0, wall)
    timeline.mark(1.0)
    wall.ns = 5 * S  # the first message took 5 s of wall time; the next step is 1 s
    timeline.mark(1.0)
    inside_first = timeline.to_simulated_ns(5 * S - 1)
    inside_second = timeline.to_simulated_ns(5 * S)
    assert inside_first < inside_second


def test_before_the_first_message_maps_to_the_start() -> None:
    timeline = Timeline(1000.0, WallClock(7 * S))
    assert timeline.to_simulated_ns(1) == 1000 * S


def test_exporter_shifts_spans_and_buffers_until_a_chunk_or_a_flush() -> None:
    wall = WallClock(50 * S)
    timeline = Timeline(2000.0, wall)
    timeline.mark(1.0)
    inner = Collect()
    exporter = SimulatedTimeExporter(inner, timeline, chunk=2)
    span = ReadableSpan("x", start_time=50 * S + 5, end_time=50 * S + 9)
    exporter.export([span])
    assert inner.batches == []
    exporter.export([span])
    assert [len(b) for b in inner.batches] == [2]
    assert inner.batches[0][0].start_time == 2001 * S + 5
    assert inner.batches[0][0].end_time == 2001 * S + 9
    exporter.export([span])
    exporter.shutdown()
    assert [len(b) for b in inner.batches] == [2, 1]


def test_log_filter_stamps_records_with_simulated_time() -> None:
    wall = WallClock(50 * S)
    timeline = Timeline(2000.0, wall)
    timeline.mark(1.0)
    wall.ns += 250_000_000
    record = logging.makeLogRecord({"msg": "hi"})
    assert SimulatedTimeFilter(timeline).filter(record)
    assert record.created == 2001.25
    assert round(record.msecs) == 250
