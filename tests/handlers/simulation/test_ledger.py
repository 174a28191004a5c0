"""The ground-truth ledger applies DESIGN.md's continuity rules to a stream of events."""

from __future__ import annotations

import pytest

from handlers.simulation.ledger import ContinuityLedger, EventTally

CHAT, CREATE, SWITCH, QUALITY = (
    "chat.user_message",
    "thread.create",
    "thread.switch",
    "quality.get_metrics",
)


def feed(*events: tuple[str, str | None, str | None, str]) -> ContinuityLedger:
    ledger = ContinuityLedger()
    for session, thread, run, event in events:
        ledger.record("u", session, thread, run, event)
    return ledger


def test_first_event_sets_the_current_thread_even_when_it_is_a_quality_event() -> None:
    figures = feed(("s", "t1", None, QUALITY), ("s", "t2", "r1", CHAT)).figures()
    assert (figures.events, figures.breaks) == (2, 1)
    assert figures.stray_threads == 1 and figures.orphan_threads == 1


def test_a_thread_other_than_the_current_one_is_a_break() -> None:
    ledger = feed(("s", "t1", "r1", CHAT), ("s", "m1", "x", QUALITY), ("s", "t1", "r1", QUALITY))
    figures = ledger.figures()
    assert figures.breaks == 1
    assert figures.affected_sessions == 1
    assert figures.by_event == {CHAT: EventTally(1, 0), QUALITY: EventTally(2, 1)}


def test_transitions_move_the_current_thread() -> None:
    figures = feed(
        ("s", "t1", "r1", CHAT), ("s", "t2", None, CREATE), ("s", "t2", "r2", CHAT)
    ).figures()
    assert figures.breaks == 0
    assert figures.threads == 2


def test_a_stray_thread_with_two_events_is_not_an_orphan() -> None:
    figures = feed(
        ("s", "t1", "r1", CHAT), ("s", "d", "dr", QUALITY), ("s", "d", "dr", QUALITY)
    ).figures()
    assert (figures.stray_threads, figures.orphan_threads) == (1, 0)


def test_a_thread_that_is_current_in_another_session_is_not_stray() -> None:
    figures = feed(
        ("a", "t1", "r1", CHAT), ("b", "t2", "r2", CHAT), ("b", "t1", "r1", QUALITY)
    ).figures()
    assert figures.breaks == 1
    assert figures.stray_threads == 0
    assert figures.sessions == 2


def test_events_without_a_thread_are_counted_apart() -> None:
    figures = feed(("s", None, None, QUALITY), ("s", "t1", "r1", CHAT)).figures()
    assert figures.missing_thread == 1
    assert figures.events == 1
    assert figures.lines == 2
    assert figures.breaks == 0  # the first event with a thread sets it


@pytest.mark.parametrize(
    ("events", "run_breaks"),
    [
        # a quality event in the current run
        ([("s", "t", "r1", CHAT), ("s", "t", "r1", QUALITY)], 0),
        # a quality event in an older run of the same thread
        ([("s", "t", "r1", CHAT), ("s", "t", "r2", CHAT), ("s", "t", "r1", QUALITY)], 1),
        # no current run yet: the first run seen becomes current
        ([("s", "t", None, CREATE), ("s", "t", "r1", QUALITY), ("s", "t", "r2", QUALITY)], 1),
        # events without a run are not checked
        ([("s", "t", "r1", CHAT), ("s", "t", None, QUALITY)], 0),
        # a break is not checked for runs
        ([("s", "t", "r1", CHAT), ("s", "m", "x", QUALITY)], 0),
        # a transition sets the run, possibly to none
        ([("s", "t", "r1", CHAT), ("s", "t", None, SWITCH), ("s", "t", "r9", QUALITY)], 0),
    ],
)
def test_run_breaks(events: list, run_breaks: int) -> None:
    assert feed(*events).figures().run_breaks == run_breaks


def test_to_dict_uses_the_audit_report_keys() -> None:
    data = feed(("s", "t1", "r1", CHAT), ("s", "m", "x", QUALITY)).figures().to_dict()
    assert data["break_rate"] == 0.5
    assert data["by_event"] == [
        {"event": CHAT, "events": 1, "breaks": 0},
        {"event": QUALITY, "events": 1, "breaks": 1},
    ]
