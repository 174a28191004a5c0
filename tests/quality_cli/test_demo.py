"""The main job: `quality demo` audits the exported files and agrees with the simulator."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from quality_cli._demo import DemoConfig, run_demo
from quality_cli.main import app


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(DemoConfig(out=out, users=6, sessions_per_user=2, messages=14, seed=3))


def test_auditor_figures_equal_the_simulators_ground_truth(demo):
    assert demo.mismatches == []


def test_resume_has_no_breaks_and_no_stray_threads(demo):
    for report in (demo.reports["resume"], demo.log_reports["resume"]):
        assert report["events"] > 0
        assert (report["breaks"], report["stray_threads"], report["orphan_threads"]) == (0, 0, 0)


def test_mint_leaves_one_orphan_thread_per_quality_interaction(demo):
    interactions = demo.simulations["mint"].quality_interactions
    assert interactions > 0
    assert demo.reports["mint"]["orphan_threads"] == interactions
    assert demo.reports["mint"]["breaks"] == interactions


def test_default_session_leaves_one_stray_thread_per_user_it_chose_a_context_for(demo):
    """The rule of docs/simulate.md: one shadow thread per user whose context the strategy
    chose (a user who only received a broadcast counts too), which the summary reports."""
    users = demo.simulations["default-session"].strategy_users
    assert users > 0
    assert demo.reports["default-session"]["stray_threads"] == users
    assert demo.reports["default-session"]["orphan_threads"] == 0
    truth = demo.to_dict()["strategies"]["default-session"]["ground_truth"]
    assert truth["strategy_users"] == users


def test_the_ground_truth_line_names_the_users_the_rule_counts(tmp_path):
    """With 30 users of one session and 2 messages each, some only get a broadcast."""
    out = tmp_path / "demo"
    args = ["--users", "30", "--messages", "2", "--sessions-per-user", "1", "--seed", "2"]
    result = CliRunner().invoke(app, ["demo", "--out", str(out), *args, "-q", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["strategies"]["default-session"]
    assert summary["logs"]["stray_threads"] == summary["ground_truth"]["strategy_users"]


def test_comparisons_are_significant_and_the_rollout_splits_by_version(demo):
    for comparison in demo.comparisons.values():
        assert comparison["after"]["breaks"] == 0
        assert comparison["p_value"] is not None and comparison["p_value"] < 0.05
    assert demo.rollout["before"]["breaks"] > 0
    assert demo.rollout["after"]["breaks"] == 0


def test_everything_is_written_under_out(demo):
    for key in ("dashboard", "summary", "audit-mint", "audit-resume", "audit-rollout"):
        assert (demo.out / demo.files[key].split("/")[-1]).exists()
    summary = json.loads((demo.out / "summary.json").read_text())
    assert summary["ground_truth_matches"] is True
    assert summary["strategies"]["resume"]["traces"]["breaks"] == 0
    html = (demo.out / "dashboard.html").read_text()
    assert "default-session" in html and "rollout" in html


def test_demo_command_prints_the_before_after_table(tmp_path):
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "d"), "--users", "4", "--messages", "8", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "continuity by strategy" in result.stdout
    for name in ("mint", "default-session", "resume", "rollout"):
        assert name in result.stdout
    assert "auditor == simulator ground truth" in result.stdout


def test_demo_never_deletes_files_it_did_not_write(tmp_path):
    """`--out` pointing at a directory of the user's own files is refused, files intact."""
    (tmp_path / "mint").mkdir()
    (tmp_path / "mint" / "notes.txt").write_text("mine")
    (tmp_path / "plan.md").write_text("mine")
    (tmp_path / "dashboard.html").write_text("mine")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--users", "2", "-q"])
    assert result.exit_code == 2
    assert "holds files no demo wrote (dashboard.html, mint, plan.md)" in result.stderr
    assert (tmp_path / "mint" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "dashboard.html").read_text() == "mine"


def test_clean_out_replaces_only_the_demos_own_files(tmp_path):
    from auditor.errors import UsageError
    from quality_cli._demo import MARKER, clean_out

    out = tmp_path / "demo"
    clean_out(out)  # a new directory: created, marked
    assert [p.name for p in out.iterdir()] == [MARKER]
    (out / "resume").mkdir()
    (out / "resume" / "traces.jsonl").write_text("old")
    (out / "audit-resume.json").write_text("old")
    (out / "keep.txt").write_text("the user's")
    clean_out(out)  # an earlier demo's directory: its files go, the user's stay
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "keep.txt"])
    # files named like the demo's, in a directory no demo wrote: refused, kept
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "audit-prod.json").write_text("{}")
    with pytest.raises(UsageError):
        clean_out(mine)
    assert (mine / "audit-prod.json").read_text() == "{}"
