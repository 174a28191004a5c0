"""Tests for handlers/manager.py: subscriptions, broadcasts to live sessions, dead connections."""

from __future__ import annotations

import orjson
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from handlers import attributes as attr
from handlers.config import Strategy
from handlers.store import Subscription
from handlers.testing import memory_app

LOW = "maybe"  # scores about 0.2
HIGH = (
    "Reduce p99 latency of the checkout API from 840 ms to 300 ms by Friday: add an index on"
    " orders.user_id (owner: Dana), then verify with the k6 load test at 500 req/s."
)  # scores about 0.9


def _validate(content):
    return {"type": "validate_content", "payload": {"content": content}}


def _subscribe(threshold=None):
    return {"type": "subscribe_quality_alerts", "payload": {"threshold": threshold}}


UNSUBSCRIBE = {"type": "subscribe_quality_alerts", "payload": {"action": "unsubscribe"}}


class Inbox:
    """A live session's outbound channel that keeps what it was sent."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def __call__(self, message: dict) -> None:
        self.messages.append(message)

    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]


class DeadSocket:
    """A connection whose send fails, as a closed WebSocket does."""

    def __init__(self) -> None:
        self.attempts = 0

    async def __call__(self, message: dict) -> None:
        self.attempts += 1
        raise ConnectionResetError("peer went away")


async def _live(app, user, *, new_thread=False):
    """A connected session of ``user`` that has chatted: (caller, inbox, thread, run)."""
    caller = app.sessions.open_session(user)
    if new_thread:
        await app.handle(caller, {"type": "create_thread"})
    out = await app.handle(caller, {"type": "user_message", "payload": {"text": "hello"}})
    inbox = Inbox()
    app.manager.connect(caller, inbox)
    return caller, inbox, out["thread_id"], out["run_id"]


# -- subscriptions --------------------------------------------------------------------------


async def test_subscribe_with_threshold_then_unsubscribe(app, clock):
    caller, _, thread, run = await _live(app, "alice")
    out = await app.handle(caller, _subscribe(0.5))
    assert out["type"] == "quality_alerts_subscribed"
    assert out["payload"] == {"threshold": 0.5, "subscribed": True}
    assert (out["thread_id"], out["run_id"]) == (thread, run)
    created = clock()
    assert app.manager.subscription("alice") == Subscription("alice", 0.5, created)

    clock.advance(60)
    changed = await app.handle(caller, _subscribe(0.8))
    assert changed["payload"]["threshold"] == 0.8
    assert app.manager.subscription("alice") == Subscription("alice", 0.8, created)

    first = await app.handle(caller, UNSUBSCRIBE)
    second = await app.handle(caller, UNSUBSCRIBE)
    assert first["type"] == second["type"] == "quality_alerts_unsubscribed"
    assert (first["payload"], second["payload"]) == (
        {"was_subscribed": True},
        {"was_subscribed": False},
    )
    assert app.manager.subscription("alice") is None


async def test_subscription_without_threshold(app):
    caller, _, _, _ = await _live(app, "alice")
    out = await app.handle(caller, _subscribe())
    assert out["payload"] == {"threshold": None, "subscribed": True}
    assert app.manager.subscription("alice").threshold is None


async def test_subscriptions_are_per_user(app):
    alice, _, _, _ = await _live(app, "alice")
    bob, _, _, _ = await _live(app, "bob")
    await app.handle(alice, _subscribe(0.3))
    await app.handle(bob, _subscribe(0.7))
    await app.handle(bob, UNSUBSCRIBE)
    assert app.manager.subscription("alice").threshold == 0.3
    assert app.manager.subscription("bob") is None


# -- broadcasts -----------------------------------------------------------------------------


async def test_low_score_alerts_every_live_session_of_the_user_in_its_own_context(app):
    alice1, inbox1, thread1, run1 = await _live(app, "alice")
    _, inbox2, thread2, run2 = await _live(app, "alice", new_thread=True)
    bob, bob_inbox, _, _ = await _live(app, "bob")
    await app.handle(bob, _subscribe(0.99))
    await app.handle(alice1, _subscribe(0.5))
    assert thread1 != thread2

    out = await app.handle(alice1, _validate(LOW))

    assert out["type"] == "content_validation_result"
    assert out["payload"]["score"] < 0.5
    for inbox, thread, run in ((inbox1, thread1, run1), (inbox2, thread2, run2)):
        assert inbox.types() == ["quality_update", "quality_alert"]
        for message in inbox.messages:
            assert (message["thread_id"], message["run_id"]) == (thread, run)
            assert message["payload"]["score"] == out["payload"]["score"]
            assert message["request_id"] != out["request_id"]
        assert inbox.messages[1]["payload"]["threshold"] == 0.5
    assert bob_inbox.messages == []


async def test_unsubscribing_while_a_broadcast_is_sent_stops_the_rest_of_it(app):
    """The update's send waits; meanwhile the user unsubscribes: no alert follows, and no
    other session of the user is told."""
    alice, first, _, _ = await _live(app, "alice")
    await app.handle(alice, _subscribe(0.5))

    class Unsubscribes(Inbox):
        async def __call__(self, message: dict) -> None:
            await super().__call__(message)
            app.manager.unsubscribe("alice")  # another request, handled while this waited

    other = app.sessions.open_session("alice")
    unsubscribing = Unsubscribes()
    app.manager.connect(other, unsubscribing)
    app.manager.disconnect(alice)  # the first session is told last, if at all
    app.manager.connect(alice, first)
    await app.handle(alice, _validate(LOW))
    assert unsubscribing.types() == ["quality_update"]
    assert first.types() == []


async def test_score_above_threshold_sends_only_an_update(app):
    caller, inbox, _, _ = await _live(app, "alice")
    await app.handle(caller, _subscribe(0.5))
    out = await app.handle(caller, _validate(HIGH))
    assert out["payload"]["score"] >= 0.5
    assert inbox.types() == ["quality_update"]
    assert inbox.messages[0]["payload"] == {
        "score": out["payload"]["score"],
        "passed": out["payload"]["passed"],
        "content_type": "general",
    }


async def test_no_threshold_means_updates_but_no_alerts(app):
    caller, inbox, _, _ = await _live(app, "alice")
    await app.handle(caller, _subscribe())
    await app.handle(caller, _validate(LOW))
    assert inbox.types() == ["quality_update"]


async def test_unsubscribed_users_get_no_broadcasts(app):
    caller, inbox, _, _ = await _live(app, "alice")
    await app.handle(caller, _validate(LOW))
    await app.handle(caller, _subscribe(0.5))
    await app.handle(caller, UNSUBSCRIBE)
    await app.handle(caller, _validate(LOW))
    assert inbox.messages == []


async def test_a_subscriber_without_live_sessions_gets_nothing_and_nothing_fails(app):
    caller = app.sessions.open_session("alice")
    await app.handle(caller, _subscribe(0.5))
    out = await app.handle(caller, _validate(LOW))
    assert out["type"] == "content_validation_result"


async def test_dead_connection_is_counted_and_disconnected_and_the_reply_succeeds(app_and_spans):
    app, exporter = app_and_spans
    alice, inbox, _, _ = await _live(app, "alice")
    dead_caller = app.sessions.open_session("alice")
    dead = DeadSocket()
    app.manager.connect(dead_caller, dead)
    await app.handle(alice, _subscribe(0.5))

    out = await app.handle(alice, _validate(LOW))

    assert out["type"] == "content_validation_result"
    assert app.manager.delivery_failures == 1
    assert dead.attempts == 1  # no alert is attempted on a connection found dead
    assert [c.caller for c in app.manager.live_sessions("alice")] == [alice]
    assert inbox.types() == ["quality_update", "quality_alert"]
    failed = [s for s in exporter.get_finished_spans() if s.status.status_code is StatusCode.ERROR]
    assert [s.attributes[attr.SESSION_ID] for s in failed] == [dead_caller.session_id]
    assert failed[0].attributes[attr.ERROR_CODE] == "delivery_failed"
    app.telemetry.flush()
    logged = [orjson.loads(x) for x in app.settings.log_path.read_text().splitlines()]
    about_dead = [x for x in logged if x["session_id"] == dead_caller.session_id]
    assert [(x["level"], x.get("error_code")) for x in about_dead] == [
        ("warning", "delivery_failed")
    ]
    assert "not delivered: ConnectionResetError" in about_dead[0]["message"]

    again = await app.handle(alice, _validate(LOW))
    assert again["type"] == "content_validation_result"
    assert (dead.attempts, app.manager.delivery_failures) == (1, 1)
    assert inbox.types() == ["quality_update", "quality_alert"] * 2


async def test_a_requester_closing_before_its_reply_does_not_cancel_the_broadcasts(app):
    """The reply's send fails (the tab was closed right after sending): the validation's
    broadcasts to the user's other sessions still go out, then the failure is raised."""
    closing, _, _, _ = await _live(app, "alice")
    other, inbox, thread, run = await _live(app, "alice", new_thread=True)
    await app.handle(other, _subscribe(0.99))

    with pytest.raises(ConnectionResetError):
        await app.router.handle(closing, _validate(LOW), DeadSocket())

    assert inbox.types() == ["quality_update", "quality_alert"]
    assert {(m["thread_id"], m["run_id"]) for m in inbox.messages} == {(thread, run)}


async def test_broadcast_spans_are_roots_linked_to_the_request(app_and_spans):
    app, exporter = app_and_spans
    caller, inbox, thread, run = await _live(app, "alice")
    await app.handle(caller, _subscribe(0.5))
    exporter.clear()

    out = await app.handle(caller, _validate(LOW))

    spans = exporter.get_finished_spans()
    request = next(s for s in spans if s.name == attr.VALIDATE_CONTENT)
    broadcasts = [s for s in spans if s is not request]
    assert [s.name for s in broadcasts] == [attr.BROADCAST_UPDATE, attr.BROADCAST_ALERT]
    for span, message in zip(broadcasts, inbox.messages, strict=True):
        assert span.parent is None
        assert span.kind is SpanKind.SERVER
        assert span.context.trace_id != request.context.trace_id
        assert [link.context.span_id for link in span.links] == [request.context.span_id]
        assert span.attributes[attr.MESSAGE_TYPE] == message["type"]
        assert span.attributes[attr.REQUEST_ID] == message["request_id"]
        assert span.attributes[attr.SESSION_ID] == caller.session_id
        assert span.attributes[attr.THREAD_ID] == thread
        assert span.attributes[attr.CONVERSATION_ID] == thread
        assert span.attributes[attr.RUN_ID] == run
        assert span.attributes[attr.OUTCOME] == "resumed"
    assert request.attributes[attr.REQUEST_ID] == out["request_id"]


async def test_a_broadcast_moving_an_expired_session_records_the_switch_first(app_and_spans, clock):
    """Under `resume` an audit must see every event of a session in order: a broadcast that
    lands an idle session in another thread is preceded by its `thread.switch`."""
    from handlers.config import DEFAULT_SESSION_TTL_S

    app, exporter = app_and_spans
    idle, inbox, before, _ = await _live(app, "alice")
    await app.handle(idle, _subscribe(0.5))
    clock.advance(DEFAULT_SESSION_TTL_S + 1)
    busy = app.sessions.open_session("alice")
    await app.handle(busy, {"type": "create_thread"})
    exporter.clear()

    await app.handle(busy, _validate(LOW))

    mine = [
        s for s in exporter.get_finished_spans() if s.attributes[attr.SESSION_ID] == idle.session_id
    ]
    assert [s.name for s in mine] == [
        attr.THREAD_SWITCH,
        attr.BROADCAST_UPDATE,
        attr.BROADCAST_ALERT,
    ]
    after = {s.attributes[attr.THREAD_ID] for s in mine}
    assert len(after) == 1 and before not in after
    assert {m["thread_id"] for m in inbox.messages} == after
    # every one a root of its own trace, linked to the request: the switch is not a child
    # of another session's request span (child spans carry no ID attributes)
    request = next(s for s in exporter.get_finished_spans() if s.name == attr.VALIDATE_CONTENT)
    for span in mine:
        assert span.parent is None, span.name
        assert span.context.trace_id != request.context.trace_id
        assert [link.context.span_id for link in span.links] == [request.context.span_id]
    # and the session stays there: its next message needs no second switch
    exporter.clear()
    out = await app.handle(idle, _validate(LOW))
    assert out["thread_id"] in after
    assert attr.THREAD_SWITCH not in [s.name for s in exporter.get_finished_spans()]


async def test_a_broadcast_logged_after_a_slow_send_keeps_the_events_time(app_and_spans):
    """The send may wait on a slow client while its session moves on: the log line carries
    the span's start, so logs and traces order the session's events alike."""
    import asyncio
    from datetime import UTC, datetime

    app, exporter = app_and_spans
    caller = app.sessions.open_session("alice")
    await app.handle(caller, {"type": "user_message", "payload": {"text": "hello"}})

    async def slow(message):
        await asyncio.sleep(0.05)

    app.manager.connect(caller, slow)
    await app.handle(caller, _subscribe(0.5))
    exporter.clear()
    await app.handle(caller, _validate(LOW))
    app.telemetry.flush()
    span = next(s for s in exporter.get_finished_spans() if s.name == attr.BROADCAST_UPDATE)
    logged = [orjson.loads(x) for x in app.settings.log_path.read_text().splitlines()]
    line = next(x for x in logged if x["event"] == attr.BROADCAST_UPDATE)
    logged_at = datetime.strptime(line["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    logged_ns = int(logged_at.timestamp() * 1_000_000) * 1_000
    assert abs(logged_ns - span.start_time) <= 2_000  # the span's start, to the microsecond
    assert span.end_time - span.start_time >= 40_000_000  # the send did wait
    assert "event_time" not in line


async def test_broadcasts_follow_the_apps_strategy(tmp_path, clock):
    """Under `mint` a broadcast lands in a fresh context (the old behaviour, reproduced)."""
    app, exporter = memory_app(tmp_path, clock=clock, strategy=Strategy.MINT)
    try:
        caller, inbox, thread, _ = await _live(app, "alice")
        await app.handle(caller, _subscribe(0.5))
        await app.handle(caller, _validate(LOW))
        threads = {m["thread_id"] for m in inbox.messages}
        assert len(threads) == 2 and thread not in threads
        names = {s.name: s for s in exporter.get_finished_spans()}
        assert names[attr.BROADCAST_ALERT].attributes[attr.OUTCOME] == "minted"
    finally:
        app.close()


# -- connections ----------------------------------------------------------------------------


async def test_connections_are_keyed_by_session(app):
    one = app.sessions.open_session("alice")
    two = app.sessions.open_session("alice")
    app.manager.connect(one, Inbox())
    app.manager.connect(two, Inbox())
    assert {c.caller for c in app.manager.live_sessions("alice")} == {one, two}
    assert app.manager.live_sessions("bob") == []
    app.manager.disconnect(one)
    assert [c.caller for c in app.manager.live_sessions("alice")] == [two]
    app.manager.disconnect(one)  # twice is harmless
    assert [c.caller for c in app.manager.live_sessions("alice")] == [two]


async def test_an_old_connection_closing_after_a_reconnect_leaves_the_new_one(app):
    """A client reconnects to its session before the server sees the old socket close."""
    caller = app.sessions.open_session("alice")
    old, new = Inbox(), Inbox()
    app.manager.connect(caller, old)
    app.manager.connect(caller, new)
    app.manager.disconnect(caller, old)
    assert [c.send for c in app.manager.live_sessions("alice")] == [new]
    app.manager.disconnect(caller, new)
    assert app.manager.live_sessions("alice") == []


async def test_the_old_connection_is_the_sessions_again_when_the_new_one_closes_first(app):
    caller = app.sessions.open_session("alice")
    old, new = Inbox(), Inbox()
    app.manager.connect(caller, old)
    app.manager.connect(caller, new)
    assert [c.send for c in app.manager.live_sessions("alice")] == [new]  # one per session
    app.manager.disconnect(caller, new)
    assert [c.send for c in app.manager.live_sessions("alice")] == [old]
