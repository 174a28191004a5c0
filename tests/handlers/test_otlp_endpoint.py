"""Spans reach an OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT is set (a real receiver on loopback)."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from handlers.app import QualityApp
from handlers.config import Settings


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_spans_are_sent_to_the_configured_otlp_http_endpoint(tmp_path, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
        app = QualityApp.open(Settings(home=tmp_path, user="alice"))
        caller = app.sessions.open_session("alice")
        reply = asyncio.run(app.handle(caller, {"type": "get_quality_metrics", "payload": {}}))
        app.close()
    finally:
        server.shutdown()
    assert app.telemetry.trace_target.startswith("http://127.0.0.1:")
    assert not (tmp_path / "traces" / "traces.jsonl").exists()
    paths = {path for path, _ in _Receiver.received}
    assert paths == {"/v1/traces"}
    names, threads = [], set()
    for _, body in _Receiver.received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    names.append(span.name)
                    attrs = {a.key: a.value.string_value for a in span.attributes}
                    threads.add(attrs.get("thread.id"))
    assert names == ["thread.create", "quality.get_metrics"]
    assert threads == {reply["thread_id"]}
