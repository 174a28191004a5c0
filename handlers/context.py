"""The execution context a message resolves to, and how it was resolved."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.config import Strategy


class Outcome(StrEnum):
    """How the context's thread was found (`continuity.outcome`)."""

    RESUMED = "resumed"  # the thread the user is in (named by the client, active, or most recent)
    CREATED = "created"  # a new thread
    SWITCHED = "switched"  # the session moved to another of the user's threads
    MINTED = "minted"  # `mint` strategy: fresh IDs, an isolated context
    DEFAULTED = "defaulted"  # `default-session` strategy: the per-user shadow thread


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a message: from the authenticated connection, never from the message."""

    user_id: str
    session_id: str


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """The resolved conversation position of one request. Passed along, never stored on handlers."""

    user_id: str
    session_id: str
    thread_id: str | None
    run_id: str | None
    outcome: Outcome
    strategy: Strategy

    @property
    def caller(self) -> Caller:
        return Caller(self.user_id, self.session_id)


@dataclass(frozen=True, slots=True)
class Resolution:
    """A resolved context plus the implicit transitions it caused (e.g. a thread created on the way).

    ``transitions`` are (event name, context) pairs the router records as their
    own spans and log lines before the request's span, so that an audit sees
    the thread change where it happened.
    """

    context: ExecutionContext
    transitions: tuple[tuple[str, ExecutionContext], ...] = ()
