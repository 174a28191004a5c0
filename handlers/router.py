"""The message router: parse, resolve the context, record the event, dispatch, reply.

Every reply, error replies included, carries the resolved ``thread_id`` and
``run_id`` and goes to the session of the request. A handler failure becomes an
`error` reply and the router keeps serving. The continuity strategy applies to
the quality operations and to the error paths of unknown messages; chat and
thread messages always resolve as in `resume`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from opentelemetry.trace import Span

from handlers import attributes as attr
from handlers.alerts import AlertHandler
from handlers.chat import ChatHandler
from handlers.config import Strategy
from handlers.context import Caller, ExecutionContext, Outcome, Resolution
from handlers.errors import HandlerError, MalformedMessage, UnknownMessageType
from handlers.ids import IdGenerator, new_id
from handlers.manager import Send
from handlers.metrics import MetricsHandler
from handlers.protocol import (
    QUALITY_TYPES,
    Envelope,
    Handled,
    MessageType,
    error_reply,
    parse_envelope,
    parse_payload,
    reply,
)
from handlers.recording import EventRecorder
from handlers.reports import ReportHandler
from handlers.sessions import SessionManager
from handlers.validation import ValidationHandler

_EVENTS: dict[MessageType, str] = {
    MessageType.USER_MESSAGE: attr.CHAT_USER_MESSAGE,
    MessageType.CREATE_THREAD: attr.THREAD_CREATE,
    MessageType.SWITCH_THREAD: attr.THREAD_SWITCH,
    MessageType.SUBSCRIBE_QUALITY_ALERTS: attr.SUBSCRIBE_ALERTS,
    MessageType.GET_QUALITY_METRICS: attr.GET_METRICS,
    MessageType.GENERATE_QUALITY_REPORT: attr.GENERATE_REPORT,
    MessageType.VALIDATE_CONTENT: attr.VALIDATE_CONTENT,
}
_KNOWN = {t.value: t for t in MessageType}
_INTERNAL_ERROR = "internal error: the request was not completed; it has been logged"


def event_name(kind: MessageType, payload: Mapping[str, Any]) -> str:
    """The span/log event of a message (unsubscribing is its own event)."""
    if kind is MessageType.SUBSCRIBE_QUALITY_ALERTS and payload.get("action") == "unsubscribe":
        return attr.UNSUBSCRIBE_ALERTS
    return _EVENTS[kind]


class Router:
    """Routes one inbound message of one caller. Holds no per-request state."""

    def __init__(
        self,
        sessions: SessionManager,
        recorder: EventRecorder,
        strategy: Strategy,
        *,
        chat: ChatHandler,
        alerts: AlertHandler,
        metrics: MetricsHandler,
        reports: ReportHandler,
        validation: ValidationHandler,
        ids: IdGenerator = new_id,
    ) -> None:
        self._sessions = sessions
        self._recorder = recorder
        self.strategy = strategy
        self._chat = chat
        self._alerts = alerts
        self._metrics = metrics
        self._reports = reports
        self._validation = validation
        self._ids = ids
        self._log = logging.getLogger(__name__)

    async def handle(
        self, caller: Caller, raw: str | bytes | Mapping[str, Any], send: Send | None = None
    ) -> dict[str, Any]:
        """Handle one message; returns the reply (also sent through ``send`` when given).

        Work that follows the reply (broadcasts to subscribers) runs after ``send``.
        """
        request_id = self._ids("req")
        # `strategy` is how this message resolves; every event is tagged with self.strategy.
        event, message_type, strategy = attr.UNKNOWN_MESSAGE, "unknown", self.strategy
        try:
            envelope = parse_envelope(raw)
            message_type = envelope.type
            kind = _KNOWN.get(envelope.type)
            if kind is None:
                raise UnknownMessageType(
                    f"unknown message type {envelope.type!r}; expected one of {', '.join(_KNOWN)}"
                )
            if kind not in QUALITY_TYPES:
                strategy = Strategy.RESUME
            event = event_name(kind, envelope.payload)
            payload = parse_payload(kind, envelope.payload)
            resolution = self._resolve(kind, caller, envelope, payload, self.strategy)
        except HandlerError as exc:
            early = getattr(exc, "message_type", None)  # a bad envelope of a known type
            if early is not None and (known := _KNOWN.get(early)) is not None:
                message_type, event = early, event_name(known, getattr(exc, "payload", {}))
                if known not in QUALITY_TYPES:  # chat and thread messages resolve as resume
                    strategy = Strategy.RESUME
            return await self._refuse(caller, strategy, event, message_type, request_id, exc, send)
        except Exception as exc:  # the store failed (a locked database): answer all the same
            self._log.exception("resolving %s failed", event)
            failed = HandlerError(_INTERNAL_ERROR, code="internal_error")
            failed.__cause__ = exc
            return await self._refuse(
                caller, strategy, event, message_type, request_id, failed, send
            )

        moved: Span | None = None  # the transition on the way, which the message's span links
        for name, transition_ctx in resolution.transitions:
            moved = self._recorder.transition(name, transition_ctx, message_type, request_id)
        ctx = resolution.context
        handled: Handled | None = None
        with self._recorder.event(event, ctx, message_type, request_id, link_from=moved) as span:
            try:
                handled = await self._dispatch(kind, ctx, payload)
            except HandlerError as exc:
                out = self._failed(span, event, ctx, message_type, request_id, exc)
            except Exception as exc:
                span.record_exception(exc)
                self._recorder.fail(span, "internal_error", f"{type(exc).__name__}: {exc}")
                self._recorder.log(
                    event,
                    ctx,
                    f"{event} failed: {type(exc).__name__}: {exc}",
                    request_id,
                    level=logging.ERROR,
                    message_type=message_type,
                    error_code="internal_error",
                )
                out = error_reply(
                    "internal_error", _INTERNAL_ERROR, ctx.thread_id, ctx.run_id, request_id
                )
            else:
                self._recorder.log(
                    event,
                    ctx,
                    f"{event} -> {handled.reply_type}",
                    request_id,
                    message_type=message_type,
                )
                out = reply(
                    handled.reply_type, ctx.thread_id, ctx.run_id, request_id, handled.payload
                )
            try:
                if send is not None:
                    await send(out)
            finally:  # the requester's socket closing must not cancel what others are owed
                if handled is not None and handled.after is not None:
                    try:
                        await handled.after()
                    except Exception as exc:  # follow-up work never changes the reply sent
                        span.record_exception(exc)
                        self._log.exception("follow-up of %s failed", event)
        return out

    def _resolve(
        self,
        kind: MessageType,
        caller: Caller,
        envelope: Envelope,
        payload: Any,
        strategy: Strategy,
    ) -> Resolution:
        if kind is MessageType.USER_MESSAGE:
            return self._sessions.start_run(caller, envelope.thread_id, strategy)
        if kind is MessageType.CREATE_THREAD:
            return Resolution(self._sessions.create_thread(caller, payload.title, strategy))
        if kind is MessageType.SWITCH_THREAD:
            if envelope.thread_id is None:
                raise MalformedMessage(
                    "switch_thread needs a top-level 'thread_id'", code="missing_thread_id"
                )
            return Resolution(self._sessions.switch_thread(caller, envelope.thread_id, strategy))
        return self._sessions.resolve_quality(caller, strategy, envelope.thread_id, envelope.run_id)

    async def _dispatch(self, kind: MessageType, ctx: ExecutionContext, payload: Any) -> Handled:
        if kind is MessageType.USER_MESSAGE:
            return await self._chat.user_message(ctx, payload)
        if kind is MessageType.CREATE_THREAD:
            return await self._chat.thread_created(ctx, payload)
        if kind is MessageType.SWITCH_THREAD:
            return await self._chat.thread_switched(ctx)
        if kind is MessageType.SUBSCRIBE_QUALITY_ALERTS:
            return await self._alerts.handle(ctx, payload)
        if kind is MessageType.GET_QUALITY_METRICS:
            return await self._metrics.handle(ctx, payload)
        if kind is MessageType.GENERATE_QUALITY_REPORT:
            return await self._reports.handle(ctx, payload)
        return await self._validation.handle(ctx, payload)

    async def _refuse(
        self,
        caller: Caller,
        strategy: Strategy,
        event: str,
        message_type: str,
        request_id: str,
        exc: HandlerError,
        send: Send | None,
    ) -> dict[str, Any]:
        """An error before a context was resolved: answer in the session's current context.

        ``strategy`` is how to resolve it (`resume` for chat messages); events are
        tagged with the configured strategy either way.
        """
        switched: Span | None = None
        try:
            resolution = self._sessions.settle(caller, strategy)
            for name, moved in resolution.transitions:
                switched = self._recorder.transition(
                    name, replace(moved, strategy=self.strategy), message_type, request_id
                )
            ctx = replace(resolution.context, strategy=self.strategy)
        except Exception:  # a refused session, or a store that failed: no context to name
            ctx = ExecutionContext(
                caller.user_id, caller.session_id, None, None, Outcome.RESUMED, self.strategy
            )
        with self._recorder.event(event, ctx, message_type, request_id, link_from=switched) as span:
            out = self._failed(span, event, ctx, message_type, request_id, exc)
            if send is not None:
                await send(out)
        return out

    def _failed(
        self,
        span: Span,
        event: str,
        ctx: ExecutionContext,
        message_type: str,
        request_id: str,
        exc: HandlerError,
    ) -> dict[str, Any]:
        """Record a refused request on its span and log line; the `error` reply in ``ctx``."""
        self._recorder.fail(span, exc.code, exc.message)
        self._recorder.log(
            event,
            ctx,
            exc.message,
            request_id,
            level=logging.WARNING,
            message_type=message_type,
            error_code=exc.code,
        )
        return error_reply(exc.code, exc.message, ctx.thread_id, ctx.run_id, request_id)
