"""Tests for handlers/protocol.py: envelope and payload parsing at the edge, reply shapes."""

from __future__ import annotations

import orjson
import pytest

from handlers.errors import MalformedMessage
from handlers.protocol import (
    MAX_CONTENT_CHARS,
    MAX_ID_CHARS,
    MAX_MESSAGE_BYTES,
    Envelope,
    MessageType,
    error_reply,
    parse_envelope,
    parse_payload,
    reply,
)
from handlers.scoring import ContentType


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "get_quality_metrics", "thread_id": "t1", "run_id": "r1", "payload": {"a": 1}}',
        b'{"type": "get_quality_metrics", "thread_id": "t1", "run_id": "r1", "payload": {"a": 1}}',
        {"type": "get_quality_metrics", "thread_id": "t1", "run_id": "r1", "payload": {"a": 1}},
    ],
    ids=["str", "bytes", "mapping"],
)
def test_envelope_accepts_str_bytes_and_mapping(raw):
    assert parse_envelope(raw) == Envelope("get_quality_metrics", "t1", "r1", {"a": 1})


@pytest.mark.parametrize(
    "message",
    [{"type": "x"}, {"type": "x", "payload": None}, {"type": "x", "payload": {}}],
    ids=["absent", "null", "empty"],
)
def test_absent_null_or_empty_payload_is_an_empty_mapping(message):
    assert parse_envelope(message).payload == {}


@pytest.mark.parametrize("value", [None, ""], ids=["null", "empty"])
def test_null_or_empty_ids_mean_absent(value):
    envelope = parse_envelope({"type": "x", "thread_id": value, "run_id": value})
    assert (envelope.thread_id, envelope.run_id) == (None, None)


def test_unknown_type_passes_the_envelope_check():
    """The router, not the parser, decides which types exist."""
    assert parse_envelope({"type": "no_such_type"}).type == "no_such_type"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        ("", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('"a string"', "invalid_message"),
        ("42", "invalid_message"),
        ("null", "invalid_message"),
        ("{}", "missing_type"),
        ('{"type": ""}', "missing_type"),
        ('{"type": null}', "missing_type"),
        ('{"type": 7}', "invalid_message"),
        ('{"type": ["user_message"]}', "invalid_message"),
        ('{"type": "user_message", "payload": [1]}', "invalid_payload"),
        ('{"type": "user_message", "payload": "text"}', "invalid_payload"),
        ('{"type": "user_message", "thread_id": 5}', "invalid_message"),
        ('{"type": "user_message", "run_id": {"id": "r"}}', "invalid_message"),
    ],
)
def test_malformed_envelopes_raise_with_a_precise_code(raw, code):
    with pytest.raises(MalformedMessage) as info:
        parse_envelope(raw)
    assert info.value.code == code


def test_overlong_ids_are_refused():
    with pytest.raises(MalformedMessage, match="thread_id must be a string of at most 200"):
        parse_envelope({"type": "x", "thread_id": "t" * (MAX_ID_CHARS + 1)})
    assert parse_envelope({"type": "x", "run_id": "r" * MAX_ID_CHARS}).run_id == "r" * MAX_ID_CHARS


def test_message_size_limit_is_checked_before_parsing():
    raw = b'{"type": "x", "pad": "' + b"a" * MAX_MESSAGE_BYTES + b'"}'
    with pytest.raises(MalformedMessage) as info:
        parse_envelope(raw)
    assert info.value.code == "message_too_large"
    assert f"the limit is {MAX_MESSAGE_BYTES}" in info.value.message


def test_message_size_limit_counts_utf8_bytes_of_a_str():
    """A str is measured in bytes of UTF-8, as the limit says, not in characters."""
    chars = MAX_MESSAGE_BYTES // 3 + 10  # under the limit in characters, over it in bytes
    raw = '{"type": "x", "pad": "' + "\u20ac" * chars + '"}'
    assert len(raw) < MAX_MESSAGE_BYTES < len(raw.encode())
    with pytest.raises(MalformedMessage) as info:
        parse_envelope(raw)
    assert info.value.code == "message_too_large"
    assert info.value.message.startswith(f"message is {len(raw.encode())} bytes")


def test_message_exactly_at_the_limit_is_accepted():
    head, tail = b'{"type": "x", "pad": "', b'"}'
    raw = head + b"a" * (MAX_MESSAGE_BYTES - len(head) - len(tail)) + tail
    assert len(raw) == MAX_MESSAGE_BYTES
    assert parse_envelope(raw).type == "x"


@pytest.mark.parametrize(
    ("kind", "payload", "code", "field"),
    [
        (
            MessageType.GET_QUALITY_METRICS,
            {"period_hours": "24"},
            "invalid_payload",
            "period_hours",
        ),
        (
            MessageType.GET_QUALITY_METRICS,
            {"period_hours": True},
            "invalid_payload",
            "period_hours",
        ),
        (MessageType.GET_QUALITY_METRICS, {"period_hours": 0}, "invalid_payload", "period_hours"),
        (MessageType.VALIDATE_CONTENT, {"content": 123}, "invalid_payload", "content"),
        (MessageType.VALIDATE_CONTENT, {}, "invalid_payload", "content"),
        (
            MessageType.VALIDATE_CONTENT,
            {"content": "x", "strict_mode": "yes"},
            "invalid_payload",
            "strict_mode",
        ),
        (
            MessageType.VALIDATE_CONTENT,
            {"content": "x", "content_type": "poem"},
            "invalid_payload",
            "content_type",
        ),
        (
            MessageType.VALIDATE_CONTENT,
            {"content": "a" * (MAX_CONTENT_CHARS + 1)},
            "content_too_large",
            "content",
        ),
        (
            MessageType.USER_MESSAGE,
            {"text": "a" * (MAX_CONTENT_CHARS + 1)},
            "content_too_large",
            "text",
        ),
        # only chat text and content are `content_too_large`; other limits are bad values
        (MessageType.CREATE_THREAD, {"title": "t" * 501}, "invalid_payload", "title"),
        (
            MessageType.GET_QUALITY_METRICS,
            {"agent_name": "a" * 201},
            "invalid_payload",
            "agent_name",
        ),
        (
            MessageType.VALIDATE_CONTENT,
            {"content": "x", "agent_name": "a" * 201},
            "invalid_payload",
            "agent_name",
        ),
        (MessageType.USER_MESSAGE, {"text": ""}, "invalid_payload", "text"),
        (MessageType.USER_MESSAGE, {}, "invalid_payload", "text"),
        (MessageType.SUBSCRIBE_QUALITY_ALERTS, {"threshold": 2.0}, "invalid_payload", "threshold"),
        (
            MessageType.SUBSCRIBE_QUALITY_ALERTS,
            {"threshold": "0.5"},
            "invalid_payload",
            "threshold",
        ),
        (MessageType.SUBSCRIBE_QUALITY_ALERTS, {"action": "pause"}, "invalid_payload", "action"),
        (MessageType.GENERATE_QUALITY_REPORT, {"period": "month"}, "invalid_payload", "period"),
        (
            MessageType.GENERATE_QUALITY_REPORT,
            {"report_type": "full"},
            "invalid_payload",
            "report_type",
        ),
    ],
)
def test_bad_payloads_name_the_field_and_code(kind, payload, code, field):
    with pytest.raises(MalformedMessage) as info:
        parse_payload(kind, payload)
    assert info.value.code == code
    assert info.value.message.startswith(f"payload.{field}: ")


def test_payload_defaults_follow_the_contract():
    assert parse_payload(MessageType.GET_QUALITY_METRICS, {}).period_hours == 24
    report = parse_payload(MessageType.GENERATE_QUALITY_REPORT, {})
    assert (report.report_type, report.period) == ("summary", "day")
    subscribe = parse_payload(MessageType.SUBSCRIBE_QUALITY_ALERTS, {})
    assert (subscribe.action, subscribe.threshold) == ("subscribe", None)
    validate = parse_payload(MessageType.VALIDATE_CONTENT, {"content": "x"})
    assert (validate.content_type, validate.strict_mode) == (ContentType.GENERAL, False)


def test_content_type_arrives_as_its_string_value():
    parsed = parse_payload(MessageType.VALIDATE_CONTENT, {"content": "x", "content_type": "triage"})
    assert parsed.content_type is ContentType.TRIAGE


def test_unknown_payload_fields_are_ignored():
    parsed = parse_payload(MessageType.GET_QUALITY_METRICS, {"period_hours": 2, "extra": [1]})
    assert parsed.period_hours == 2


def test_integer_is_accepted_where_a_number_is_expected():
    assert parse_payload(MessageType.SUBSCRIBE_QUALITY_ALERTS, {"threshold": 1}).threshold == 1.0


def test_reply_and_error_reply_carry_the_context_at_top_level():
    ok = reply("quality_metrics", "t1", "r1", "q1", {"n": 1})
    assert ok == {
        "type": "quality_metrics",
        "thread_id": "t1",
        "run_id": "r1",
        "request_id": "q1",
        "payload": {"n": 1},
    }
    err = error_reply("thread_not_found", "nope", "t1", None, "q2")
    assert err == {
        "type": "error",
        "code": "thread_not_found",
        "message": "nope",
        "thread_id": "t1",
        "run_id": None,
        "request_id": "q2",
    }
    orjson.dumps(ok)
    orjson.dumps(err)
