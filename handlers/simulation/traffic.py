"""What simulated clients send: the traffic mix, one message at a time, from a seeded RNG.

A client is one session of one user. It remembers the thread it is in (the
thread of its last chat or thread reply), the user's threads and whether the
user is subscribed, and picks its next message from `MIX`. Every session opens
with a chat message, as a client that connects or reconnects does: a user's
first session starts or creates a conversation, a reconnect goes on in the
thread the user was in. Quality operations are sent without ``thread_id`` and
``run_id`` (the case where the strategies differ); chat messages name the
client's current thread about half of the time, never another one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import orjson

from handlers import attributes as attr
from handlers.context import Caller
from handlers.simulation.texts import AGENTS, CHAT_TEXTS, THREAD_TITLES, VALIDATION_SAMPLES


class Scenario(StrEnum):
    """What a simulated message is meant to exercise."""

    USER_MESSAGE = "user_message"
    CREATE_THREAD = "create_thread"
    SWITCH_THREAD = "switch_thread"
    SUBSCRIBE = "subscribe_alerts"
    UNSUBSCRIBE = "unsubscribe_alerts"
    METRICS = "get_metrics"
    REPORT = "generate_report"
    VALIDATE = "validate_content"
    BAD_QUALITY_PAYLOAD = "bad_quality_payload"
    INVALID_JSON = "invalid_json"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_TYPE = "missing_type"
    BAD_CHAT_PAYLOAD = "bad_chat_payload"
    SWITCH_UNKNOWN_THREAD = "switch_unknown_thread"
    SWITCH_WITHOUT_THREAD = "switch_without_thread"


#: The four quality operations, a bad payload included: what a user "used a quality operation" means.
QUALITY_SCENARIOS: Final = frozenset(
    {
        Scenario.SUBSCRIBE,
        Scenario.UNSUBSCRIBE,
        Scenario.METRICS,
        Scenario.REPORT,
        Scenario.VALIDATE,
        Scenario.BAD_QUALITY_PAYLOAD,
    }
)
#: Messages whose context the continuity strategy picks (DESIGN.md): quality operations and
#: the router's error paths of messages it cannot route. Chat and thread messages, even
#: malformed ones, always resolve as in `resume`.
GOVERNED_SCENARIOS: Final = QUALITY_SCENARIOS | {
    Scenario.INVALID_JSON,
    Scenario.UNKNOWN_TYPE,
    Scenario.MISSING_TYPE,
}
#: A tuple, not a set: `MIX` is built from it and its order must not depend on string hashing.
ERROR_SCENARIOS: Final = (
    Scenario.BAD_QUALITY_PAYLOAD,
    Scenario.INVALID_JSON,
    Scenario.UNKNOWN_TYPE,
    Scenario.MISSING_TYPE,
    Scenario.BAD_CHAT_PAYLOAD,
    Scenario.SWITCH_UNKNOWN_THREAD,
    Scenario.SWITCH_WITHOUT_THREAD,
)

_ERROR_WEIGHT = 0.05 / len(ERROR_SCENARIOS)
#: Relative weights of a session's messages after its first one.
MIX: Final[dict[Scenario, float]] = {
    Scenario.USER_MESSAGE: 0.55,
    Scenario.CREATE_THREAD: 0.05,
    Scenario.SWITCH_THREAD: 0.05,
    Scenario.SUBSCRIBE: 0.035,  # subscribe and unsubscribe together: 0.05
    Scenario.UNSUBSCRIBE: 0.015,
    Scenario.METRICS: 0.06,
    Scenario.REPORT: 0.05,
    Scenario.VALIDATE: 0.14,
    **dict.fromkeys(ERROR_SCENARIOS, _ERROR_WEIGHT),
}
_CHOICES: Final = tuple(MIX)
_WEIGHTS: Final = tuple(MIX.values())
_UNKNOWN_TYPES: Final = ("get_quality_trends", "ping", "subscribe_quality_alert")
_CHAT_REPLIES: Final = frozenset({"agent_reply", "thread_created", "thread_switched"})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as sent, with what the protocol says about it (DESIGN.md)."""

    scenario: Scenario
    #: The JSON text handed to the handlers, as a WebSocket frame would be.
    wire: str
    #: The span/log event the handlers record for it.
    event: str
    #: The thread the message names (chat messages only).
    thread_id: str | None = None

    @property
    def governed(self) -> bool:
        """Whether the continuity strategy picks the context of its reply."""
        return self.scenario in GOVERNED_SCENARIOS

    @property
    def quality(self) -> bool:
        """Whether it is one of the four quality operations."""
        return self.scenario in QUALITY_SCENARIOS


@dataclass(slots=True)
class UserState:
    """What a simulated user carries from one session to the next."""

    user_id: str
    sessions_left: int
    threads: list[str] = field(default_factory=list)
    current_thread: str | None = None


@dataclass(slots=True)
class ClientSession:
    """One connected session of a user, with the thread it believes it is in."""

    user: UserState
    caller: Caller
    remaining: int
    reconnect: bool
    current_thread: str | None = None
    sent: int = 0


def _json(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def _message(kind: str, payload: dict[str, Any], thread_id: str | None = None) -> str:
    message: dict[str, Any] = {"type": kind, "payload": payload}
    if thread_id is not None:
        message["thread_id"] = thread_id
    return _json(message)


def _user_message(rng: random.Random, thread_id: str | None) -> Outgoing:
    text = rng.choice(CHAT_TEXTS)
    return Outgoing(
        Scenario.USER_MESSAGE,
        _message("user_message", {"text": text}, thread_id),
        attr.CHAT_USER_MESSAGE,
        thread_id,
    )


def _create_thread(rng: random.Random) -> Outgoing:
    payload = {"title": rng.choice(THREAD_TITLES)} if rng.random() < 0.8 else {}
    return Outgoing(Scenario.CREATE_THREAD, _message("create_thread", payload), attr.THREAD_CREATE)


def _validate(rng: random.Random) -> Outgoing:
    content_type, good, bad = rng.choice(VALIDATION_SAMPLES)
    payload: dict[str, Any] = {
        "content": good if rng.random() < 0.6 else bad,
        "strict_mode": rng.random() < 0.2,
        "agent_name": rng.choice(AGENTS),
    }
    if content_type != "general" or rng.random() < 0.5:
        payload["content_type"] = content_type
    return Outgoing(Scenario.VALIDATE, _message("validate_content", payload), attr.VALIDATE_CONTENT)


def _bad_quality_payload(rng: random.Random) -> Outgoing:
    kind, payload, event = rng.choice(
        (
            ("generate_quality_report", {"period": "month"}, attr.GENERATE_REPORT),
            ("get_quality_metrics", {"period_hours": -5}, attr.GET_METRICS),
            ("validate_content", {"content": "ok", "content_type": "poem"}, attr.VALIDATE_CONTENT),
            ("validate_content", {"content_type": "report"}, attr.VALIDATE_CONTENT),
            ("subscribe_quality_alerts", {"threshold": 1.5}, attr.SUBSCRIBE_ALERTS),
        )
    )
    return Outgoing(Scenario.BAD_QUALITY_PAYLOAD, _message(kind, payload), event)


def _bad_chat_payload(rng: random.Random) -> Outgoing:
    if rng.random() < 0.5:
        return Outgoing(
            Scenario.BAD_CHAT_PAYLOAD,
            _message("user_message", {"text": ""}),
            attr.CHAT_USER_MESSAGE,
        )
    return Outgoing(
        Scenario.BAD_CHAT_PAYLOAD, _message("create_thread", {"title": 42}), attr.THREAD_CREATE
    )


def _quality(rng: random.Random, scenario: Scenario) -> Outgoing:
    payload: dict[str, Any]
    if scenario is Scenario.SUBSCRIBE:
        threshold = rng.choice((None, 0.5, 0.6, 0.7, 0.8))
        payload = {"action": "subscribe"} if threshold is None else {"threshold": threshold}
        return Outgoing(
            scenario, _message("subscribe_quality_alerts", payload), attr.SUBSCRIBE_ALERTS
        )
    if scenario is Scenario.UNSUBSCRIBE:
        return Outgoing(
            scenario,
            _message("subscribe_quality_alerts", {"action": "unsubscribe"}),
            attr.UNSUBSCRIBE_ALERTS,
        )
    if scenario is Scenario.METRICS:
        payload = {"period_hours": rng.choice((1, 24, 168))}
        if rng.random() < 0.3:
            payload["agent_name"] = rng.choice(AGENTS)
        return Outgoing(scenario, _message("get_quality_metrics", payload), attr.GET_METRICS)
    if scenario is Scenario.REPORT:
        payload = {
            "report_type": rng.choice(("summary", "detailed")),
            "period": rng.choice(("day", "week")),
        }
        return Outgoing(
            scenario, _message("generate_quality_report", payload), attr.GENERATE_REPORT
        )
    if scenario is Scenario.VALIDATE:
        return _validate(rng)
    return _bad_quality_payload(rng)


def _error(rng: random.Random, scenario: Scenario) -> Outgoing:
    if scenario is Scenario.INVALID_JSON:
        wire = rng.choice(('{"type": "user_message", "payload": {"text": "unterminated', "hello?"))
        return Outgoing(scenario, wire, attr.UNKNOWN_MESSAGE)
    if scenario is Scenario.UNKNOWN_TYPE:
        return Outgoing(scenario, _message(rng.choice(_UNKNOWN_TYPES), {}), attr.UNKNOWN_MESSAGE)
    if scenario is Scenario.MISSING_TYPE:
        return Outgoing(scenario, _json({"payload": {"text": "hi"}}), attr.UNKNOWN_MESSAGE)
    if scenario is Scenario.BAD_CHAT_PAYLOAD:
        return _bad_chat_payload(rng)
    if scenario is Scenario.SWITCH_UNKNOWN_THREAD:
        # A thread ID this user never had (another user's or a stale one): refused alike.
        bogus = f"thread_0_{rng.randrange(10**6)}_deadbeef"
        return Outgoing(
            scenario, _json({"type": "switch_thread", "thread_id": bogus}), attr.THREAD_SWITCH
        )
    return Outgoing(scenario, _json({"type": "switch_thread"}), attr.THREAD_SWITCH)


def first_message(rng: random.Random, session: ClientSession) -> Outgoing:
    """A session's opening message: a chat message, so the session starts in a conversation."""
    user = session.user
    if session.reconnect and user.current_thread is not None:
        named = user.current_thread if rng.random() < 0.7 else None
        return _user_message(rng, named)
    if rng.random() < 0.4:
        return _create_thread(rng)
    return _user_message(rng, None)


def next_message(rng: random.Random, session: ClientSession) -> Outgoing:
    """The session's next message, drawn from `MIX` (adapted to what the user can do)."""
    if session.sent == 0:
        return first_message(rng, session)
    scenario = rng.choices(_CHOICES, _WEIGHTS)[0]
    user = session.user
    if scenario is Scenario.SWITCH_THREAD:
        others = [t for t in user.threads if t != session.current_thread]
        if not others:
            scenario = Scenario.CREATE_THREAD
        else:
            target = rng.choice(others)
            return Outgoing(
                scenario,
                _json({"type": "switch_thread", "thread_id": target}),
                attr.THREAD_SWITCH,
                target,
            )
    if scenario is Scenario.USER_MESSAGE:
        named = session.current_thread if rng.random() < 0.5 else None
        return _user_message(rng, named)
    if scenario is Scenario.CREATE_THREAD:
        return _create_thread(rng)
    if scenario in QUALITY_SCENARIOS:
        return _quality(rng, scenario)
    return _error(rng, scenario)


def observe(session: ClientSession, reply: dict[str, Any]) -> None:
    """Update what the client believes after a reply: its thread and the user's threads."""
    session.sent += 1
    session.remaining -= 1
    thread = reply.get("thread_id")
    if reply.get("type") in _CHAT_REPLIES and thread is not None:
        session.current_thread = thread
        session.user.current_thread = thread
        if thread not in session.user.threads:
            session.user.threads.append(thread)
