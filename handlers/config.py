"""Settings from options and the environment: home directory, user, strategy, session TTL."""

from __future__ import annotations

import getpass
import math
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from handlers.errors import ConfigError


class Strategy(StrEnum):
    """How quality operations resolve a message that lacks `thread_id`/`run_id` (DESIGN.md)."""

    RESUME = "resume"
    MINT = "mint"
    DEFAULT_SESSION = "default-session"


DEFAULT_SESSION_TTL_S = 30 * 60


def parse_strategy(value: str | Strategy | None) -> Strategy:
    """A `Strategy` from its name; `resume` when None. Raises `ConfigError` on an unknown name."""
    if value is None or value == "":
        return Strategy.RESUME
    try:
        return Strategy(value)
    except ValueError:
        names = ", ".join(s.value for s in Strategy)
        raise ConfigError(f"unknown strategy {value!r}; use one of {names}") from None


def chosen_strategy(option: str | None) -> Strategy:
    """The strategy an option names, else `QUALITY_STRATEGY`, else `resume`."""
    return parse_strategy(option or os.environ.get("QUALITY_STRATEGY"))


def default_home() -> Path:
    """`QUALITY_HOME`, else the platform's user data directory for `quality`."""
    env = os.environ.get("QUALITY_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("quality", appauthor=False)


def default_user() -> str:
    """`QUALITY_USER`, else the login name."""
    env = os.environ.get("QUALITY_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where state lives and who is speaking. Paths under ``home`` follow DESIGN.md."""

    home: Path
    user: str
    strategy: Strategy = Strategy.RESUME
    session_ttl_s: float = DEFAULT_SESSION_TTL_S

    @property
    def db_path(self) -> Path:
        return self.home / "quality.db"

    @property
    def log_path(self) -> Path:
        return self.home / "logs" / "quality.jsonl"

    @property
    def trace_path(self) -> Path:
        return self.home / "traces" / "traces.jsonl"

    @classmethod
    def resolve(
        cls,
        home: Path | None = None,
        user: str | None = None,
        strategy: str | None = None,
        session_ttl_s: float | None = None,
    ) -> Settings:
        """Options first, then `QUALITY_HOME` / `QUALITY_USER` / `QUALITY_STRATEGY`, then defaults."""
        ttl = session_ttl_s
        if ttl is None:
            raw = os.environ.get("QUALITY_SESSION_TTL")
            try:
                ttl = float(raw) if raw else DEFAULT_SESSION_TTL_S
            except ValueError:
                raise ConfigError(f"QUALITY_SESSION_TTL must be seconds, got {raw!r}") from None
        if not (0 < ttl < math.inf):  # NaN compares false to everything: refused too
            raise ConfigError(f"the session TTL must be a positive number of seconds, got {ttl}")
        chosen = user if user is not None else default_user()  # `--user ""` is refused
        if not chosen.strip():
            raise ConfigError(f"the user ID must not be blank, got {chosen!r}")
        try:
            chosen.encode("utf-8")  # bytes that are not UTF-8 in argv or the environment
        except UnicodeEncodeError:
            raise ConfigError(f"the user ID must be valid UTF-8, got {chosen!r}") from None
        where = (home or default_home()).expanduser()
        if where.exists() and not where.is_dir():  # it was mkdir's "File exists"
            raise ConfigError(f"the home {where} is not a directory")
        return cls(
            home=where,
            user=chosen,
            strategy=chosen_strategy(strategy),
            session_ttl_s=ttl,
        )
