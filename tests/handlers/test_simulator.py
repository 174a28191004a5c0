"""End-to-end: the simulator drives the real handlers and its ground truth matches the replies."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from handlers.config import Strategy
from handlers.errors import ConfigError
from handlers.simulation import Scenario, SimulationConfig, SimulationResult, simulate
from handlers.simulation.traffic import GOVERNED_SCENARIOS

SMALL = {"users": 6, "sessions_per_user": 2, "messages": 25, "keep_transcript": True}


def run(tmp_path: Path, name: str = "out", **kwargs: object) -> SimulationResult:
    return simulate(SimulationConfig(out=tmp_path / name, **{**SMALL, **kwargs}))  # type: ignore[arg-type]


def spans(path: Path) -> list[dict]:
    found = []
    for line in path.read_text().splitlines():
        for resource_spans in orjson.loads(line)["resourceSpans"]:
            resource = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
            for scope in resource_spans["scopeSpans"]:
                for span in scope["spans"]:
                    span["resource"] = resource
                    found.append(span)
    return found


def log_lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_text().splitlines()]


def test_same_seed_gives_identical_replies_and_ids(tmp_path: Path) -> None:
    first, second = run(tmp_path, "a", seed=7), run(tmp_path, "b", seed=7)
    assert first.digest == second.digest
    assert [e.reply for e in first.transcript] == [e.reply for e in second.transcript]
    assert [e.session_id for e in first.transcript] == [e.session_id for e in second.transcript]


def test_another_seed_gives_other_traffic(tmp_path: Path) -> None:
    assert run(tmp_path, "a", seed=7).digest != run(tmp_path, "b", seed=8).digest


def test_same_seed_is_identical_across_processes(tmp_path: Path) -> None:
    """String hashing is randomised per process; the traffic must not depend on it."""
    code = (
        "import sys; from handlers.simulation import SimulationConfig, simulate; "
        "print(simulate(SimulationConfig(out=sys.argv[1], users=3, messages=20)).digest)"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / hash_seed)],
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).parents[2],
            check=True,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_default_mix_exercises_every_kind_of_message(tmp_path: Path) -> None:
    result = simulate(SimulationConfig(out=tmp_path))
    assert set(result.sent) == {s.value for s in Scenario}
    assert sum(result.sent.values()) == result.messages == 40 * 2 * 30
    assert result.reconnects == 40
    assert result.replies["thread_switched"] > 0
    assert set(result.errors) >= {
        "invalid_json",
        "unknown_message_type",
        "missing_type",
        "invalid_payload",
        "thread_not_found",
        "missing_thread_id",
    }
    assert result.broadcasts["quality_update"] > 0
    assert result.broadcasts["quality_alert"] > 0
    assert result.export_failures == 0


def test_messages_interleave_across_sessions(tmp_path: Path) -> None:
    transcript = run(tmp_path).transcript
    switches = sum(a.session_id != b.session_id for a, b in itertools.pairwise(transcript))
    assert switches > len(transcript) // 2


def test_every_session_opens_with_a_chat_message(tmp_path: Path) -> None:
    seen: set[str] = set()
    for exchange in run(tmp_path).transcript:
        if exchange.session_id not in seen:
            seen.add(exchange.session_id)
            assert exchange.scenario in {Scenario.USER_MESSAGE, Scenario.CREATE_THREAD}


def test_reconnect_goes_on_in_the_users_thread(tmp_path: Path) -> None:
    """The first reply of a user's second session is in the thread the first session ended in."""
    last_thread: dict[str, str] = {}
    sessions: dict[str, str] = {}
    for exchange in run(tmp_path).transcript:
        user = exchange.user_id
        if sessions.get(user) not in (None, exchange.session_id):
            assert exchange.reply["thread_id"] == last_thread[user]
        sessions[user] = exchange.session_id
        if exchange.reply["type"] in {"agent_reply", "thread_created", "thread_switched"}:
            last_thread[user] = exchange.reply["thread_id"]


def test_progress_reports_every_message(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    simulate(
        SimulationConfig(out=tmp_path, users=2, messages=5),
        lambda done, total: calls.append((done, total)),
    )
    assert calls == [(n, 20) for n in range(1, 21)]


def governed(result: SimulationResult) -> list:
    return [e for e in result.transcript if e.scenario in GOVERNED_SCENARIOS]


def test_resume_answers_quality_operations_in_the_chat_thread(tmp_path: Path) -> None:
    result = run(tmp_path, strategy="resume")
    for exchange in governed(result):
        assert exchange.reply["thread_id"] == exchange.chat_thread
    for exchange in result.transcript:
        for session_id, message in exchange.broadcasts:
            assert session_id == exchange.session_id  # a user's sessions follow one another
            assert message["thread_id"] == exchange.chat_thread
    assert result.expected.breaks == 0
    assert result.expected.stray_threads == 0
    assert result.expected.orphan_threads == 0


def test_mint_gives_one_orphan_thread_per_quality_interaction(tmp_path: Path) -> None:
    result = run(tmp_path, strategy="mint")
    threads: dict[str, int] = defaultdict(int)
    for exchange in result.transcript:
        threads[exchange.reply["thread_id"]] += 1
        for _, message in exchange.broadcasts:
            threads[message["thread_id"]] += 1
    minted = [e.reply["thread_id"] for e in governed(result)]
    minted += [m["thread_id"] for e in result.transcript for _, m in e.broadcasts]
    assert len(minted) == result.quality_interactions
    assert all(threads[thread] == 1 for thread in minted)
    assert result.expected.orphan_threads == result.quality_interactions
    assert result.expected.stray_threads == result.quality_interactions
    assert result.expected.breaks == result.quality_interactions


def test_default_session_gives_one_shadow_thread_per_user(tmp_path: Path) -> None:
    result = run(tmp_path, strategy="default-session")
    chat_threads = {e.reply["thread_id"] for e in result.transcript} - {
        e.reply["thread_id"] for e in governed(result)
    }
    shadows: dict[str, set[str]] = defaultdict(set)
    for exchange in governed(result):
        shadows[exchange.user_id].add(exchange.reply["thread_id"])
    for exchange in result.transcript:
        for _, message in exchange.broadcasts:
            shadows[exchange.user_id].add(message["thread_id"])
    assert all(len(threads) == 1 for threads in shadows.values())
    assert not chat_threads & set().union(*shadows.values())
    assert len(shadows) == result.strategy_users
    assert result.expected.stray_threads == result.strategy_users
    assert result.expected.breaks == result.quality_interactions


def test_files_hold_one_span_and_one_log_line_per_expected_record(tmp_path: Path) -> None:
    result = run(tmp_path, strategy="mint")
    assert len(spans(result.trace_path)) == result.expected.lines
    assert len(log_lines(result.log_path)) == result.expected.lines
    assert result.db_path.exists()


def test_telemetry_follows_the_simulated_clock(tmp_path: Path) -> None:
    result = run(tmp_path)
    stamps = [
        datetime.fromisoformat(line["timestamp"]).timestamp() for line in log_lines(result.log_path)
    ]
    assert stamps == sorted(stamps)
    assert result.simulated_start < stamps[0] and stamps[-1] < result.simulated_end + 1
    assert result.simulated_end - result.simulated_start > 10 * 60  # minutes of traffic
    starts = [int(span["startTimeUnixNano"]) / 1e9 for span in spans(result.trace_path)]
    assert min(starts) > result.simulated_start and max(starts) < result.simulated_end + 1


def test_rollout_writes_both_versions_into_the_same_files(tmp_path: Path) -> None:
    result = run(tmp_path, strategy="resume", rollout_at=0.4)
    by_version: dict[str, list[int]] = defaultdict(list)
    for span in spans(result.trace_path):
        version = span["resource"]["service.version"]["stringValue"]
        by_version[version].append(int(span["startTimeUnixNano"]))
    lines = log_lines(result.log_path)
    assert {line["version"] for line in lines} == {"1.0.0", "1.1.0"}
    assert set(by_version) == {"1.0.0", "1.1.0"}
    assert max(by_version["1.0.0"]) < min(by_version["1.1.0"])
    for version, figures in result.expected_by_version.items():
        assert len(by_version[version]) == figures.lines
        assert sum(line["version"] == version for line in lines) == figures.lines
    assert result.expected_by_version["1.1.0"].breaks == 0
    assert result.expected_by_version["1.0.0"].orphan_threads > 0
    strategies = [e.strategy for e in result.transcript]
    boundary = round(0.4 * result.messages)
    assert set(strategies[:boundary]) == {Strategy.MINT}
    assert set(strategies[boundary:]) == {Strategy.RESUME}


def test_rollout_sides_add_up_to_the_whole(tmp_path: Path) -> None:
    result = run(tmp_path, strategy="resume", rollout_at=0.5)
    sides = result.expected_by_version.values()
    assert sum(f.events for f in sides) == result.expected.events
    assert sum(f.breaks for f in sides) == result.expected.breaks


def test_refuses_an_output_directory_with_earlier_files(tmp_path: Path) -> None:
    run(tmp_path)
    with pytest.raises(ConfigError) as caught:
        run(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'out'} already holds quality.db, traces/traces.jsonl, logs/quality.jsonl;"
        " choose an empty directory or overwrite it (--overwrite)"
    )


def test_overwrite_replaces_the_earlier_files(tmp_path: Path) -> None:
    run(tmp_path, seed=3)
    result = run(tmp_path, seed=4, overwrite=True)
    assert len(log_lines(result.log_path)) == result.expected.lines
    assert len(spans(result.trace_path)) == result.expected.lines


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": 0}, "users must be at least 1, got 0"),
        ({"messages": -1}, "messages must be at least 1, got -1"),
        ({"rollout_at": 1.0}, "between 0 and 1 (exclusive), got 1.0"),
        ({"rollout_at": 0.001, "users": 1, "messages": 10}, "leaves one side empty"),
        ({"strategy": "sometimes"}, "unknown strategy 'sometimes'"),
        ({"step_s": (3.0, 1.0)}, "0 < min <= max"),
        # a typo must not build 10**20 users before anything says no
        ({"users": 10**20}, "is more than the 10,000,000 a simulation sends"),
    ],
)
def test_rejects_bad_parameters(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SimulationConfig(out=tmp_path, **kwargs)
    assert message in str(caught.value)
