"""Ground truth: counts from replies, and the implicit transitions inferred from the protocol."""

from __future__ import annotations

from typing import Any

from handlers.config import Strategy
from handlers.simulation.traffic import Outgoing, Scenario
from handlers.simulation.truth import GroundTruth

CHAT = Outgoing(Scenario.USER_MESSAGE, "{}", "chat.user_message")
METRICS = Outgoing(Scenario.METRICS, "{}", "quality.get_metrics")
UNKNOWN = Outgoing(Scenario.UNKNOWN_TYPE, "{}", "quality.unknown_message")


def reply(kind: str, thread: str | None, run: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "thread_id": thread, "run_id": run, **extra}


def test_first_chat_reply_in_a_new_thread_implies_a_thread_create() -> None:
    truth = GroundTruth()
    truth.exchange("u", "s", CHAT, reply("agent_reply", "t1", "r1"), Strategy.MINT, None)
    truth.exchange("u", "s", CHAT, reply("agent_reply", "t1", "r2"), Strategy.MINT, None)
    assert truth.implicit_transitions == {"thread.create": 1}
    assert truth.expected().events == 3
    assert truth.expected().by_event["thread.create"].events == 1


def test_a_minted_quality_reply_implies_no_transition() -> None:
    truth = GroundTruth()
    truth.exchange("u", "s", CHAT, reply("agent_reply", "t1", "r1"), Strategy.MINT, None)
    truth.exchange("u", "s", METRICS, reply("quality_metrics", "m1", "x"), Strategy.MINT, None)
    assert truth.implicit_transitions == {"thread.create": 1}
    assert truth.expected().orphan_threads == 1


def test_naming_another_thread_in_a_user_message_implies_a_switch() -> None:
    truth = GroundTruth()
    truth.exchange("u", "s", CHAT, reply("agent_reply", "t1", "r1"), Strategy.RESUME, None)
    create = Outgoing(Scenario.CREATE_THREAD, "{}", "thread.create")
    truth.exchange("u", "s", create, reply("thread_created", "t2"), Strategy.RESUME, None)
    named = Outgoing(Scenario.USER_MESSAGE, "{}", "chat.user_message", "t1")
    truth.exchange("u", "s", named, reply("agent_reply", "t1", "r3"), Strategy.RESUME, None)
    assert truth.implicit_transitions == {"thread.create": 1, "thread.switch": 1}
    assert truth.expected().breaks == 0


def test_counts_replies_errors_broadcasts_and_quality_users() -> None:
    truth = GroundTruth()
    truth.exchange("u", "s", CHAT, reply("agent_reply", "t1", "r1"), Strategy.RESUME, None)
    error = reply("error", "t1", "r1", code="unknown_message_type")
    truth.exchange("v", "s2", UNKNOWN, error, Strategy.RESUME, None)
    truth.exchange("u", "s", METRICS, reply("quality_metrics", "t1", "r1"), Strategy.RESUME, None)
    truth.broadcast("u", "s", reply("quality_update", "t1", "r1"), None)
    assert truth.sent == {"user_message": 1, "unknown_type": 1, "get_metrics": 1}
    assert truth.errors == {"unknown_message_type": 1}
    assert truth.broadcasts == {"quality_update": 1}
    assert truth.quality_requests == 1
    assert truth.quality_users == {"u"}
    assert truth.quality_interactions == 3
    assert truth.strategy_users == {"u", "v"}


def test_versions_keep_their_own_ledgers() -> None:
    truth = GroundTruth()
    truth.exchange("u", "s", CHAT, reply("agent_reply", "t1", "r1"), Strategy.MINT, "1.0.0")
    truth.exchange("u", "s", METRICS, reply("quality_metrics", "m", "x"), Strategy.MINT, "1.0.0")
    truth.exchange(
        "u", "s", METRICS, reply("quality_metrics", "t1", "r1"), Strategy.RESUME, "1.1.0"
    )
    sides = truth.expected_by_version()
    assert sides["1.0.0"].breaks == 1
    assert sides["1.1.0"].breaks == 0 and sides["1.1.0"].events == 1
    assert truth.expected().events == 4
