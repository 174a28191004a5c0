"""What a simulation returns: where it wrote, what it sent and got, and the audit it expects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.config import Strategy
from handlers.simulation.config import SimulationConfig
from handlers.simulation.ledger import ExpectedAudit
from handlers.simulation.traffic import Scenario


@dataclass(frozen=True, slots=True)
class Exchange:
    """One message of the transcript (kept with ``keep_transcript``)."""

    index: int
    at: float  # simulated epoch seconds
    user_id: str
    session_id: str
    scenario: Scenario
    message: str
    #: The thread the client was in when it sent the message (None before its first reply).
    chat_thread: str | None
    reply: dict[str, Any]
    #: Server-initiated messages received while it was handled: (session_id, message).
    broadcasts: tuple[tuple[str, dict[str, Any]], ...]
    strategy: Strategy
    version: str | None


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """The ground truth of one simulation, counted by the simulator from what it got back.

    - ``messages``: messages sent (``config.total_messages``).
    - ``sent``: messages by `Scenario` value (what each message was meant to
      exercise: ``user_message``, ``switch_thread``, ``invalid_json``...).
    - ``replies``: replies by reply ``type`` (``error`` included).
    - ``errors``: ``error`` replies by ``code``.
    - ``broadcasts``: server-initiated messages received, by ``type``
      (``quality_update``, ``quality_alert``).
    - ``sessions``: sessions opened; ``reconnects``: sessions opened by a user
      who had one before (``users * (sessions_per_user - 1)``).
    - ``quality_requests``: messages of the four quality operations (bad
      payloads included); ``quality_users``: distinct users who sent one.
    - ``quality_interactions``: events whose context the continuity strategy
      chose: quality requests, messages the router could not route (invalid
      JSON, unknown or missing type) and broadcasts received. Under `mint`
      each gets its own minted thread, so ``expected.orphan_threads`` equals it.
    - ``strategy_users``: distinct users with at least one such event. Under
      `default-session` each has one shadow thread that only breaks, so
      ``expected.stray_threads`` equals it.
    - ``implicit_transitions``: ``thread.create``/``thread.switch`` events the
      handlers recorded on the way (a user's first message without a thread).
    - ``expected``: the figures an audit of the trace file, or of the log file,
      must report (see `ExpectedAudit`); under `resume` ``breaks`` is 0.
    - ``expected_by_version``: with a rollout, the same per side (``version``
      in logs, ``service.version`` on spans), each side analysed on its own.
    - ``export_failures``: spans or log lines that could not be written (the
      files then hold less than ``expected``).
    - ``digest``: SHA-256 of every message, reply and broadcast in order
      (equal for equal seeds and parameters).
    """

    config: SimulationConfig
    trace_path: Path
    log_path: Path
    db_path: Path
    messages: int
    sent: dict[str, int]
    replies: dict[str, int]
    errors: dict[str, int]
    broadcasts: dict[str, int]
    users: int
    sessions: int
    reconnects: int
    quality_requests: int
    quality_users: int
    quality_interactions: int
    strategy_users: int
    implicit_transitions: dict[str, int]
    expected: ExpectedAudit
    expected_by_version: dict[str, ExpectedAudit]
    simulated_start: float
    simulated_end: float
    elapsed_s: float
    export_failures: int
    digest: str
    transcript: tuple[Exchange, ...] = ()

    @property
    def broadcasts_received(self) -> int:
        """Server-initiated messages received, all types."""
        return sum(self.broadcasts.values())

    @property
    def messages_per_second(self) -> float:
        """Throughput: messages handled per wall-clock second."""
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the transcript is left out)."""

        def iso(epoch: float) -> str:
            return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")

        config = self.config
        return {
            "config": {
                "users": config.users,
                "sessions_per_user": config.sessions_per_user,
                "messages_per_session": config.messages,
                "seed": config.seed,
                "strategy": config.strategy.value,
                "rollout_at": config.rollout_at,
                "rollout_from": config.rollout_from.value if config.rollout_at else None,
                "versions": list(config.versions) if config.rollout_at else None,
                "concurrency": config.concurrency,
            },
            "files": {
                "traces": str(self.trace_path),
                "logs": str(self.log_path),
                "db": str(self.db_path),
            },
            "messages": self.messages,
            "sent": dict(sorted(self.sent.items())),
            "replies": dict(sorted(self.replies.items())),
            "errors": dict(sorted(self.errors.items())),
            "broadcasts": dict(sorted(self.broadcasts.items())),
            "users": self.users,
            "sessions": self.sessions,
            "reconnects": self.reconnects,
            "quality_requests": self.quality_requests,
            "quality_users": self.quality_users,
            "quality_interactions": self.quality_interactions,
            "strategy_users": self.strategy_users,
            "implicit_transitions": dict(sorted(self.implicit_transitions.items())),
            "expected": self.expected.to_dict(),
            "expected_by_version": {
                version: figures.to_dict()
                for version, figures in sorted(self.expected_by_version.items())
            },
            "simulated_start": iso(self.simulated_start),
            "simulated_end": iso(self.simulated_end),
            "elapsed_s": round(self.elapsed_s, 3),
            "messages_per_second": round(self.messages_per_second, 1),
            "export_failures": self.export_failures,
            "digest": self.digest,
        }
