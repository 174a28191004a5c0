"""`quality simulate` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from quality_cli.main import app

runner = CliRunner()
SMALL = ["--users", "3", "--messages", "12", "--quiet"]


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


def test_json_result_names_the_files_and_the_expected_audit(tmp_path: Path) -> None:
    result = invoke("simulate", *SMALL, "--strategy", "mint", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["messages"] == 3 * 2 * 12
    assert data["config"]["strategy"] == "mint"
    assert data["files"]["traces"] == str(tmp_path / "traces" / "traces.jsonl")
    assert (tmp_path / "logs" / "quality.jsonl").exists()
    assert data["expected"]["orphan_threads"] == data["quality_interactions"]


def test_summary_lists_traffic_expected_figures_and_paths(tmp_path: Path) -> None:
    result = invoke("simulate", *SMALL, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "72 messages from 3 users in 6 sessions (3 reconnects), strategy resume, seed 1;"
    )
    assert "expected audit (per file)" in result.stdout
    assert f"traces: {tmp_path / 'traces' / 'traces.jsonl'}\n" in result.stdout
    assert f"store:  {tmp_path / 'quality.db'}\n" in result.stdout
    assert f"logs:   {tmp_path / 'logs' / 'quality.jsonl'}\n" in result.stdout


def test_rollout_summary_has_a_column_per_version(tmp_path: Path) -> None:
    args = ("simulate", *SMALL, "--rollout-at", "0.5", "--out", str(tmp_path), "--json")
    data = json.loads(invoke(*args).stdout)
    assert data["config"]["rollout_from"] == "mint"
    assert sorted(data["expected_by_version"]) == ["1.0.0", "1.1.0"]
    assert data["expected_by_version"]["1.1.0"]["breaks"] == 0


def test_global_strategy_and_home_are_the_defaults(tmp_path: Path) -> None:
    args = ("--home", str(tmp_path), "--strategy", "default-session", "simulate", *SMALL, "--json")
    data = json.loads(invoke(*args).stdout)
    assert data["config"]["strategy"] == "default-session"
    assert data["files"]["db"] == str(tmp_path / "quality.db")


def test_an_earlier_run_is_not_mixed_in(tmp_path: Path) -> None:
    assert invoke("simulate", *SMALL, "--out", str(tmp_path)).exit_code == 0
    again = invoke("simulate", *SMALL, "--out", str(tmp_path))
    assert again.exit_code == 2
    assert again.stderr == (
        f"error: {tmp_path} already holds quality.db, traces/traces.jsonl, logs/quality.jsonl;"
        " choose an empty directory or overwrite it (--overwrite)\n"
    )
    assert invoke("simulate", *SMALL, "--out", str(tmp_path), "--overwrite").exit_code == 0


def test_off_a_terminal_stderr_stays_empty_without_quiet(tmp_path: Path) -> None:
    """The progress bar is for terminals: piped, it left a stray blank line (so an error
    was two lines)."""
    args = ("simulate", "--users", "3", "--messages", "12", "--out", str(tmp_path))
    done = invoke(*args)
    assert (done.exit_code, done.stderr) == (0, "")
    again = invoke(*args)
    assert again.exit_code == 2
    assert len(again.stderr.splitlines()) == 1 and again.stderr.startswith("error: ")


def test_bad_rollout_fraction_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("simulate", *SMALL, "--rollout-at", "1.5", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        "error: rollout_at must be a fraction between 0 and 1 (exclusive), got 1.5\n"
    )


def test_unknown_strategy_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("simulate", *SMALL, "--rollout-from", "never", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        "error: unknown strategy 'never'; use one of resume, mint, default-session\n"
    )


def test_help_has_an_example() -> None:
    result = invoke("simulate", "--help")
    assert result.exit_code == 0
    assert "Example: quality simulate" in result.stdout
