"""The state store behind the session manager: a small interface, SQLite by default.

Every method is synchronous and short; the interface is what a Redis store
implements too. Times are epoch seconds (float, UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from handlers.reporting import ValidationRecord


class ThreadKind(StrEnum):
    """A chat thread, or the per-user shadow thread of the `default-session` strategy."""

    CHAT = "chat"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    thread_id: str
    user_id: str
    title: str | None
    kind: ThreadKind
    current_run_id: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: str
    user_id: str
    active_thread_id: str | None
    last_seen: float
    active_run_id: str | None = None  # the session's current run in its active thread


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    thread_id: str
    user_id: str
    started_at: float


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: str
    threshold: float | None
    created_at: float


class Store(Protocol):
    """What the session manager and the handlers need from persistent state."""

    def get_session(self, session_id: str) -> SessionRecord | None: ...
    def save_session(self, session: SessionRecord) -> None: ...
    def get_thread(self, thread_id: str) -> ThreadRecord | None: ...
    def save_thread(self, thread: ThreadRecord) -> None: ...
    def latest_thread(self, user_id: str) -> ThreadRecord | None:
        """The user's most recently active chat thread (shadow threads excluded)."""
        ...

    def list_threads(self, user_id: str) -> Sequence[ThreadRecord]: ...
    def add_run(self, run: RunRecord) -> None: ...
    def get_run(self, run_id: str) -> RunRecord | None: ...
    def add_validation(self, record: ValidationRecord) -> None: ...
    def validations(self, user_id: str, since: float) -> Sequence[ValidationRecord]: ...
    def get_subscription(self, user_id: str) -> Subscription | None: ...
    def save_subscription(self, subscription: Subscription) -> None: ...
    def delete_subscription(self, user_id: str) -> bool: ...
    def get_cli_session(self, user_id: str) -> str | None: ...
    def claim_cli_session(self, user_id: str, session_id: str, replacing: str | None) -> str:
        """Make ``session_id`` the user's CLI session if it has none (``replacing`` None) or
        if it is still ``replacing``; returns the user's CLI session after the claim (another
        process' when it claimed first)."""
        ...

    def flush(self) -> None:
        """Make every write so far durable."""
        ...

    def close(self) -> None: ...
