"""The message protocol at the edge: parsing inbound JSON, payload models, reply shapes.

Outside JSON is checked here (pydantic) and nowhere else; handlers receive typed
payloads. Replies are plain dicts ready for `json.dumps`: ``type``, the resolved
``thread_id`` and ``run_id``, the ``request_id``, and either a ``payload``
(success) or ``code`` + ``message`` (errors).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.errors import MalformedMessage
from handlers.scoring import ContentType

#: Largest inbound message accepted, in bytes of JSON.
MAX_MESSAGE_BYTES = 256 * 1024
#: Largest text accepted for `validate_content` and `user_message`, in characters.
MAX_CONTENT_CHARS = 50_000
MAX_ID_CHARS = 200


class MessageType(StrEnum):
    USER_MESSAGE = "user_message"
    CREATE_THREAD = "create_thread"
    SWITCH_THREAD = "switch_thread"
    SUBSCRIBE_QUALITY_ALERTS = "subscribe_quality_alerts"
    GET_QUALITY_METRICS = "get_quality_metrics"
    GENERATE_QUALITY_REPORT = "generate_quality_report"
    VALIDATE_CONTENT = "validate_content"


QUALITY_TYPES = frozenset(
    {
        MessageType.SUBSCRIBE_QUALITY_ALERTS,
        MessageType.GET_QUALITY_METRICS,
        MessageType.GENERATE_QUALITY_REPORT,
        MessageType.VALIDATE_CONTENT,
    }
)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class UserMessagePayload(_Payload):
    text: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)


class CreateThreadPayload(_Payload):
    title: str | None = Field(default=None, max_length=500)


class EmptyPayload(_Payload):
    pass


class SubscribePayload(_Payload):
    action: Literal["subscribe", "unsubscribe"] = "subscribe"
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)


class MetricsPayload(_Payload):
    agent_name: str | None = Field(default=None, max_length=200)
    period_hours: float = Field(default=24, gt=0, le=24 * 366)


class ReportPayload(_Payload):
    report_type: Literal["summary", "detailed"] = "summary"
    period: Literal["day", "week"] = "day"


class ValidatePayload(_Payload):
    content: str = Field(max_length=MAX_CONTENT_CHARS)
    # Lax only here: a content type arrives as its string value.
    content_type: ContentType = Field(default=ContentType.GENERAL, strict=False)
    strict_mode: bool = False
    agent_name: str = Field(default="assistant", min_length=1, max_length=200)


PAYLOAD_MODELS: dict[MessageType, type[_Payload]] = {
    MessageType.USER_MESSAGE: UserMessagePayload,
    MessageType.CREATE_THREAD: CreateThreadPayload,
    MessageType.SWITCH_THREAD: EmptyPayload,
    MessageType.SUBSCRIBE_QUALITY_ALERTS: SubscribePayload,
    MessageType.GET_QUALITY_METRICS: MetricsPayload,
    MessageType.GENERATE_QUALITY_REPORT: ReportPayload,
    MessageType.VALIDATE_CONTENT: ValidatePayload,
}


@dataclass(frozen=True, slots=True)
class Envelope:
    """An inbound message whose envelope is valid; ``type`` may still be unknown."""

    type: str
    thread_id: str | None
    run_id: str | None
    payload: Mapping[str, Any]


def _optional_id(message: Mapping[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS:
        raise MalformedMessage(
            f"{key} must be a string of at most {MAX_ID_CHARS} characters", code="invalid_message"
        )
    return value


def _size_in_bytes(raw: str | bytes) -> int:
    # UTF-8 takes at most 4 bytes per character: encode only a str that could exceed the limit.
    if isinstance(raw, str) and len(raw) * 4 > MAX_MESSAGE_BYTES:
        return len(raw.encode("utf-8", "surrogatepass"))
    return len(raw)


def parse_envelope(raw: str | bytes | Mapping[str, Any]) -> Envelope:
    """Check the envelope of an inbound message. Raises `MalformedMessage` with a precise code."""
    if isinstance(raw, Mapping):
        message: Any = raw
    else:
        size = _size_in_bytes(raw)
        if size > MAX_MESSAGE_BYTES:
            raise MalformedMessage(
                f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}",
                code="message_too_large",
            )
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise MalformedMessage(
                f"message is not valid JSON: {exc}", code="invalid_json"
            ) from None
    if not isinstance(message, Mapping):
        raise MalformedMessage("message must be a JSON object", code="invalid_message")
    kind = message.get("type")
    if kind is None or kind == "":
        raise MalformedMessage("message has no 'type'", code="missing_type")
    if not isinstance(kind, str):
        raise MalformedMessage("'type' must be a string", code="invalid_message")
    try:
        payload = message.get("payload", {})
        if payload is None:
            payload = {}
        if not isinstance(payload, Mapping):
            raise MalformedMessage("'payload' must be a JSON object", code="invalid_payload")
        return Envelope(
            kind, _optional_id(message, "thread_id"), _optional_id(message, "run_id"), payload
        )
    except MalformedMessage as exc:
        exc.message_type = kind  # known by now: a chat message's error resolves as chat
        if isinstance(payload, Mapping):
            exc.payload = payload
        raise


def parse_payload(kind: MessageType, payload: Mapping[str, Any]) -> Any:
    """The typed payload of a known message type. Raises `MalformedMessage` (`invalid_payload`)."""
    try:
        return PAYLOAD_MODELS[kind].model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        too_long = first.get("type") == "string_too_long"
        content = too_long and tuple(first.get("loc", ()))[:1] in (("text",), ("content",))
        code = "content_too_large" if content else "invalid_payload"  # a long title: a bad value
        raise MalformedMessage(f"payload.{where}: {first.get('msg')}", code=code) from None


def reply(
    kind: str,
    thread_id: str | None,
    run_id: str | None,
    request_id: str,
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    """A success reply (or a server-initiated message) in the resolved context."""
    return {
        "type": kind,
        "thread_id": thread_id,
        "run_id": run_id,
        "request_id": request_id,
        "payload": dict(payload),
    }


def error_reply(
    code: str, message: str, thread_id: str | None, run_id: str | None, request_id: str
) -> dict[str, Any]:
    """An `error` reply in the session of the request that failed."""
    return {
        "type": "error",
        "code": code,
        "message": message,
        "thread_id": thread_id,
        "run_id": run_id,
        "request_id": request_id,
    }


@dataclass(frozen=True, slots=True)
class Handled:
    """What a handler returns: the reply type and payload; the router adds the context."""

    reply_type: str
    payload: dict[str, Any]
    #: Work to run once the reply is out (e.g. broadcasts), still inside the request's span.
    after: Callable[[], Awaitable[Any]] | None = None
