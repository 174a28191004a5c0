"""Recording handled events: one SERVER span and one JSON log line per event.

Shared by the router (requests) and the manager (broadcasts) so that every
event carries the same attributes (DESIGN.md, "Telemetry contract").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from handlers import attributes as attr
from handlers.context import ExecutionContext
from handlers.logs import EVENT_TIME
from handlers.telemetry import Telemetry


def span_attributes(ctx: ExecutionContext, message_type: str) -> dict[str, Any]:
    """The contract's ID attributes of one event (None values are left out, as OTel requires)."""
    attributes: dict[str, Any] = {
        attr.USER_ID: ctx.user_id,
        attr.SESSION_ID: ctx.session_id,
        attr.MESSAGE_TYPE: message_type,
        attr.STRATEGY: ctx.strategy.value,
        attr.OUTCOME: ctx.outcome.value,
    }
    if ctx.thread_id is not None:
        attributes[attr.THREAD_ID] = ctx.thread_id
        attributes[attr.CONVERSATION_ID] = ctx.thread_id
    if ctx.run_id is not None:
        attributes[attr.RUN_ID] = ctx.run_id
    return attributes


class EventRecorder:
    """Opens the span of an event and writes its log line inside it."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._tracer = telemetry.tracer
        self._logger = telemetry.logger

    @contextmanager
    def event(
        self,
        name: str,
        ctx: ExecutionContext,
        message_type: str,
        request_id: str,
        *,
        root: bool = False,
        link_from: Span | None = None,
    ) -> Iterator[Span]:
        """A SERVER span named ``name``; ``root=True`` starts a new trace (server-initiated events)."""
        attributes = span_attributes(ctx, message_type)
        attributes[attr.REQUEST_ID] = request_id
        parent = otel_context.Context() if root else None
        links = None
        if link_from is not None and link_from.get_span_context().is_valid:
            links = [Link(link_from.get_span_context())]
        with self._tracer.start_as_current_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
            links=links,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span

    def log(
        self,
        name: str,
        ctx: ExecutionContext,
        message: str,
        request_id: str,
        *,
        level: int = logging.INFO,
        at_ns: int | None = None,
        **extra: Any,
    ) -> None:
        """One JSON log line for an event, correlated with the current span; ``at_ns`` (epoch
        ns) is the event's time when it is logged after waiting (a broadcast's send)."""
        if not self._logger.isEnabledFor(level):
            return
        if at_ns is not None:
            extra[EVENT_TIME] = at_ns
        self._logger.log(
            level,
            message,
            extra={
                "event": name,
                "user_id": ctx.user_id,
                "session_id": ctx.session_id,
                "thread_id": ctx.thread_id,
                "run_id": ctx.run_id,
                "request_id": request_id,
                "strategy": ctx.strategy.value,
                "outcome": ctx.outcome.value,
                **extra,
            },
        )

    def transition(
        self,
        name: str,
        ctx: ExecutionContext,
        kind: str,
        request_id: str,
        broadcast_of: Span | None = None,
    ) -> Span:
        """Record an implicit transition (a thread created or switched on the way) as its own
        event; ``broadcast_of`` is the request span of a broadcast that records it in another
        session (it is then a root linked to that request, as the broadcast is). Returns its
        (ended) span, for the message's own span to link to."""
        with self.event(
            name, ctx, kind, request_id, root=broadcast_of is not None, link_from=broadcast_of
        ) as span:
            self.log(name, ctx, f"{name} for {kind}", request_id, message_type=kind)
        return span

    @staticmethod
    def fail(span: Span, code: str, message: str) -> None:
        """Mark an event's span as failed with the reply's error code."""
        span.set_attribute(attr.ERROR_CODE, code)
        span.set_status(Status(StatusCode.ERROR, message))


def current_span() -> Span:
    """The span of the event being handled (a non-recording span outside one)."""
    return trace.get_current_span()
