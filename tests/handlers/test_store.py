"""Tests for handlers/store/sqlite.py: round trips, commit batching, thread and validation queries."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from handlers.reporting import ValidationRecord
from handlers.store import RunRecord, SessionRecord, Subscription, ThreadKind, ThreadRecord
from handlers.store.sqlite import SqliteStore
from handlers.testing import FakeClock


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "quality.db")
    yield s
    s.close()


def _thread(thread_id, user="alice", kind=ThreadKind.CHAT, updated=100.0, run=None, title=None):
    return ThreadRecord(thread_id, user, title, kind, run, 50.0, updated)


def _validation(user, at, score=0.5, thread="t1"):
    return ValidationRecord(
        user_id=user,
        thread_id=thread,
        run_id="r1",
        agent_name="bot",
        content_type="general",
        score=score,
        passed=score >= 0.6,
        issues=("too vague", "no numbers"),
        created_at=datetime.fromtimestamp(at, UTC),
    )


def test_thread_round_trip_and_update(store):
    thread = _thread("t1", title="Latency", run="r1")
    store.save_thread(thread)
    assert store.get_thread("t1") == thread
    moved = ThreadRecord("t1", "alice", "Latency v2", ThreadKind.CHAT, "r2", 50.0, 200.0)
    store.save_thread(moved)
    assert store.get_thread("t1") == moved
    assert store.get_thread("missing") is None


def test_update_never_changes_a_threads_owner_or_kind(store):
    store.save_thread(_thread("t1", user="alice"))
    store.save_thread(_thread("t1", user="mallory", kind=ThreadKind.DEFAULT, updated=300.0))
    saved = store.get_thread("t1")
    assert saved is not None
    assert (saved.user_id, saved.kind, saved.updated_at) == ("alice", ThreadKind.CHAT, 300.0)


def test_session_round_trip_and_update(store):
    store.save_session(SessionRecord("s1", "alice", None, 10.0))
    assert store.get_session("s1") == SessionRecord("s1", "alice", None, 10.0)
    store.save_session(SessionRecord("s1", "alice", "t1", 20.0))
    assert store.get_session("s1") == SessionRecord("s1", "alice", "t1", 20.0)
    assert store.get_session("s2") is None


def test_run_round_trip(store):
    store.add_run(RunRecord("r1", "t1", "alice", 5.0))
    assert store.get_run("r1") == RunRecord("r1", "t1", "alice", 5.0)
    assert store.get_run("r2") is None


def test_cli_session_claims_are_per_user_and_first_come(store):
    assert store.get_cli_session("alice") is None
    assert store.claim_cli_session("alice", "s1", replacing=None) == "s1"
    assert store.claim_cli_session("bob", "s2", replacing=None) == "s2"
    assert store.claim_cli_session("alice", "s3", replacing=None) == "s1"  # came second
    assert store.claim_cli_session("alice", "s4", replacing="s9") == "s1"  # s1 is no s9
    assert store.claim_cli_session("alice", "s5", replacing="s1") == "s5"  # expired s1
    assert (store.get_cli_session("alice"), store.get_cli_session("bob")) == ("s5", "s2")


def test_a_store_of_shared_sessions_reads_what_another_process_wrote(tmp_path):
    """The CLI's processes share a session: a cached row hid another one's `thread new`."""
    shared = SqliteStore(tmp_path / "q.db", cache_sessions=False)
    other = SqliteStore(tmp_path / "q.db")
    other.save_session(SessionRecord("s1", "alice", "t1", 1.0))
    other.flush()
    assert shared.get_session("s1") == SessionRecord("s1", "alice", "t1", 1.0)
    other.save_session(SessionRecord("s1", "alice", "t2", 2.0))
    other.flush()
    assert shared.get_session("s1") == SessionRecord("s1", "alice", "t2", 2.0)
    other.close()
    shared.close()


def test_subscription_round_trip_keeps_creation_time(store):
    store.save_subscription(Subscription("alice", 0.5, 1.0))
    store.save_subscription(Subscription("alice", None, 2.0))
    assert store.get_subscription("alice") == Subscription("alice", None, 1.0)
    assert store.delete_subscription("alice") is True
    assert store.delete_subscription("alice") is False
    assert store.get_subscription("alice") is None


def test_latest_thread_is_the_most_recently_updated_chat_thread(store):
    store.save_thread(_thread("old", updated=100.0))
    store.save_thread(_thread("new", updated=200.0))
    store.save_thread(_thread("bobs", user="bob", updated=300.0))
    latest = store.latest_thread("alice")
    assert latest is not None and latest.thread_id == "new"
    assert store.latest_thread("carol") is None


def test_latest_thread_breaks_ties_by_insertion_order(store):
    store.save_thread(_thread("first", updated=100.0))
    store.save_thread(_thread("second", updated=100.0))
    latest = store.latest_thread("alice")
    assert latest is not None and latest.thread_id == "second"


def test_latest_thread_excludes_shadow_threads(store):
    store.save_thread(_thread("chat", updated=100.0))
    store.save_thread(_thread("shadow", kind=ThreadKind.DEFAULT, updated=999.0))
    latest = store.latest_thread("alice")
    assert latest is not None and latest.thread_id == "chat"
    only_shadow = _thread("shadow2", user="bob", kind=ThreadKind.DEFAULT)
    store.save_thread(only_shadow)
    assert store.latest_thread("bob") is None


def test_list_threads_is_most_recent_first_and_only_the_users(store):
    store.save_thread(_thread("a", updated=100.0))
    store.save_thread(_thread("b", updated=300.0))
    store.save_thread(_thread("c", kind=ThreadKind.DEFAULT, updated=200.0))
    store.save_thread(_thread("x", user="bob", updated=400.0))
    assert [t.thread_id for t in store.list_threads("alice")] == ["b", "c", "a"]


def test_validations_round_trip(store):
    record = _validation("alice", 1_000.0, score=0.25)
    store.add_validation(record)
    assert store.validations("alice", 0.0) == [record]


def test_validations_window_is_inclusive_ordered_and_per_user(store):
    for at in (300.0, 100.0, 200.0, 99.0):
        store.add_validation(_validation("alice", at, score=at / 1000))
    store.add_validation(_validation("bob", 250.0))
    got = store.validations("alice", 100.0)
    assert [r.created_at.timestamp() for r in got] == [100.0, 200.0, 300.0]
    assert {r.user_id for r in got} == {"alice"}
    assert store.validations("alice", 301.0) == []


def _other_connection_threads(path) -> list[str]:
    db = sqlite3.connect(str(path))
    try:
        return [row[0] for row in db.execute("SELECT thread_id FROM threads")]
    finally:
        db.close()


def test_writes_are_batched_until_flush(tmp_path):
    """A second connection sees nothing before `flush()` and everything after it."""
    path = tmp_path / "quality.db"
    clock = FakeClock(0.0)
    store = SqliteStore(path, commit_interval_s=10.0, clock=clock)
    try:
        store.save_thread(_thread("t1"))
        store.save_thread(_thread("t2"))
        assert store.get_thread("t1") is not None  # the writer reads its own transaction
        assert _other_connection_threads(path) == []
        store.flush()
        assert sorted(_other_connection_threads(path)) == ["t1", "t2"]
    finally:
        store.close()


def test_a_write_after_the_commit_interval_commits_the_batch(tmp_path):
    path = tmp_path / "quality.db"
    clock = FakeClock(0.0)
    store = SqliteStore(path, commit_interval_s=10.0, clock=clock)
    try:
        store.save_thread(_thread("t1"))
        assert _other_connection_threads(path) == []
        clock.advance(10.0)
        store.save_thread(_thread("t2"))
        assert sorted(_other_connection_threads(path)) == ["t1", "t2"]
    finally:
        store.close()


def test_close_commits_and_a_reopened_store_sees_everything(tmp_path):
    path = tmp_path / "quality.db"
    store = SqliteStore(path, commit_interval_s=3600.0, clock=FakeClock(0.0))
    store.save_thread(_thread("t1"))
    store.save_session(SessionRecord("s1", "alice", "t1", 1.0))
    store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.get_thread("t1") == _thread("t1")
        assert reopened.get_session("s1") == SessionRecord("s1", "alice", "t1", 1.0)
    finally:
        reopened.close()


def test_memory_store_works(tmp_path):
    store = SqliteStore(":memory:")
    try:
        store.save_thread(_thread("t1"))
        assert store.latest_thread("alice") == _thread("t1")
    finally:
        store.close()


def test_a_database_made_before_sessions_kept_their_run_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE sessions (session_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
        " active_thread_id TEXT, last_seen REAL NOT NULL)"
    )
    old.execute("INSERT INTO sessions VALUES ('s1', 'alice', 't1', 1.0)")
    old.commit()
    old.close()
    store = SqliteStore(path)
    assert store.get_session("s1") == SessionRecord("s1", "alice", "t1", 1.0, None)
    store.save_session(SessionRecord("s1", "alice", "t1", 2.0, "r1"))
    store.close()
    again = SqliteStore(path)  # migrating twice is harmless
    assert again.get_session("s1") == SessionRecord("s1", "alice", "t1", 2.0, "r1")
    again.close()
