"""JSON-lines logs with the contract's keys, correlated with the active span.

One object per line, flat snake_case keys: ``timestamp`` (RFC 3339 UTC,
microseconds), ``level``, ``logger``, ``event``, ``message``, ``user_id``,
``session_id``, ``thread_id``, ``run_id``, ``request_id``, ``trace_id``,
``span_id`` (lowercase hex, from the span current when the line is written),
then extras. A failed write is counted and reported once on stderr; it never
reaches the caller (telemetry never breaks business code).
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from opentelemetry import trace

CONTEXT_KEYS = ("user_id", "session_id", "thread_id", "run_id", "request_id")
#: An `extra` key giving the event's own time (epoch nanoseconds) when it is logged later.
EVENT_TIME = "event_time_ns"
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", EVENT_TIME}


_second_cache: list[object] = [None, ""]


def _rfc3339(epoch_s: float) -> str:
    """``2026-11-24T08:13:00.123456Z``; the date-time part is formatted once per second."""
    second = int(epoch_s)
    if _second_cache[0] != second:
        _second_cache[0] = second
        _second_cache[1] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    micros = round((epoch_s - second) * 1_000_000)
    if micros >= 1_000_000:  # rounding up into the next second
        return _rfc3339(second + 1)
    return f"{_second_cache[1]}.{micros:06d}Z"


def _created(record: logging.LogRecord) -> float:
    """When the event happened: its own time when it was logged after waiting (a
    broadcast's send), else when the record was made."""
    event_ns = getattr(record, EVENT_TIME, None)
    return record.created if event_ns is None else event_ns / 1e9


class JsonLinesFormatter(logging.Formatter):
    """Formats a record as one JSON object with the contract's keys first."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        extras = record.__dict__
        line: dict[str, Any] = {
            "timestamp": _rfc3339(_created(record)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": extras.get("event", record.name),
            "message": record.getMessage(),
        }
        for key in CONTEXT_KEYS:
            line[key] = extras.get(key)
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            line["trace_id"] = format(span_context.trace_id, "032x")
            line["span_id"] = format(span_context.span_id, "016x")
        else:
            line["trace_id"] = line["span_id"] = None
        for key, value in extras.items():
            if key not in _RESERVED and key not in line:
                line[key] = value
        line.update(self._static)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class SafeFileHandler(logging.FileHandler):
    """A file handler that counts failed writes and reports the first one on stderr.

    Lines are flushed to the file at most every ``flush_interval_s`` (and on
    `flush()`/`close()`), not after every line: a flush is a system call that
    would cost more than formatting the line.
    """

    def __init__(self, path: Path, flush_interval_s: float = 0.2) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, encoding="utf-8", delay=True)
        self.failures = 0
        self._flush_interval_s = flush_interval_s
        self._last_flush = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        # The delayed stream is opened inside the try: an unwritable path must be
        # counted by `handleError`, never raised into the request.
        try:
            if self.stream is None:
                self.stream = self._open()
            self.stream.write(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
        now = time.monotonic()
        if now - self._last_flush >= self._flush_interval_s:
            self._last_flush = now
            self.flush()

    def handleError(self, record: logging.LogRecord) -> None:
        self.failures += 1
        if self.failures == 1:
            exc = sys.exc_info()[1]
            sys.stderr.write(f"quality: cannot write log line to {self.baseFilename}: {exc}\n")


def json_logger(
    name: str, path: Path | None, *, static: dict[str, Any] | None = None
) -> tuple[logging.Logger, SafeFileHandler | None]:
    """A non-propagating logger writing JSON lines to ``path`` (no handler when None).

    The logger is private to the caller, not the process-wide one named ``name``:
    two apps in one process (the simulator, tests) must not write into each
    other's files.
    """
    logger = logging.Logger(name, logging.INFO)
    logger.propagate = False
    handler = None
    if path is not None:
        handler = SafeFileHandler(path)
        handler.setFormatter(JsonLinesFormatter(static))
        logger.addHandler(handler)
    return logger, handler
