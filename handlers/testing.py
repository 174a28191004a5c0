"""Test helpers: deterministic IDs and clocks, and an app whose spans are kept in memory.

Public so that users' own tests can reproduce spans and replies exactly
(as OTel's `InMemorySpanExporter` and structlog's `testing` module do).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from handlers.app import QualityApp
from handlers.config import Settings, Strategy
from handlers.ids import IdMinter


def deterministic_ids(start_ms: int = 1_764_000_000_000) -> IdMinter:
    """An ID minter with a fixed clock and a counter-based hex part: IDs repeat run to run."""
    counter = itertools.count(1)
    return IdMinter(clock_ms=lambda: start_ms, random_hex=lambda: f"{next(counter):08x}")


class FakeClock:
    """A clock that only moves when told: ``clock()`` is epoch seconds."""

    def __init__(self, start: float = 1_764_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def memory_app(
    home: Path,
    *,
    user: str = "alice",
    strategy: Strategy = Strategy.RESUME,
    clock: Callable[[], float] | None = None,
    **kwargs: Any,
) -> tuple[QualityApp, InMemorySpanExporter]:
    """A real app (SQLite under ``home``, JSON logs) whose spans go to an in-memory exporter."""
    exporter = InMemorySpanExporter()
    settings = Settings(home=home, user=user, strategy=strategy)
    app = QualityApp.open(
        settings,
        exporter=exporter,
        batch_spans=False,
        ids=kwargs.pop("ids", deterministic_ids()),
        clock=clock or FakeClock(),
        **kwargs,
    )
    return app, exporter
