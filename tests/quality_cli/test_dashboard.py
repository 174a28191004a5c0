"""Tests for `quality dashboard` (quality_cli/dashboard.py)."""

import json

import pytest
from typer.testing import CliRunner

from dashboards.grafana_files import GRAFANA_FILES
from quality_cli import dashboard as dashboard_cli
from quality_cli.main import app
from tests.dashboards.reports import comparison, strategy_report

runner = CliRunner()


@pytest.fixture
def audit_files(tmp_path):
    paths = []
    for name, doc in [
        ("audit-mint.json", strategy_report("mint")),
        ("audit-resume.json", strategy_report("resume")),
        ("audit-rollout.json", comparison(strategy_report("mint"), strategy_report("resume"))),
    ]:
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        paths.append(path)
    return paths


def test_writes_the_dashboard_and_prints_its_path(audit_files, tmp_path):
    out = tmp_path / "out" / "dash.html"
    result = runner.invoke(
        app, ["dashboard", *map(str, audit_files), "-o", str(out), "--title", "My audit"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    page = out.read_text(encoding="utf-8")
    assert "<h1>My audit</h1>" in page
    assert "mint before" in page and "resume after" in page


def test_default_output_is_dashboard_html_in_the_current_directory(
    audit_files, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["dashboard", str(audit_files[0])])
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote dashboard.html\n"
    assert (tmp_path / "dashboard.html").is_file()


def test_missing_file_is_a_one_line_error(tmp_path):
    missing = tmp_path / "nope.json"
    result = runner.invoke(app, ["dashboard", str(missing), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: no such audit report file\n"
    assert not (tmp_path / "d.html").exists()


def test_a_bad_report_writes_nothing_not_even_the_grafana_files(tmp_path):
    missing, grafana = tmp_path / "nope.json", tmp_path / "grafana"
    args = ["dashboard", str(missing), "--grafana", str(grafana), "-o", str(tmp_path / "d.html")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert not grafana.exists() and not (tmp_path / "d.html").exists()


def test_invalid_json_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["dashboard", str(bad), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {bad}: not JSON (line 1, column 2: Expecting property name enclosed in "
        "double quotes); write it with `quality audit --json`\n"
    )


def test_json_that_is_not_a_report_is_a_one_line_error(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    result = runner.invoke(app, ["dashboard", str(other), "-o", str(tmp_path / "d.html")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {other}: not a valid audit report: field lines: Field required "
        "(and 15 more); write it with `quality audit --json`\n"
    )


def test_nothing_to_do_is_a_usage_error():
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 2
    assert (
        result.stderr == "error: no audit reports given: pass AUDIT.json files or --grafana DIR\n"
    )


def test_grafana_copies_the_dashboard_and_collector_config(tmp_path):
    target = tmp_path / "grafana"
    result = runner.invoke(app, ["dashboard", "--grafana", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "".join(f"wrote {target / name}\n" for name in GRAFANA_FILES)
    assert sorted(p.name for p in target.iterdir()) == sorted(GRAFANA_FILES)


def test_open_hands_the_file_url_to_the_browser(audit_files, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(dashboard_cli.webbrowser, "open", opened.append)
    out = tmp_path / "d.html"
    result = runner.invoke(app, ["dashboard", str(audit_files[0]), "-o", str(out), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [out.resolve().as_uri()]


def test_help_has_an_example():
    result = runner.invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "Example: quality dashboard" in result.stdout
