"""The traffic simulator's public entry point; the parts live in `handlers.simulation`."""

from handlers.simulation import (
    Exchange,
    ExpectedAudit,
    Scenario,
    SimulationConfig,
    SimulationResult,
    simulate,
    simulate_async,
)

__all__ = [
    "Exchange",
    "ExpectedAudit",
    "Scenario",
    "SimulationConfig",
    "SimulationResult",
    "simulate",
    "simulate_async",
]
