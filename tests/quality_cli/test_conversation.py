"""A conversation through separate CLI processes, checked on the exported trace and log files.

`chat -> metrics -> validate -> report -> alerts subscribe -> chat`, one process
per step, under each strategy (issue 2, "Must show").
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STEPS: list[tuple[str, list[str]]] = [
    ("chat.user_message", ["chat", "Checkout p99 latency rose from 180 ms to 410 ms"]),
    ("quality.get_metrics", ["metrics"]),
    (
        "quality.validate_content",
        ["validate", "Add an index on orders.user_id by Friday", "--content-type", "action_plan"],
    ),
    ("quality.generate_report", ["report"]),
    ("quality.subscribe_alerts", ["alerts", "subscribe", "--threshold", "0.5"]),
    ("chat.user_message", ["chat", "Thanks, what next?"]),
]
QUALITY_EVENTS = {event for event, _ in STEPS if event.startswith("quality.")}


def _run_conversation(home: Path, strategy: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "QUALITY_"))}
    for _, args in STEPS:
        cmd = [
            sys.executable,
            "-m",
            "quality_cli",
            "--home",
            str(home),
            "--user",
            "alice",
            "--strategy",
            strategy,
            *args,
            "--json",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr


def _attr_value(value: dict) -> object:
    return next(iter(value.values()))


def _spans(path: Path) -> list[dict]:
    """Server spans from an OTLP/JSON lines file, with attributes flattened, in start order."""
    spans = []
    for line in path.read_text().splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            for scope in resource_spans["scopeSpans"]:
                for span in scope["spans"]:
                    attrs = {a["key"]: _attr_value(a["value"]) for a in span.get("attributes", [])}
                    spans.append(
                        {
                            "name": span["name"],
                            "start": int(span["startTimeUnixNano"]),
                            "traceId": span["traceId"],
                            "spanId": span["spanId"],
                            **attrs,
                        }
                    )
    return sorted(spans, key=lambda s: s["start"])


def _logs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module", params=["resume", "mint", "default-session"])
def conversation(request, tmp_path_factory) -> tuple[str, list[dict], list[dict]]:
    home = tmp_path_factory.mktemp(request.param)
    _run_conversation(home, request.param)
    return (
        request.param,
        _spans(home / "traces" / "traces.jsonl"),
        _logs(home / "logs" / "quality.jsonl"),
    )


def _by_event(
    records: list[dict], key_event: str, key_thread: str, key_run: str
) -> list[tuple[str, str, str]]:
    return [(r[key_event], r.get(key_thread), r.get(key_run)) for r in records]


def test_every_step_is_recorded_once_in_spans_and_logs(conversation):
    _, spans, logs = conversation
    expected = ["thread.create", *(event for event, _ in STEPS)]
    assert [s["name"] for s in spans] == expected
    assert [entry["event"] for entry in logs] == expected


def test_one_cli_session_across_processes(conversation):
    _, spans, logs = conversation
    assert len({s["session.id"] for s in spans}) == 1
    assert len({entry["session_id"] for entry in logs}) == 1
    assert {s["user.id"] for s in spans} == {"alice"}


def test_logs_are_correlated_with_their_spans(conversation):
    _, spans, logs = conversation
    for span, entry in zip(spans, logs, strict=True):
        assert (entry["trace_id"], entry["span_id"]) == (span["traceId"], span["spanId"])
        assert entry["thread_id"] == span.get("thread.id") == span.get("gen_ai.conversation.id")
        assert entry["run_id"] == span.get("run.id")


def test_continuity_per_strategy(conversation):
    strategy, spans, logs = conversation
    for records, ev, th, rn in (
        (spans, "name", "thread.id", "run.id"),
        (logs, "event", "thread_id", "run_id"),
    ):
        rows = _by_event(records, ev, th, rn)
        chat_threads = {t for e, t, _ in rows if not e.startswith("quality.")}
        quality = [(t, r) for e, t, r in rows if e in QUALITY_EVENTS]
        assert len(chat_threads) == 1, rows
        (chat_thread,) = chat_threads
        assert len(quality) == 4
        if strategy == "resume":
            assert all(t == chat_thread for t, _ in quality), rows
            first_run = next(r for e, _, r in rows if e == "chat.user_message")
            assert all(r == first_run for _, r in quality), rows
        elif strategy == "mint":
            assert len({t for t, _ in quality}) == 4 and chat_thread not in {t for t, _ in quality}
            assert len({r for _, r in quality}) == 4
        else:
            assert len({t for t, _ in quality}) == 1 and quality[0][0] != chat_thread
            assert len({r for _, r in quality}) == 1


def test_outcomes_name_the_strategy(conversation):
    strategy, spans, _ = conversation
    outcomes = {s["continuity.outcome"] for s in spans if s["name"] in QUALITY_EVENTS}
    expected = {"resume": {"resumed"}, "mint": {"minted"}, "default-session": {"defaulted"}}[
        strategy
    ]
    assert outcomes == expected
    assert {s["continuity.strategy"] for s in spans} == {strategy}


def _quality(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "QUALITY_"))}
    cmd = [sys.executable, "-m", "quality_cli", "--home", str(home), "--user", "zoe", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_cli_processes_started_at_once_share_one_session(tmp_path):
    """Each process claimed its own "persisted" CLI session (11 sessions from 20 at once);
    the first claim wins and every process uses it."""
    started = [_quality(tmp_path, "validate", f"Cut p99 by {n}0 ms by Friday") for n in range(8)]
    for process in started:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    sessions = {line["session_id"] for line in _logs(tmp_path / "logs" / "quality.jsonl")}
    assert len(sessions) == 1


def test_a_cli_process_sees_the_thread_another_one_just_made(tmp_path):
    """A process that started before another one's `thread new` committed resolves in
    the new thread (its cached session row put its reply in the old one and made the old
    one active again)."""
    from handlers.app import QualityApp
    from handlers.config import Settings

    settings = Settings.resolve(home=tmp_path, user="zoe")
    first = QualityApp.open(settings, shared_sessions=True)
    caller = first.sessions.cli_session("zoe")
    old = asyncio.run(first.handle(caller, {"type": "user_message", "payload": {"text": "hi"}}))
    first.close()
    late = QualityApp.open(settings, shared_sessions=True)  # started: reads the session
    late_caller = late.sessions.cli_session("zoe")
    other = QualityApp.open(settings, shared_sessions=True)  # `quality thread new`
    new = asyncio.run(other.handle(other.sessions.cli_session("zoe"), {"type": "create_thread"}))
    other.close()
    message = {"type": "validate_content", "payload": {"content": "Reduce workers to 4"}}
    reply = asyncio.run(late.handle(late_caller, message))
    late.close()
    assert late_caller.session_id == caller.session_id
    assert new["thread_id"] != old["thread_id"]
    assert reply["thread_id"] == new["thread_id"]
    after = QualityApp.open(settings, shared_sessions=True)
    assert (
        after.sessions.current(after.sessions.cli_session("zoe"), settings.strategy).thread_id
        == (new["thread_id"])
    )
    after.close()
