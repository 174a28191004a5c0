"""The parameters of one simulation, checked when built."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from handlers.config import Strategy, parse_strategy
from handlers.errors import ConfigError

#: Simulated traffic starts here unless told otherwise (a Monday morning, UTC).
DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()
DEFAULT_VERSIONS = ("1.0.0", "1.1.0")


#: The most messages one simulation sends (about 20 minutes at 8,000 messages a second):
#: a typo like --users 10000000000 is refused before anything is built.
MAX_MESSAGES = 10_000_000


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """What to simulate and where to write it.

    ``messages`` is per session: the simulation sends exactly
    ``users * sessions_per_user * messages`` messages. A user's sessions follow
    one another (the second is a reconnect); up to ``concurrency`` users are
    connected at once and their messages interleave in a seeded random order.
    The simulated clock starts at ``start`` (epoch seconds) and moves a random
    ``step_s`` (min, max) seconds per message.

    ``rollout_at`` (a fraction in (0, 1)) runs the first part of the messages
    under ``rollout_from`` as ``versions[0]`` and the rest under ``strategy`` as
    ``versions[1]``; without it everything runs under ``strategy`` and nothing is
    tagged with a version. The same ``seed`` gives the same messages, replies
    and IDs. ``out`` receives ``traces/traces.jsonl``, ``logs/quality.jsonl`` and
    ``quality.db``; it must not hold them already unless ``overwrite``.
    """

    out: Path
    users: int = 40
    sessions_per_user: int = 2
    messages: int = 30
    seed: int = 1
    strategy: Strategy = Strategy.RESUME
    rollout_at: float | None = None
    rollout_from: Strategy = Strategy.MINT
    concurrency: int = 16
    start: float = DEFAULT_START
    step_s: tuple[float, float] = (1.0, 5.0)
    versions: tuple[str, str] = DEFAULT_VERSIONS
    keep_transcript: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        # Accept names and strings from callers; store the enum and the Path.
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "strategy", parse_strategy(self.strategy))
        object.__setattr__(self, "rollout_from", parse_strategy(self.rollout_from))
        for name in ("users", "sessions_per_user", "messages", "concurrency"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.total_messages > MAX_MESSAGES:
            raise ConfigError(
                f"{self.total_messages:,} messages (users x sessions x messages) is more than"
                f" the {MAX_MESSAGES:,} a simulation sends; lower --users, --sessions-per-user"
                " or --messages"
            )
        low, high = self.step_s
        if not (0 < low <= high):
            raise ConfigError(
                f"step_s must be (min, max) seconds with 0 < min <= max, got {self.step_s}"
            )
        if self.rollout_at is not None:
            if not (0 < self.rollout_at < 1) or math.isnan(self.rollout_at):
                raise ConfigError(
                    f"rollout_at must be a fraction between 0 and 1 (exclusive), got {self.rollout_at}"
                )
            before = self.rollout_messages
            if before < 1 or before >= self.total_messages:
                raise ConfigError(
                    f"rolling out at {self.rollout_at} of {self.total_messages} messages leaves one"
                    " side empty; send more messages or choose a fraction nearer 0.5"
                )
            if self.versions[0] == self.versions[1]:
                raise ConfigError("the two versions of a rollout must differ")

    @property
    def total_messages(self) -> int:
        """Messages the simulation sends."""
        return self.users * self.sessions_per_user * self.messages

    @property
    def rollout_messages(self) -> int:
        """Messages sent before the rollout (all of them without one)."""
        if self.rollout_at is None:
            return self.total_messages
        return round(self.rollout_at * self.total_messages)
