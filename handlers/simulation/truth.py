"""Ground truth: counting what the simulated clients sent and got back, and the events it implies.

Each exchange (a message and its reply) is one event in the sender's session,
with the thread and run of the reply; each broadcast received is one event in
the receiving session. Before a request's event the handlers may record an
implicit transition (DESIGN.md: `resume` "else a new one, recorded as
`thread.create`"; a named thread other than the active one is a switch). The
simulator cannot see those in a reply, so it infers them from the protocol:

- a reply resolved as in `resume` (chat and thread messages always; the
  governed messages under `resume`) whose thread the user never had before,
  other than a `create_thread`'s own, was preceded by an implicit
  ``thread.create``;
- a `user_message` naming a thread other than the session's active thread
  was preceded by an implicit ``thread.switch``.

The inferred transitions carry no run: the only request that can cause one
here is a `user_message`, whose own event (a run start) sets the run at once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from handlers import attributes as attr
from handlers.config import Strategy
from handlers.simulation.ledger import ContinuityLedger, ExpectedAudit
from handlers.simulation.traffic import Outgoing, Scenario

_BROADCAST_EVENTS = {"quality_update": attr.BROADCAST_UPDATE, "quality_alert": attr.BROADCAST_ALERT}


@dataclass
class GroundTruth:
    """Counters kept by the simulator from the replies and broadcasts it received."""

    sent: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    broadcasts: Counter[str] = field(default_factory=Counter)
    quality_requests: int = 0
    quality_interactions: int = 0
    quality_users: set[str] = field(default_factory=set)
    strategy_users: set[str] = field(default_factory=set)
    implicit_transitions: Counter[str] = field(default_factory=Counter)
    overall: ContinuityLedger = field(default_factory=ContinuityLedger)
    by_version: dict[str, ContinuityLedger] = field(default_factory=dict)
    _chat_threads: dict[str, set[str]] = field(default_factory=dict)
    _active: dict[str, str] = field(default_factory=dict)

    def _event(
        self,
        user_id: str,
        session_id: str,
        thread_id: str | None,
        run_id: str | None,
        event: str,
        version: str | None,
    ) -> None:
        self.overall.record(user_id, session_id, thread_id, run_id, event)
        if version is not None:
            ledger = self.by_version.setdefault(version, ContinuityLedger())
            ledger.record(user_id, session_id, thread_id, run_id, event)

    def exchange(
        self,
        user_id: str,
        session_id: str,
        out: Outgoing,
        reply: dict[str, Any],
        strategy: Strategy,
        version: str | None,
    ) -> None:
        """Count one message and its reply, and the events they imply (in order)."""
        self.sent[out.scenario.value] += 1
        self.replies[reply["type"]] += 1
        if reply["type"] == "error":
            self.errors[reply["code"]] += 1
        if out.quality:
            self.quality_requests += 1
            self.quality_users.add(user_id)
        if out.governed:
            self.quality_interactions += 1
            self.strategy_users.add(user_id)
        thread, run = reply.get("thread_id"), reply.get("run_id")
        as_resume = not out.governed or strategy is Strategy.RESUME
        if as_resume and thread is not None:
            known = self._chat_threads.setdefault(user_id, set())
            active = self._active.get(session_id)
            if (
                out.scenario is Scenario.USER_MESSAGE
                and out.thread_id is not None
                and active not in (None, out.thread_id)
            ):
                self._implicit(user_id, session_id, thread, attr.THREAD_SWITCH, version)
            elif thread not in known and out.event != attr.THREAD_CREATE:
                self._implicit(user_id, session_id, thread, attr.THREAD_CREATE, version)
            known.add(thread)
            self._active[session_id] = thread
        self._event(user_id, session_id, thread, run, out.event, version)

    def _implicit(
        self, user_id: str, session_id: str, thread: str, event: str, version: str | None
    ) -> None:
        self.implicit_transitions[event] += 1
        self._event(user_id, session_id, thread, None, event, version)

    def broadcast(
        self, user_id: str, session_id: str, message: dict[str, Any], version: str | None
    ) -> None:
        """Count one server-initiated message received by a session."""
        kind = message["type"]
        self.broadcasts[kind] += 1
        self.quality_interactions += 1
        self.strategy_users.add(user_id)
        event = _BROADCAST_EVENTS.get(kind, kind)
        self._event(
            user_id, session_id, message.get("thread_id"), message.get("run_id"), event, version
        )

    def expected(self) -> ExpectedAudit:
        """The audit figures of the whole simulation."""
        return self.overall.figures()

    def expected_by_version(self) -> dict[str, ExpectedAudit]:
        """The audit figures of each side of a rollout, each analysed on its own."""
        return {version: ledger.figures() for version, ledger in self.by_version.items()}
