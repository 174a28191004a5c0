"""The traffic mix: valid messages are valid, bad ones are bad, quality operations name no thread."""

from __future__ import annotations

import random

import orjson
import pytest

from handlers.context import Caller
from handlers.errors import HandlerError
from handlers.protocol import MessageType, parse_envelope, parse_payload
from handlers.simulation.traffic import (
    ERROR_SCENARIOS,
    QUALITY_SCENARIOS,
    ClientSession,
    Scenario,
    UserState,
    first_message,
    next_message,
    observe,
)


def session(threads: tuple[str, ...] = ("t1", "t2"), reconnect: bool = False) -> ClientSession:
    user = UserState("u", 1, list(threads), threads[0] if threads else None)
    client = ClientSession(user, Caller("u", "s"), 1000, reconnect, user.current_thread, sent=1)
    return client


def sample(n: int = 3000) -> list:
    rng, client = random.Random(5), session()
    return [next_message(rng, client) for _ in range(n)]


def test_every_scenario_is_drawn() -> None:
    assert {out.scenario for out in sample()} == set(Scenario)


def test_valid_messages_parse_and_bad_ones_are_refused() -> None:
    for out in sample():
        try:
            envelope = parse_envelope(out.wire)
            kind = MessageType(envelope.type)
            parse_payload(kind, envelope.payload)
            if kind is MessageType.SWITCH_THREAD and envelope.thread_id is None:
                raise HandlerError("switch without thread")
        except (HandlerError, ValueError):
            assert out.scenario in ERROR_SCENARIOS, out
        else:
            unknown_thread = out.scenario is Scenario.SWITCH_UNKNOWN_THREAD
            assert out.scenario not in ERROR_SCENARIOS or unknown_thread, out


def test_quality_operations_name_no_thread_or_run() -> None:
    for out in sample():
        if out.scenario in QUALITY_SCENARIOS:
            message = orjson.loads(out.wire)
            assert "thread_id" not in message and "run_id" not in message


def test_chat_messages_name_only_the_current_thread() -> None:
    named = {out.thread_id for out in sample() if out.scenario is Scenario.USER_MESSAGE}
    assert named == {None, "t1"}


def test_switch_without_another_thread_creates_one_instead() -> None:
    rng, client = random.Random(1), session(threads=("t1",))
    scenarios = {next_message(rng, client).scenario for _ in range(2000)}
    assert Scenario.SWITCH_THREAD not in scenarios
    assert Scenario.CREATE_THREAD in scenarios


@pytest.mark.parametrize("seed", range(5))
def test_a_reconnect_opens_with_a_user_message_in_the_users_thread(seed: int) -> None:
    client = session(reconnect=True)
    client.sent = 0
    out = first_message(random.Random(seed), client)
    assert out.scenario is Scenario.USER_MESSAGE
    assert out.thread_id in (None, "t1")


def test_observe_follows_chat_replies_only() -> None:
    client = session()
    observe(client, {"type": "quality_metrics", "thread_id": "minted"})
    assert client.current_thread == "t1"
    observe(client, {"type": "thread_created", "thread_id": "t3"})
    assert client.current_thread == "t3" and client.user.threads[-1] == "t3"
    assert client.remaining == 998
