"""Global options, kept on the Typer context; settings are resolved only by commands that need them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from handlers.config import Settings


@dataclass(frozen=True, slots=True)
class CliState:
    """The root options as given (None when not given)."""

    home: Path | None = None
    user: str | None = None
    strategy: str | None = None
    debug: bool = False

    def settings(self) -> Settings:
        """Resolve the options against the environment (may raise `ConfigError`)."""
        return Settings.resolve(home=self.home, user=self.user, strategy=self.strategy)


def cli_state(ctx: typer.Context) -> CliState:
    """The `CliState` of the root command (a default one when a test invokes a sub-app)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()
