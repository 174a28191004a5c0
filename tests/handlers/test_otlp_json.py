"""Tests for handlers/otlp_json.py: same OTLP/JSON as the reference file exporter."""

from __future__ import annotations

import io
import json

from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from handlers.otlp_json import JsonLinesSpanExporter


def _record_spans() -> list:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "t", "service.version": "1.2"})
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("scope.a", "0.1")
    with tracer.start_as_current_span(
        "quality.get_metrics",
        kind=SpanKind.SERVER,
        attributes={"user.id": "u", "n": 3, "ratio": 0.5, "ok": True, "tags": ["a", "b"]},
    ) as parent:
        parent.add_event("checkpoint", {"step": 1})
        with tracer.start_as_current_span(
            "child", links=[Link(parent.get_span_context(), {"why": "x"})]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    other = provider.get_tracer("scope.b")
    with other.start_as_current_span("plain"):
        pass
    return list(memory.get_finished_spans())


def _normalize(document: dict) -> dict:
    """Order-insensitive view: spans keyed by spanId, empty fields dropped."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v not in ({}, [], None, "", 0)}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    spans = {}
    for resource_spans in document["resourceSpans"]:
        resource = clean(resource_spans["resource"])
        resource["attributes"] = sorted(resource["attributes"], key=lambda a: a["key"])
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                spans[span["spanId"]] = (resource, clean(scope_spans["scope"]), clean(span))
    return spans


def test_encoding_matches_the_reference_exporter():
    spans = _record_spans()
    ours, theirs = io.BytesIO(), io.StringIO()
    JsonLinesSpanExporter(stream=ours).export(spans)
    FileSpanExporter(stream=theirs).export(spans)
    mine = json.loads(ours.getvalue())
    reference = json.loads(theirs.getvalue())
    assert _normalize(mine) == _normalize(reference)
    assert len(_normalize(mine)) == 3


def test_one_line_per_batch_and_nothing_for_an_empty_batch(tmp_path):
    exporter = JsonLinesSpanExporter(tmp_path / "traces" / "t.jsonl")
    spans = _record_spans()
    exporter.export(spans[:1])
    exporter.export([])
    exporter.export(spans[1:])
    exporter.shutdown()
    lines = (tmp_path / "traces" / "t.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert all("resourceSpans" in json.loads(line) for line in lines)
