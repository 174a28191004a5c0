"""Tracing and logging set-up: OTLP/JSON lines files by default, any OTLP endpoint by `OTEL_*`.

Defaults: spans to ``QUALITY_HOME/traces/traces.jsonl`` in the Collector file
exporter's format (one `TracesData` per line), logs to
``QUALITY_HOME/logs/quality.jsonl``. When ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the
traces-specific variable) is set, spans go to that endpoint instead, with the
protocol from ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``grpc`` or ``http/protobuf``,
the default) and the timeout from ``OTEL_EXPORTER_OTLP_TIMEOUT`` (milliseconds, as the
specification says). ``OTEL_TRACES_EXPORTER=none|console|otlp`` is honoured (``console``
writes to stderr: stdout is the CLI's output), and
``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` through the SDK's resource.

Each app gets its own `TracerProvider` (not the global one), so tests and the
simulator can run several side by side.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
    SpanProcessor,
)

from handlers.logs import SafeFileHandler, json_logger

SERVICE_NAME = "quality"


class GuardedExporter(SpanExporter):
    """Wraps an exporter: a failure or exception is counted and reported once, never raised."""

    def __init__(self, inner: SpanExporter, where: str) -> None:
        self.inner = inner
        self.where = where
        self.failures = 0

    def _failed(self, detail: str) -> SpanExportResult:
        self.failures += 1
        if self.failures == 1:
            sys.stderr.write(f"quality: span export to {self.where} failed: {detail}\n")
        return SpanExportResult.FAILURE

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # an exporter bug must not reach the request path
            return self._failed(f"{type(exc).__name__}: {exc}")
        if result is not SpanExportResult.SUCCESS:
            return self._failed("the exporter reported a failure")
        return result

    def shutdown(self) -> None:
        try:
            self.inner.shutdown()
        except Exception as exc:
            self._failed(f"shutdown: {exc}")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        try:
            return self.inner.force_flush(timeout_millis)
        except Exception:
            return False


#: Seconds an OTLP export may take, retries included, unless ``OTEL_EXPORTER_OTLP_TIMEOUT``
#: says otherwise (the SDK's 10 s made every CLI command wait that long at exit when the
#: collector was down).
_OTLP_TIMEOUT_S = 3.0
_PROTOCOLS = ("http/protobuf", "grpc")


def _warn(message: str) -> None:
    sys.stderr.write(f"quality: {message}\n")


def _trace_setting(setting: str) -> tuple[str, str] | None:
    """``OTEL_EXPORTER_OTLP_TRACES_<setting>``, else ``OTEL_EXPORTER_OTLP_<setting>``, as the
    specification orders them: the variable's name and its value, or None when neither is
    set."""
    for name in (f"OTEL_EXPORTER_OTLP_TRACES_{setting}", f"OTEL_EXPORTER_OTLP_{setting}"):
        if raw := os.environ.get(name, "").strip():
            return name, raw
    return None


def otlp_timeout_s() -> float:
    """The export timeout in seconds, from ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` or
    ``OTEL_EXPORTER_OTLP_TIMEOUT`` in **milliseconds**, as the OpenTelemetry specification
    defines them (the Python SDK reads them as seconds: 3000 waited 3,000 s, cut at the
    flush's 30 s; open-telemetry/opentelemetry-python#4044). A value that is not a positive
    number of milliseconds is reported in one line and the default used."""
    if (found := _trace_setting("TIMEOUT")) is None:
        return _OTLP_TIMEOUT_S
    name, raw = found
    try:
        millis = float(raw)
    except ValueError:
        millis = float("nan")
    if not 0 < millis < float("inf"):
        _warn(f"{name}={raw!r} is not milliseconds; using {_OTLP_TIMEOUT_S:g} s")
        return _OTLP_TIMEOUT_S
    return millis / 1000


def _protocol() -> str:
    """``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL``: one this build exports with, else (said in
    one line, as the specification asks of unknown values) ``http/protobuf``."""
    if (found := _trace_setting("PROTOCOL")) is None:
        return "http/protobuf"
    name, raw = found
    if raw in _PROTOCOLS:
        return raw
    _warn(f"{name}={raw!r} is not supported (use grpc or http/protobuf); using http/protobuf")
    return "http/protobuf"


#: `OTEL_TRACES_EXPORTER` values honoured ("" and "otlp" alike: OTLP when an endpoint is
#: set, else the trace file).
_EXPORTERS = frozenset({"", "none", "console", "otlp"})


def _env_exporter(trace_path: Path) -> tuple[SpanExporter | None, str]:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if choice not in _EXPORTERS:
        _warn(
            f"OTEL_TRACES_EXPORTER={choice!r} is not supported (use none, console or otlp);"
            " using the default"
        )
        choice = ""
    if choice == "none":
        return None, "nowhere"
    if choice == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        # stderr: stdout carries the CLI's output (--json must stay one JSON document)
        return ConsoleSpanExporter(out=sys.stderr), "stderr"
    if endpoint or choice == "otlp":
        if _protocol() == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
                OTLPSpanExporter,
            )
        # the SDK logs every retry; GuardedExporter reports a failure once, in one line
        logging.getLogger("opentelemetry.exporter.otlp").setLevel(logging.CRITICAL)
        return OTLPSpanExporter(timeout=otlp_timeout_s()), endpoint or "the default OTLP endpoint"
    from handlers.otlp_json import JsonLinesSpanExporter

    return JsonLinesSpanExporter(trace_path), str(trace_path)


@dataclass
class Telemetry:
    """A tracer and a JSON logger for one app; `shutdown()` flushes both."""

    tracer: trace.Tracer
    logger: logging.Logger
    provider: TracerProvider | None = None
    exporter: GuardedExporter | None = None
    log_handler: SafeFileHandler | None = None
    trace_target: str = "nowhere"
    log_target: str = "nowhere"
    _closed: bool = field(default=False, repr=False)

    @property
    def export_failures(self) -> int:
        """Failed span exports plus failed log writes so far."""
        spans = self.exporter.failures if self.exporter else 0
        logs = self.log_handler.failures if self.log_handler else 0
        return spans + logs

    def flush(self) -> None:
        if self.provider is not None:
            self.provider.force_flush()
        if self.log_handler is not None:
            self.log_handler.flush()

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.provider is not None:
            self.provider.shutdown()
        if self.log_handler is not None:
            self.logger.removeHandler(self.log_handler)
            self.log_handler.close()


def setup_telemetry(
    *,
    trace_path: Path | None,
    log_path: Path | None,
    service_version: str | None = None,
    tracing: bool = True,
    exporter: SpanExporter | None = None,
    batch: bool = True,
    logger_name: str = "quality",
) -> Telemetry:
    """Telemetry for one app.

    ``exporter`` overrides the environment's choice (tests pass an in-memory
    exporter). ``tracing=False`` gives a no-op tracer (logs still written).
    ``service_version`` tags spans (``service.version``) and log lines (``version``).
    """
    static = {"version": service_version} if service_version else None
    logger, handler = json_logger(logger_name, log_path, static=static)
    log_target = str(log_path) if log_path else "nowhere"
    if not tracing:
        return Telemetry(trace.NoOpTracer(), logger, log_handler=handler, log_target=log_target)
    attributes = {"service.version": service_version} if service_version else {}
    # OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES, else "quality"
    resource = Resource.create(attributes)
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    target = "memory"
    if exporter is None and trace_path is not None:
        exporter, target = _env_exporter(trace_path)
    guarded = GuardedExporter(exporter, target) if exporter is not None else None
    if guarded is not None:
        # A large queue: a burst must not drop spans (the SDK default is 2,048).
        processor: SpanProcessor = (
            BatchSpanProcessor(guarded, max_queue_size=65_536, max_export_batch_size=2_048)
            if batch
            else SimpleSpanProcessor(guarded)
        )
        provider.add_span_processor(processor)
    return Telemetry(
        provider.get_tracer("quality.handlers"),
        logger,
        provider=provider,
        exporter=guarded,
        log_handler=handler,
        trace_target=target,
        log_target=log_target,
    )
