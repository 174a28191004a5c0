"""The main job behind `quality demo`: simulate, audit, compare, render.

The same seeded traffic runs under the three strategies; the auditor reads the
exported trace and log files (its numbers, not the simulator's counters, fill
the table), and the simulator's ground truth is checked against them. A rollout
(`mint` then `resume` in one log) is audited with `--split-by version`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.audit import AuditOptions, audit, compare
from auditor.errors import UsageError
from dashboards.html import write_dashboard
from handlers.config import Strategy
from handlers.simulation import SimulationConfig, SimulationResult, simulate

STRATEGIES = (Strategy.MINT, Strategy.DEFAULT_SESSION, Strategy.RESUME)
#: Keys compared between the auditor's report and the simulator's ground truth.
CHECKED_KEYS = (
    "lines",
    "events",
    "sessions",
    "threads",
    "breaks",
    "affected_sessions",
    "stray_threads",
    "orphan_threads",
    "run_breaks",
)

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoConfig:
    out: Path
    users: int = 40
    sessions_per_user: int = 2
    messages: int = 30
    seed: int = 1
    rollout_at: float = 0.5


@dataclass
class DemoResult:
    """Everything the demo produced: reports by strategy, comparisons, paths, checks."""

    out: Path
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    log_reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    simulations: dict[str, SimulationResult] = field(default_factory=dict)
    comparisons: dict[str, dict[str, Any]] = field(default_factory=dict)
    rollout: dict[str, Any] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        def headline(report: dict[str, Any]) -> dict[str, Any]:
            keys = (*CHECKED_KEYS, "break_rate", "break_rate_ci", "unattributed", "missing_thread")
            return {k: report.get(k) for k in keys}

        return {
            "out": str(self.out),
            "strategies": {
                name: {
                    "traces": headline(report),
                    "logs": headline(self.log_reports[name]),
                    "ground_truth": {
                        "quality_interactions": self.simulations[name].quality_interactions,
                        "quality_users": self.simulations[name].quality_users,
                        "strategy_users": self.simulations[name].strategy_users,
                    },
                }
                for name, report in self.reports.items()
            },
            "comparisons": {
                name: {
                    "p_value": c["p_value"],
                    "significant": c.get("significant"),
                    "delta": c["delta"],
                }
                for name, c in self.comparisons.items()
            },
            "rollout": {
                "p_value": self.rollout.get("p_value"),
                "significant": self.rollout.get("significant"),
                "before": headline(self.rollout["before"]) if self.rollout else None,
                "after": headline(self.rollout["after"]) if self.rollout else None,
            },
            "ground_truth_matches": not self.mismatches,
            "mismatches": self.mismatches,
            "files": self.files,
            "elapsed_s": round(self.elapsed_s, 2),
        }


def _write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return str(path)


def _check(name: str, report: dict[str, Any], expected: dict[str, Any], into: list[str]) -> None:
    for key in CHECKED_KEYS:
        if report.get(key) != expected.get(key):
            into.append(
                f"{name}: {key} audited {report.get(key)} != ground truth {expected.get(key)}"
            )


def _simulate(config: DemoConfig, strategy: Strategy, out: Path, **extra: Any) -> SimulationResult:
    return simulate(
        SimulationConfig(
            out=out,
            users=config.users,
            sessions_per_user=config.sessions_per_user,
            messages=config.messages,
            seed=config.seed,
            strategy=strategy,
            overwrite=True,
            **extra,
        )
    )


def run_demo(config: DemoConfig, step: Step = lambda _: None) -> DemoResult:
    """Simulate, audit and render everything under ``config.out``; returns the figures."""
    started = time.perf_counter()
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out=out)
    for strategy in STRATEGIES:
        name = strategy.value
        step(f"simulating {name}")
        sim = _simulate(config, strategy, out / name)
        result.simulations[name] = sim
        step(f"auditing {name}")
        traces = audit([str(sim.trace_path)], AuditOptions(label=name))
        logs = audit([str(sim.log_path)], AuditOptions(label=f"{name} (logs)"))
        result.reports[name], result.log_reports[name] = traces, logs
        result.files[f"audit-{name}"] = _write_json(out / f"audit-{name}.json", traces)
        result.files[f"audit-{name}-logs"] = _write_json(out / f"audit-{name}-logs.json", logs)
        expected = sim.expected.to_dict()
        _check(f"{name} traces", traces, expected, result.mismatches)
        _check(f"{name} logs", logs, expected, result.mismatches)

    step("comparing strategies")
    resume_traces = [str(result.simulations["resume"].trace_path)]
    for before in ("mint", "default-session"):
        comparison = compare(
            [str(result.simulations[before].trace_path)],
            resume_traces,
            before_label=before,
            after_label="resume",
        )
        result.comparisons[f"{before} -> resume"] = comparison
        result.files[f"compare-{before}-resume"] = _write_json(
            out / f"compare-{before}-resume.json", comparison
        )

    step("simulating a rollout (mint, then resume)")
    rollout_sim = _simulate(
        config,
        Strategy.RESUME,
        out / "rollout",
        rollout_at=config.rollout_at,
        rollout_from=Strategy.MINT,
    )
    step("auditing the rollout log with --split-by version")
    result.rollout = audit(
        [str(rollout_sim.log_path)], AuditOptions(label="rollout"), split_by="version"
    )
    result.files["audit-rollout"] = _write_json(out / "audit-rollout.json", result.rollout)
    for side, version in zip(
        ("before", "after"), sorted(rollout_sim.expected_by_version), strict=False
    ):
        _check(
            f"rollout {version}",
            result.rollout[side],
            rollout_sim.expected_by_version[version].to_dict(),
            result.mismatches,
        )

    step("rendering the dashboard")
    dashboard_inputs = [Path(result.files[f"audit-{s.value}"]) for s in STRATEGIES]
    dashboard_inputs.append(Path(result.files["audit-rollout"]))
    result.files["dashboard"] = str(
        write_dashboard(
            dashboard_inputs, out / "dashboard.html", title="quality demo: continuity by strategy"
        )
    )
    result.elapsed_s = time.perf_counter() - started
    _write_json(out / "summary.json", result.to_dict())
    result.files["summary"] = str(out / "summary.json")
    return result


#: What a demo writes under its ``--out``: directories, and file name patterns.
_OWN_DIRS = (*(s.value for s in STRATEGIES), "rollout")
_OWN_FILES = ("audit-*.json", "compare-*.json", "summary.json", "dashboard.html")
#: Written into ``--out`` by every demo: what is there besides is the demo's to replace.
MARKER = ".quality-demo"


def _written_by_a_demo(out: Path) -> bool:
    """``out`` holds a demo's output: its marker, or (before there was one) a demo summary."""
    if (out / MARKER).exists():
        return True
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and {"out", "strategies", "comparisons"} <= summary.keys()


def clean_out(out: Path) -> None:
    """Make ``out`` ready for a demo: remove what an earlier demo wrote there, never anything
    else. A directory that is not empty and was not written by a demo is refused
    (`UsageError`): nothing in it is the demo's to clean, whatever the names."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    entries = list(out.iterdir()) if out.exists() else []
    if entries and not _written_by_a_demo(out):
        names = sorted(p.name for p in entries)
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise UsageError(
            f"--out {out} holds files no demo wrote ({shown}); use a new or empty directory"
        )
    for path in entries:
        if path.is_dir():
            if path.name in _OWN_DIRS:
                shutil.rmtree(path, ignore_errors=True)
        elif any(path.match(pattern) for pattern in _OWN_FILES):
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `quality demo`: it replaces its own files here\n")
