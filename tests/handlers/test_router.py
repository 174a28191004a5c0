"""Tests for handlers/router.py: replies, error replies in the request's session, spans."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.trace import SpanKind, StatusCode

from handlers import attributes as attr
from handlers.alerts import AlertHandler
from handlers.chat import ChatHandler
from handlers.config import Strategy
from handlers.context import Caller
from handlers.metrics import MetricsHandler
from handlers.protocol import MAX_CONTENT_CHARS, MAX_MESSAGE_BYTES, MessageType
from handlers.recording import EventRecorder
from handlers.reports import ReportHandler
from handlers.router import Router
from handlers.testing import deterministic_ids, memory_app
from handlers.validation import ValidationHandler

CONTRACT_ATTRIBUTES = {
    attr.USER_ID,
    attr.SESSION_ID,
    attr.THREAD_ID,
    attr.CONVERSATION_ID,
    attr.RUN_ID,
    attr.MESSAGE_TYPE,
    attr.STRATEGY,
    attr.OUTCOME,
}
#: The contract's attributes plus the request ID that ties a span to its reply.
SPAN_ATTRIBUTES = CONTRACT_ATTRIBUTES | {attr.REQUEST_ID}

METRICS = {"type": "get_quality_metrics"}
CHAT = {"type": "user_message", "payload": {"text": "p99 latency doubled since Monday"}}


def _open(tmp_path, clock, strategy=Strategy.RESUME):
    return memory_app(tmp_path, clock=clock, strategy=strategy)


@pytest.fixture
def app_and_spans(tmp_path, clock):
    app, exporter = _open(tmp_path, clock)
    yield app, exporter
    app.close()


async def _chatting(app, user="alice"):
    """A caller who has sent one chat message: (caller, thread_id, run_id)."""
    caller = app.sessions.open_session(user)
    out = await app.handle(caller, CHAT)
    assert out["type"] == "agent_reply"
    return caller, out["thread_id"], out["run_id"]


def _request_span(exporter, request_id):
    """The (non-transition) span of one request: the last one carrying its request ID."""
    spans = [
        s for s in exporter.get_finished_spans() if s.attributes[attr.REQUEST_ID] == request_id
    ]
    assert spans, f"no span for {request_id}"
    return spans[-1]


_BIG_TEXT = "a" * (MAX_CONTENT_CHARS + 1)
#: Malformed-message cases: (id, message, code, event, message type). FOREIGN, OWN and
#: OTHER_RUN are replaced by bob's thread, alice's thread and a run of alice's other thread.
CASES = [
    ("invalid_json", "{not json", "invalid_json", attr.UNKNOWN_MESSAGE, "unknown"),
    ("not_an_object", "[1, 2, 3]", "invalid_message", attr.UNKNOWN_MESSAGE, "unknown"),
    ("missing_type", {"payload": {}}, "missing_type", attr.UNKNOWN_MESSAGE, "unknown"),
    (
        "unknown_type",
        {"type": "delete_everything"},
        "unknown_message_type",
        attr.UNKNOWN_MESSAGE,
        "delete_everything",
    ),
    (
        "period_hours_str",
        {"type": "get_quality_metrics", "payload": {"period_hours": "24"}},
        "invalid_payload",
        attr.GET_METRICS,
        "get_quality_metrics",
    ),
    (
        "strict_mode_str",
        {"type": "validate_content", "payload": {"content": "x", "strict_mode": "yes"}},
        "invalid_payload",
        attr.VALIDATE_CONTENT,
        "validate_content",
    ),
    (
        "content_int",
        {"type": "validate_content", "payload": {"content": 123}},
        "invalid_payload",
        attr.VALIDATE_CONTENT,
        "validate_content",
    ),
    (
        "threshold_above_one",
        {"type": "subscribe_quality_alerts", "payload": {"threshold": 2.0}},
        "invalid_payload",
        attr.SUBSCRIBE_ALERTS,
        "subscribe_quality_alerts",
    ),
    (
        "content_too_large",
        {"type": "validate_content", "payload": {"content": _BIG_TEXT}},
        "content_too_large",
        attr.VALIDATE_CONTENT,
        "validate_content",
    ),
    (
        "chat_too_large",
        {"type": "user_message", "payload": {"text": _BIG_TEXT}},
        "content_too_large",
        attr.CHAT_USER_MESSAGE,
        "user_message",
    ),
    (
        "message_too_large",
        orjson.dumps({"type": "user_message", "pad": "a" * MAX_MESSAGE_BYTES}),
        "message_too_large",
        attr.UNKNOWN_MESSAGE,
        "unknown",
    ),
    (
        "unsubscribe_with_a_bad_envelope",
        {"type": "subscribe_quality_alerts", "thread_id": 42, "payload": {"action": "unsubscribe"}},
        "invalid_message",
        attr.UNSUBSCRIBE_ALERTS,
        "subscribe_quality_alerts",
    ),
    (
        "switch_without_thread",
        {"type": "switch_thread"},
        "missing_thread_id",
        attr.THREAD_SWITCH,
        "switch_thread",
    ),
    (
        "foreign_thread",
        {"type": "validate_content", "thread_id": "FOREIGN", "payload": {"content": "x"}},
        "thread_not_found",
        attr.VALIDATE_CONTENT,
        "validate_content",
    ),
    (
        "unknown_thread",
        {"type": "get_quality_metrics", "thread_id": "thread_0_0_00000000"},
        "thread_not_found",
        attr.GET_METRICS,
        "get_quality_metrics",
    ),
    (
        "run_of_another_thread",
        {"type": "get_quality_metrics", "thread_id": "OWN", "run_id": "OTHER_RUN"},
        "run_not_found",
        attr.GET_METRICS,
        "get_quality_metrics",
    ),
]


@pytest.mark.parametrize(
    ("message", "code", "event", "message_type"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_malformed_message_gets_an_error_in_the_requests_context(
    app_and_spans, message, code, event, message_type
):
    """The error names the exact code, lands in the session's current thread/run, and the
    router keeps serving in that same thread."""
    app, exporter = app_and_spans
    _, bobs_thread, _ = await _chatting(app, "bob")
    alice, thread, run = await _chatting(app)
    # A second thread of alice's, with its own run, for the run_not_found case.
    other = await app.handle(alice, {"type": "create_thread", "payload": {"title": "other"}})
    other_run = (await app.handle(alice, CHAT))["run_id"]
    await app.handle(alice, {"type": "switch_thread", "thread_id": thread})
    assert other["thread_id"] != thread
    if isinstance(message, dict):
        substitutes = {"FOREIGN": bobs_thread, "OWN": thread, "OTHER_RUN": other_run}
        message = {
            k: substitutes.get(v, v) if isinstance(v, str) else v for k, v in message.items()
        }
    exporter.clear()

    out = await app.handle(alice, message)

    assert out["type"] == "error"
    assert out["code"] == code
    assert out["message"]
    assert (out["thread_id"], out["run_id"]) == (thread, run)
    assert out["request_id"].startswith("req_")
    span = _request_span(exporter, out["request_id"])
    assert span.name == event
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[attr.ERROR_CODE] == code
    assert span.attributes[attr.MESSAGE_TYPE] == message_type
    assert span.attributes[attr.SESSION_ID] == alice.session_id
    assert span.attributes[attr.USER_ID] == "alice"
    assert span.attributes[attr.THREAD_ID] == thread
    assert set(span.attributes) == SPAN_ATTRIBUTES | {attr.ERROR_CODE}
    # Nothing was created on the way, and the router keeps serving in the same thread.
    assert len(exporter.get_finished_spans()) == 1
    after = await app.handle(alice, METRICS)
    assert after["type"] == "quality_metrics"
    assert (after["thread_id"], after["run_id"]) == (thread, run)
    assert [t.thread_id for t in app.sessions.threads("bob")] == [bobs_thread]


async def test_error_before_any_thread_exists_creates_nothing(app_and_spans):
    app, exporter = app_and_spans
    caller = app.sessions.open_session("alice")
    out = await app.handle(caller, "{oops")
    assert (out["type"], out["code"], out["thread_id"], out["run_id"]) == (
        "error",
        "invalid_json",
        None,
        None,
    )
    assert app.sessions.threads("alice") == []
    span = exporter.get_finished_spans()[-1]
    assert attr.THREAD_ID not in span.attributes
    assert span.attributes[attr.SESSION_ID] == caller.session_id
    ok = await app.handle(caller, METRICS)
    assert ok["type"] == "quality_metrics" and ok["thread_id"] is not None


# -- strategies on the error path -----------------------------------------------------------


async def test_under_mint_an_unknown_message_error_opens_a_new_context(tmp_path, clock):
    """The reproduced defect: the error reply is not in the conversation the user is in."""
    app, exporter = _open(tmp_path, clock, Strategy.MINT)
    try:
        caller, thread, run = await _chatting(app)
        first = await app.handle(caller, {"type": "nope"})
        second = await app.handle(caller, {"type": "nope"})
        assert first["code"] == second["code"] == "unknown_message_type"
        assert len({thread, first["thread_id"], second["thread_id"]}) == 3
        assert run not in (first["run_id"], second["run_id"])
        assert app.store.get_thread(first["thread_id"]) is None
        span = _request_span(exporter, first["request_id"])
        assert span.attributes[attr.OUTCOME] == "minted"
        assert span.attributes[attr.STRATEGY] == "mint"
    finally:
        app.close()


async def test_under_resume_an_unknown_message_error_stays_in_the_thread(app_and_spans):
    app, exporter = app_and_spans
    caller, thread, run = await _chatting(app)
    for _ in range(2):
        out = await app.handle(caller, {"type": "nope"})
        assert (out["thread_id"], out["run_id"]) == (thread, run)
    span = _request_span(exporter, out["request_id"])
    assert span.attributes[attr.OUTCOME] == "resumed"


async def test_under_default_session_an_error_goes_to_the_shadow_thread(tmp_path, clock):
    app, _ = _open(tmp_path, clock, Strategy.DEFAULT_SESSION)
    try:
        caller, thread, _ = await _chatting(app)
        metrics = await app.handle(caller, METRICS)
        error = await app.handle(caller, {"type": "nope"})
        assert metrics["thread_id"] != thread
        assert error["thread_id"] == metrics["thread_id"]
    finally:
        app.close()


@pytest.mark.parametrize("strategy", [Strategy.MINT, Strategy.DEFAULT_SESSION])
async def test_chat_and_thread_messages_resolve_as_resume_under_any_strategy(
    tmp_path, clock, strategy
):
    app, exporter = _open(tmp_path, clock, strategy)
    try:
        caller, thread, _ = await _chatting(app)
        again = await app.handle(caller, CHAT)
        assert again["thread_id"] == thread
        created = await app.handle(caller, {"type": "create_thread"})
        switched = await app.handle(caller, {"type": "switch_thread", "thread_id": thread})
        assert switched["thread_id"] == thread != created["thread_id"]
        for span in exporter.get_finished_spans():
            if span.name in (attr.CHAT_USER_MESSAGE, attr.THREAD_CREATE, attr.THREAD_SWITCH):
                # Tagged with the configured strategy, resolved as resume.
                assert span.attributes[attr.STRATEGY] == strategy.value
                assert span.attributes[attr.OUTCOME] in {"resumed", "created", "switched"}
    finally:
        app.close()


@pytest.mark.parametrize("strategy", [Strategy.MINT, Strategy.DEFAULT_SESSION])
@pytest.mark.parametrize(
    "bad",
    [
        {"type": "user_message", "thread_id": 42, "payload": {"text": "hi"}},
        {"type": "switch_thread", "payload": [1]},
    ],
)
async def test_a_chat_message_with_a_bad_envelope_is_refused_in_the_chat_thread(
    tmp_path, clock, strategy, bad
):
    """Its type is read before the bad field: the error resolves as chat messages do."""
    app, exporter = _open(tmp_path, clock, strategy)
    try:
        caller, thread, _ = await _chatting(app)
        exporter.clear()
        out = await app.handle(caller, bad)
        assert out["type"] == "error" and out["thread_id"] == thread
        (span,) = exporter.get_finished_spans()
        assert span.name == {"user_message": attr.CHAT_USER_MESSAGE}.get(
            bad["type"], attr.THREAD_SWITCH
        )
        assert span.attributes[attr.MESSAGE_TYPE] == bad["type"]
    finally:
        app.close()


# -- unexpected handler failures ------------------------------------------------------------


class FailsOnceMetrics:
    """A metrics handler that raises on its first call, then delegates to the real one."""

    def __init__(self, real: MetricsHandler) -> None:
        self.real = real
        self.calls = 0

    async def handle(self, ctx, payload):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database on fire")
        return await self.real.handle(ctx, payload)


def _router_with(app, clock, metrics):
    return Router(
        app.sessions,
        EventRecorder(app.telemetry),
        Strategy.RESUME,
        chat=ChatHandler(app.sessions),
        alerts=AlertHandler(app.manager),
        metrics=metrics,
        reports=ReportHandler(app.store, clock),
        validation=ValidationHandler(app.store, app.manager, clock),
        ids=deterministic_ids(start_ms=1),
    )


async def test_unexpected_handler_exception_gives_internal_error_and_serving_goes_on(
    app_and_spans, clock
):
    app, exporter = app_and_spans
    flaky = FailsOnceMetrics(MetricsHandler(app.store, clock))
    router = _router_with(app, clock, flaky)
    caller, thread, run = await _chatting(app)
    exporter.clear()

    failed = await router.handle(caller, METRICS)

    assert failed["type"] == "error"
    assert failed["code"] == "internal_error"
    assert "database on fire" not in failed["message"]  # internals stay in the logs
    assert (failed["thread_id"], failed["run_id"]) == (thread, run)
    span = _request_span(exporter, failed["request_id"])
    assert span.name == attr.GET_METRICS
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[attr.ERROR_CODE] == "internal_error"
    assert [e.name for e in span.events] == ["exception"]
    assert "database on fire" in span.events[0].attributes["exception.message"]
    app.telemetry.flush()
    lines = [orjson.loads(x) for x in app.settings.log_path.read_text().splitlines()]
    logged = next(x for x in lines if x["request_id"] == failed["request_id"])
    assert (logged["level"], logged["error_code"]) == ("error", "internal_error")
    assert "database on fire" in logged["message"]

    ok = await router.handle(caller, METRICS)
    chat = await router.handle(caller, CHAT)
    assert ok["type"] == "quality_metrics"
    assert (ok["thread_id"], ok["run_id"]) == (thread, run)
    assert chat["type"] == "agent_reply" and chat["thread_id"] == thread
    assert flaky.calls == 2


async def test_a_store_failing_while_resolving_gives_internal_error_in_the_session(
    app_and_spans, monkeypatch
):
    """A locked SQLite database (another process holds a write lock past the busy timeout)
    while the context is resolved: an `error` reply, its span and log line, and serving goes
    on; the connection is not dropped."""
    app, exporter = app_and_spans
    caller, thread, run = await _chatting(app)
    real = app.sessions.resolve_quality

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(app.sessions, "resolve_quality", locked)
    failed = await app.handle(caller, METRICS)

    assert (failed["type"], failed["code"]) == ("error", "internal_error")
    assert "locked" not in failed["message"]  # internals stay in the logs
    assert (failed["thread_id"], failed["run_id"]) == (thread, run)
    span = _request_span(exporter, failed["request_id"])
    assert (span.name, span.attributes[attr.ERROR_CODE]) == (attr.GET_METRICS, "internal_error")
    app.telemetry.flush()
    lines = [orjson.loads(x) for x in app.settings.log_path.read_text().splitlines()]
    assert any(x["request_id"] == failed["request_id"] for x in lines)

    monkeypatch.setattr(app.sessions, "resolve_quality", real)
    ok = await app.handle(caller, METRICS)
    assert (ok["type"], ok["thread_id"], ok["run_id"]) == ("quality_metrics", thread, run)


# -- replies and spans ----------------------------------------------------------------------

CONVERSATION = [
    (CHAT, "agent_reply", attr.CHAT_USER_MESSAGE),
    (METRICS, "quality_metrics", attr.GET_METRICS),
    (
        {"type": "validate_content", "payload": {"content": "Cut p99 by 20% by Friday"}},
        "content_validation_result",
        attr.VALIDATE_CONTENT,
    ),
    ({"type": "generate_quality_report"}, "quality_report_generated", attr.GENERATE_REPORT),
    (
        {"type": "subscribe_quality_alerts", "payload": {"threshold": 0.5}},
        "quality_alerts_subscribed",
        attr.SUBSCRIBE_ALERTS,
    ),
    (
        {"type": "subscribe_quality_alerts", "payload": {"action": "unsubscribe"}},
        "quality_alerts_unsubscribed",
        attr.UNSUBSCRIBE_ALERTS,
    ),
    ({"type": "create_thread", "payload": {"title": "t"}}, "thread_created", attr.THREAD_CREATE),
    ({"type": "nope"}, "error", attr.UNKNOWN_MESSAGE),
]


async def test_every_reply_carries_context_and_one_server_span_per_message(app_and_spans):
    app, exporter = app_and_spans
    caller = app.sessions.open_session("alice")
    replies = []
    for message, reply_type, _ in CONVERSATION:
        sent = []

        async def send(m, sent=sent):
            sent.append(m)

        out = await app.handle(caller, message, send)
        assert sent == [out]
        assert out["type"] == reply_type
        assert {"thread_id", "run_id", "request_id"} <= set(out)
        replies.append(out)
    assert len({r["request_id"] for r in replies}) == len(replies)

    spans = exporter.get_finished_spans()
    # One span per message, plus the thread.create transition of the very first message.
    assert len(spans) == len(CONVERSATION) + 1
    assert spans[0].name == attr.THREAD_CREATE
    assert spans[0].attributes[attr.REQUEST_ID] == replies[0]["request_id"]
    # the message's own span links the transition made on its way (two traces, one request)
    first = _request_span(exporter, replies[0]["request_id"])
    assert [link.context.span_id for link in first.links] == [spans[0].context.span_id]
    assert all(not s.links for s in spans[2:])
    for (message, _, event), out in zip(CONVERSATION, replies, strict=True):
        span = _request_span(exporter, out["request_id"])
        assert span.name == event
        assert span.kind is SpanKind.SERVER
        assert span.parent is None
        assert span.attributes[attr.MESSAGE_TYPE] == message["type"]
        assert span.attributes[attr.USER_ID] == "alice"
        assert span.attributes[attr.SESSION_ID] == caller.session_id
        assert span.attributes[attr.STRATEGY] == "resume"
        assert span.attributes[attr.THREAD_ID] == out["thread_id"]
        assert span.attributes[attr.CONVERSATION_ID] == out["thread_id"]
        assert span.attributes.get(attr.RUN_ID) == out["run_id"]
        expected = SPAN_ATTRIBUTES if out["run_id"] else SPAN_ATTRIBUTES - {attr.RUN_ID}
        if out["type"] == "error":
            expected = expected | {attr.ERROR_CODE}
            assert span.status.status_code is StatusCode.ERROR
        else:
            assert span.status.status_code is StatusCode.UNSET
        assert set(span.attributes) == expected
    outcomes = [_request_span(exporter, r["request_id"]).attributes[attr.OUTCOME] for r in replies]
    assert outcomes == ["created", *["resumed"] * 5, "created", "resumed"]
    # Quality replies land in the chat thread; create_thread moves the session.
    assert {r["thread_id"] for r in replies[:6]} == {replies[0]["thread_id"]}
    assert replies[6]["thread_id"] == replies[7]["thread_id"] != replies[0]["thread_id"]


async def test_switch_thread_reply_and_span(app_and_spans):
    app, exporter = app_and_spans
    caller, thread, run = await _chatting(app)
    await app.handle(caller, {"type": "create_thread"})
    exporter.clear()
    out = await app.handle(caller, {"type": "switch_thread", "thread_id": thread})
    assert (out["type"], out["thread_id"], out["run_id"]) == ("thread_switched", thread, run)
    [span] = exporter.get_finished_spans()
    assert (span.name, span.attributes[attr.OUTCOME]) == (attr.THREAD_SWITCH, "switched")


@pytest.mark.parametrize("strategy", list(Strategy))
async def test_span_strategy_attribute_follows_the_apps_strategy(tmp_path, clock, strategy):
    app, exporter = _open(tmp_path, clock, strategy)
    try:
        caller, _, _ = await _chatting(app)
        out = await app.handle(caller, METRICS)
        span = _request_span(exporter, out["request_id"])
        assert span.attributes[attr.STRATEGY] == strategy.value
        expected = {
            Strategy.RESUME: "resumed",
            Strategy.MINT: "minted",
            Strategy.DEFAULT_SESSION: "defaulted",
        }[strategy]
        assert span.attributes[attr.OUTCOME] == expected
    finally:
        app.close()


# -- any input ------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
_FIELDS = st.sampled_from(
    [
        "text",
        "content",
        "content_type",
        "strict_mode",
        "threshold",
        "action",
        "period",
        "report_type",
        "period_hours",
        "agent_name",
        "title",
    ]
)
_MESSAGES = st.fixed_dictionaries(
    {"type": st.sampled_from([*(t.value for t in MessageType), "other"]) | _JSON},
    optional={
        "thread_id": _JSON,
        "run_id": _JSON,
        "payload": _JSON | st.dictionaries(_FIELDS, _JSON, max_size=5),
    },
)
_RAW = _MESSAGES | _MESSAGES.map(json.dumps) | _JSON.map(json.dumps) | st.text() | st.binary()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_RAW)
def test_any_input_gets_a_reply_in_the_users_own_context(app_and_spans, raw):
    """Whatever arrives, the router answers (never an internal error) and keeps serving."""
    app, _ = app_and_spans
    caller = Caller("alice", "sess_fuzz")
    out = asyncio.run(app.handle(caller, raw))
    assert out["type"] and out["request_id"]
    if out["type"] == "error":
        assert out["code"] != "internal_error", out
    if out["thread_id"] is not None:
        assert app.store.get_thread(out["thread_id"]).user_id == "alice"
