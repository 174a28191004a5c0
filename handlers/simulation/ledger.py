"""The continuity figures an audit of the simulation's files must find, kept as events happen.

The simulator knows every event the handlers record (one per reply, one per
broadcast received, plus the implicit thread transitions it can infer), and the
order in which they happened. `ContinuityLedger` applies DESIGN.md's continuity
semantics (with the auditor's default transition and run-start events) to that
stream, so the ground truth is counted independently of the exported files and
of the auditor that reads them. It lives in `handlers` because `handlers` may
not import `auditor` (DESIGN.md, "Architecture").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handlers import attributes as attr

#: The auditor's default transition events and run-start event (DESIGN.md, rules 5 and 8).
TRANSITIONS = frozenset({attr.THREAD_CREATE, attr.THREAD_SWITCH})
RUN_START = attr.CHAT_USER_MESSAGE


@dataclass(frozen=True, slots=True)
class EventTally:
    """Events of one name and how many of them were breaks."""

    events: int
    breaks: int


@dataclass(frozen=True, slots=True)
class ExpectedAudit:
    """What `quality audit` must report on ONE of the simulation's files: traces or logs.

    Both files hold the same events (one span and one log line per event), so
    each figure holds for either file audited alone; auditing both together
    counts every event twice (and then a minted thread has two events, so it is
    stray but no longer an orphan).

    - ``lines``: records in the file: ``events + missing_thread`` (the
      simulation writes no unparseable or unattributed record).
    - ``missing_thread``: events with a user but no thread (an error answered
      before the user had any thread under `resume`).
    - ``events``: events with a user and a thread: every reply, every broadcast
      received, and every implicit ``thread.create``/``thread.switch`` the
      handlers recorded on the way.
    - ``sessions``: distinct (user, session) pairs among the events.
    - ``threads``: distinct thread IDs among the events.
    - ``breaks``: non-transition events whose thread differs from their
      session's current thread (DESIGN.md rule 6); ``affected_sessions``:
      sessions with at least one break.
    - ``stray_threads``: threads all of whose events are breaks;
      ``orphan_threads``: stray threads with exactly one event.
    - ``run_breaks``: DESIGN.md rule 8, with ``chat.user_message`` as run start.
    - ``by_event``: per event name, events and breaks.
    """

    lines: int
    missing_thread: int
    events: int
    sessions: int
    threads: int
    breaks: int
    affected_sessions: int
    stray_threads: int
    orphan_threads: int
    run_breaks: int
    by_event: dict[str, EventTally] = field(default_factory=dict)

    @property
    def break_rate(self) -> float:
        """``breaks / events`` (0 when there are no events)."""
        return self.breaks / self.events if self.events else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The figures with the audit report's key names (``by_event`` as a list)."""
        return {
            "lines": self.lines,
            "missing_thread": self.missing_thread,
            "events": self.events,
            "sessions": self.sessions,
            "threads": self.threads,
            "breaks": self.breaks,
            "break_rate": self.break_rate,
            "affected_sessions": self.affected_sessions,
            "stray_threads": self.stray_threads,
            "orphan_threads": self.orphan_threads,
            "run_breaks": self.run_breaks,
            "by_event": [
                {"event": name, "events": tally.events, "breaks": tally.breaks}
                for name, tally in sorted(self.by_event.items())
            ],
        }


@dataclass(slots=True)
class _Session:
    thread: str
    run: str | None
    breaks: int = 0


class ContinuityLedger:
    """Applies the continuity rules to events fed in the order they happened."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._thread_events: dict[str, int] = {}
        self._thread_breaks: dict[str, int] = {}
        self._by_event: dict[str, list[int]] = {}
        self.missing_thread = 0
        self.run_breaks = 0

    def record(
        self, user_id: str, session_id: str, thread_id: str | None, run_id: str | None, event: str
    ) -> bool:
        """Add one event; returns whether it is a break."""
        if thread_id is None:
            self.missing_thread += 1
            return False
        tally = self._by_event.setdefault(event, [0, 0])
        tally[0] += 1
        self._thread_events[thread_id] = self._thread_events.get(thread_id, 0) + 1
        key = (user_id, session_id)
        session = self._sessions.get(key)
        if session is None:
            self._sessions[key] = _Session(thread_id, run_id)
            return False
        if event in TRANSITIONS:
            session.thread, session.run = thread_id, run_id
            return False
        if thread_id != session.thread:
            session.breaks += 1
            tally[1] += 1
            self._thread_breaks[thread_id] = self._thread_breaks.get(thread_id, 0) + 1
            return True
        if event == RUN_START:
            if run_id is not None:
                session.run = run_id
        elif run_id is not None:
            if session.run is None:
                session.run = run_id
            elif run_id != session.run:
                self.run_breaks += 1
        return False

    def figures(self) -> ExpectedAudit:
        """The figures so far."""
        stray = [t for t, n in self._thread_events.items() if self._thread_breaks.get(t, 0) == n]
        events = sum(self._thread_events.values())
        return ExpectedAudit(
            lines=events + self.missing_thread,
            missing_thread=self.missing_thread,
            events=events,
            sessions=len(self._sessions),
            threads=len(self._thread_events),
            breaks=sum(self._thread_breaks.values()),
            affected_sessions=sum(1 for s in self._sessions.values() if s.breaks),
            stray_threads=len(stray),
            orphan_threads=sum(1 for t in stray if self._thread_events[t] == 1),
            run_breaks=self.run_breaks,
            by_event={name: EventTally(n, b) for name, (n, b) in self._by_event.items()},
        )
