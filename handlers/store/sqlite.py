"""SQLite store: the embedded default (`QUALITY_HOME/quality.db`).

Writes go into one open transaction that is committed by `flush()` or once
``commit_interval_s`` has passed since the last commit, so a busy server pays
for a commit a few times a second rather than once per message. CLI processes
flush before they exit. WAL mode lets readers in other processes see every
committed write.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson

from handlers.reporting import ValidationRecord
from handlers.store import RunRecord, SessionRecord, Subscription, ThreadKind, ThreadRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT,
    kind TEXT NOT NULL DEFAULT 'chat',
    current_run_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS threads_by_user ON threads (user_id, kind, updated_at);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    started_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    active_thread_id TEXT,
    last_seen REAL NOT NULL,
    active_run_id TEXT
);
CREATE TABLE IF NOT EXISTS cli_sessions (
    user_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS validations (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    thread_id TEXT,
    run_id TEXT,
    agent_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    score REAL NOT NULL,
    passed INTEGER NOT NULL,
    issues TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS validations_by_user ON validations (user_id, created_at);
CREATE TABLE IF NOT EXISTS subscriptions (
    user_id TEXT PRIMARY KEY,
    threshold REAL,
    created_at REAL NOT NULL
);
"""

_SESSION_CACHE_SIZE = 100_000
_VALIDATION_CACHE_USERS = 10_000

_THREAD_COLUMNS = "thread_id, user_id, title, kind, current_run_id, created_at, updated_at"


def _validation(row: tuple) -> ValidationRecord:
    return ValidationRecord(
        user_id=row[1],
        thread_id=row[2],
        run_id=row[3],
        agent_name=row[4],
        content_type=row[5],
        score=row[6],
        passed=bool(row[7]),
        issues=tuple(orjson.loads(row[8])),
        created_at=datetime.fromtimestamp(row[9], UTC),
    )


def _thread(row: tuple) -> ThreadRecord:
    return ThreadRecord(row[0], row[1], row[2], ThreadKind(row[3]), row[4], row[5], row[6])


class SqliteStore:
    """The `Store` over one SQLite file (or ``":memory:"``)."""

    def __init__(
        self,
        path: Path | str,
        *,
        commit_interval_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        cache_sessions: bool = True,
    ) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._lock = threading.RLock()
        self._clock = clock
        self._commit_interval_s = commit_interval_s
        self._in_tx = False
        self._last_commit = clock()
        # Sessions are read on every message and written by the process that serves them
        # (a server's session is served by one process at a time), so they are cached
        # write-through; not for the CLI, whose processes share one session per user (a
        # cached row undid another process' `thread new`).
        self._cache_sessions = cache_sessions
        self._sessions: dict[str, SessionRecord | None] = {}
        # user -> (highest validation id read, that user's validations in time order)
        self._validations: dict[str, tuple[int, list[ValidationRecord]]] = {}

    def _migrate(self) -> None:
        """Columns added since a database was made: added to it (idempotent, and safe when
        two processes open an old database at once)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(sessions)")}
        if "active_run_id" not in columns:
            try:
                self._db.execute("ALTER TABLE sessions ADD COLUMN active_run_id TEXT")
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise

    # -- transaction batching -------------------------------------------------
    def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        with self._lock:
            if not self._in_tx:
                self._db.execute("BEGIN")
                self._in_tx = True
            cursor = self._db.execute(sql, params)
            if self._clock() - self._last_commit >= self._commit_interval_s:
                self._commit()
            return cursor

    def _commit(self) -> None:
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False
        self._last_commit = self._clock()

    def flush(self) -> None:
        with self._lock:
            self._commit()

    def close(self) -> None:
        with self._lock:
            self._commit()
            self._db.close()

    def _one(self, sql: str, params: Sequence[object]) -> tuple | None:
        with self._lock:
            row: tuple | None = self._db.execute(sql, params).fetchone()
            return row

    # -- sessions -------------------------------------------------------------
    def get_session(self, session_id: str) -> SessionRecord | None:
        if session_id in self._sessions:
            return self._sessions[session_id]
        row = self._one(
            "SELECT session_id, user_id, active_thread_id, last_seen, active_run_id"
            " FROM sessions WHERE session_id = ?",
            (session_id,),
        )
        record = SessionRecord(*row) if row else None
        self._cache_session(session_id, record)
        return record

    def _cache_session(self, session_id: str, record: SessionRecord | None) -> None:
        if not self._cache_sessions:
            return
        if len(self._sessions) >= _SESSION_CACHE_SIZE:
            del self._sessions[next(iter(self._sessions))]  # the oldest entry
        self._sessions[session_id] = record

    def save_session(self, session: SessionRecord) -> None:
        self._sessions.pop(session.session_id, None)
        self._cache_session(session.session_id, session)
        self._write(
            "INSERT INTO sessions (session_id, user_id, active_thread_id, last_seen,"
            " active_run_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
            " user_id = excluded.user_id, active_thread_id = excluded.active_thread_id,"
            " last_seen = excluded.last_seen, active_run_id = excluded.active_run_id",
            (
                session.session_id,
                session.user_id,
                session.active_thread_id,
                session.last_seen,
                session.active_run_id,
            ),
        )

    def get_cli_session(self, user_id: str) -> str | None:
        row = self._one("SELECT session_id FROM cli_sessions WHERE user_id = ?", (user_id,))
        return row[0] if row else None

    def claim_cli_session(self, user_id: str, session_id: str, replacing: str | None) -> str:
        # compare-and-set under SQLite's write lock: of processes claiming at once, the
        # first write wins and every other one reads it back
        if replacing is not None:
            self._write(
                "UPDATE cli_sessions SET session_id = ? WHERE user_id = ? AND session_id = ?",
                (session_id, user_id, replacing),
            )
        self._write(
            "INSERT INTO cli_sessions (user_id, session_id) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO NOTHING",
            (user_id, session_id),
        )
        row = self._one("SELECT session_id FROM cli_sessions WHERE user_id = ?", (user_id,))
        assert row is not None  # inserted above when missing
        return str(row[0])

    # -- threads and runs -----------------------------------------------------
    def get_thread(self, thread_id: str) -> ThreadRecord | None:
        row = self._one(f"SELECT {_THREAD_COLUMNS} FROM threads WHERE thread_id = ?", (thread_id,))
        return _thread(row) if row else None

    def save_thread(self, thread: ThreadRecord) -> None:
        self._write(
            f"INSERT INTO threads ({_THREAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (thread_id) DO UPDATE SET title = excluded.title,"
            " current_run_id = excluded.current_run_id, updated_at = excluded.updated_at",
            (
                thread.thread_id,
                thread.user_id,
                thread.title,
                thread.kind.value,
                thread.current_run_id,
                thread.created_at,
                thread.updated_at,
            ),
        )

    def latest_thread(self, user_id: str) -> ThreadRecord | None:
        row = self._one(
            f"SELECT {_THREAD_COLUMNS} FROM threads WHERE user_id = ? AND kind = 'chat'"
            " ORDER BY updated_at DESC, rowid DESC LIMIT 1",
            (user_id,),
        )
        return _thread(row) if row else None

    def list_threads(self, user_id: str) -> list[ThreadRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_THREAD_COLUMNS} FROM threads WHERE user_id = ?"
                " ORDER BY updated_at DESC, rowid DESC",
                (user_id,),
            ).fetchall()
        return [_thread(row) for row in rows]

    def add_run(self, run: RunRecord) -> None:
        self._write(
            "INSERT INTO runs (run_id, thread_id, user_id, started_at) VALUES (?, ?, ?, ?)",
            (run.run_id, run.thread_id, run.user_id, run.started_at),
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._one(
            "SELECT run_id, thread_id, user_id, started_at FROM runs WHERE run_id = ?", (run_id,)
        )
        return RunRecord(*row) if row else None

    # -- validations ----------------------------------------------------------
    def add_validation(self, record: ValidationRecord) -> None:
        self._write(
            "INSERT INTO validations (user_id, thread_id, run_id, agent_name, content_type,"
            " score, passed, issues, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.user_id,
                record.thread_id,
                record.run_id,
                record.agent_name,
                record.content_type,
                record.score,
                int(record.passed),
                orjson.dumps(record.issues).decode(),
                record.created_at.timestamp(),
            ),
        )

    def validations(self, user_id: str, since: float) -> list[ValidationRecord]:
        """The user's validations created at or after ``since``, oldest first.

        Metrics and reports read these on every request, so each user's records are
        kept in memory and topped up with the rows added since (by any process: the
        query asks for ids above the last one seen), instead of re-reading them all.
        """
        with self._lock:
            last_id, cached = self._validations.pop(user_id, (0, []))
            rows = self._db.execute(
                "SELECT id, user_id, thread_id, run_id, agent_name, content_type, score, passed,"
                " issues, created_at FROM validations WHERE user_id = ? AND id > ? ORDER BY id",
                (user_id, last_id),
            ).fetchall()
            if rows:
                last_id = rows[-1][0]
                cached = cached + [_validation(row) for row in rows]
                cached.sort(key=lambda record: record.created_at)  # stable; usually sorted already
            if len(self._validations) >= _VALIDATION_CACHE_USERS:
                del self._validations[next(iter(self._validations))]  # least recently read user
            self._validations[user_id] = (last_id, cached)
        cutoff = datetime.fromtimestamp(since, UTC)
        start = bisect.bisect_left(cached, cutoff, key=lambda record: record.created_at)
        return cached[start:]

    # -- subscriptions --------------------------------------------------------
    def get_subscription(self, user_id: str) -> Subscription | None:
        row = self._one(
            "SELECT user_id, threshold, created_at FROM subscriptions WHERE user_id = ?",
            (user_id,),
        )
        return Subscription(*row) if row else None

    def save_subscription(self, subscription: Subscription) -> None:
        self._write(
            "INSERT INTO subscriptions (user_id, threshold, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET threshold = excluded.threshold",
            (subscription.user_id, subscription.threshold, subscription.created_at),
        )

    def delete_subscription(self, user_id: str) -> bool:
        return self._write("DELETE FROM subscriptions WHERE user_id = ?", (user_id,)).rowcount > 0
