"""Telemetry names: span attributes, event names and log keys of the contract (DESIGN.md)."""

from __future__ import annotations

from typing import Final

# Span attributes.
USER_ID: Final = "user.id"
SESSION_ID: Final = "session.id"
THREAD_ID: Final = "thread.id"
CONVERSATION_ID: Final = "gen_ai.conversation.id"  # same value as thread.id (GenAI semconv)
RUN_ID: Final = "run.id"
MESSAGE_TYPE: Final = "quality.message.type"
STRATEGY: Final = "continuity.strategy"
OUTCOME: Final = "continuity.outcome"
REQUEST_ID: Final = "quality.request.id"
ERROR_CODE: Final = "quality.error.code"

# Event names: span name == log `event`.
CHAT_USER_MESSAGE: Final = "chat.user_message"
THREAD_CREATE: Final = "thread.create"
THREAD_SWITCH: Final = "thread.switch"
SUBSCRIBE_ALERTS: Final = "quality.subscribe_alerts"
UNSUBSCRIBE_ALERTS: Final = "quality.unsubscribe_alerts"
GET_METRICS: Final = "quality.get_metrics"
GENERATE_REPORT: Final = "quality.generate_report"
VALIDATE_CONTENT: Final = "quality.validate_content"
UNKNOWN_MESSAGE: Final = "quality.unknown_message"
BROADCAST_UPDATE: Final = "quality.broadcast_update"
BROADCAST_ALERT: Final = "quality.broadcast_alert"
