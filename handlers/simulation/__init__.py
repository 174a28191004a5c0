"""Simulated chat traffic through the real handlers, with its ground truth (`quality simulate`).

``simulate(SimulationConfig(out=...))`` drives seeded users through
`QualityApp.handle`, writes the usual traces, logs and store under ``out``, and
returns a `SimulationResult` whose ``expected`` figures are what an audit of
those files must find.
"""

from handlers.simulation.config import DEFAULT_START, SimulationConfig
from handlers.simulation.ledger import ContinuityLedger, EventTally, ExpectedAudit
from handlers.simulation.result import Exchange, SimulationResult
from handlers.simulation.runner import Progress, simulate, simulate_async
from handlers.simulation.traffic import Scenario

__all__ = [
    "DEFAULT_START",
    "ContinuityLedger",
    "EventTally",
    "Exchange",
    "ExpectedAudit",
    "Progress",
    "Scenario",
    "SimulationConfig",
    "SimulationResult",
    "simulate",
    "simulate_async",
]
