"""`quality lint` (quality_cli/lint.py): exit codes, exact messages, formats, --fix/--diff."""

import json

import pytest
from typer.testing import CliRunner

from quality_cli.main import app

DEFECT = (
    "from app.ids import generate_run_id, generate_thread_id\n\n\n"
    "class QualityHandler:\n"
    "    async def handle(self, user_id, payload):\n"
    "        thread_id = payload.get('thread_id') or generate_thread_id()\n"
    "        run_id = payload.get('run_id') or generate_run_id()\n"
    "        return await self.sm.get_execution_context(thread_id=thread_id, run_id=run_id)\n"
)
CLEAN = (
    "class QualityHandler:\n"
    "    async def handle(self, user_id, payload):\n"
    "        return await self.sm.get_execution_context(user_id, thread_id=payload.get('thread_id'))\n"
)
QC001_MESSAGE = (
    "get_execution_context() can receive a minted thread_id and run_id when the request has "
    "none (line 6): each such message opens an orphan thread; pass the incoming IDs or None through"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "quality.py").write_text(DEFECT)
    (tmp_path / "handlers" / "chat.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args):
    return CliRunner().invoke(app, ["lint", *args])


def test_clean_code_exits_0(project):
    result = _run("handlers/chat.py")
    assert result.exit_code == 0
    assert result.output == "All checks passed (1 file).\n"


def test_findings_exit_1_with_ruff_style_lines(project):
    result = _run("handlers")
    assert result.exit_code == 1
    assert result.output == (
        f"handlers/quality.py:8:22: QC001 {QC001_MESSAGE}\n"
        "Found 1 finding in 1 file (1 fixable with --fix).\n"
    )


def test_json_format(project):
    result = _run("handlers", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output) == [
        {
            "path": "handlers/quality.py",
            "line": 8,
            "column": 22,
            "code": "QC001",
            "message": QC001_MESSAGE,
        }
    ]


def test_sarif_format(project):
    result = _run("handlers", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.output)
    assert log["version"] == "2.1.0"
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["QC001"]


def test_ignore_and_select(project):
    assert _run("handlers", "--ignore", "QC001").exit_code == 0
    assert _run("handlers", "--select", "QC002,QC003").exit_code == 0
    assert _run("handlers", "--select", "QC001").exit_code == 1


def test_fix_rewrites_and_exits_0_when_nothing_is_left(project):
    result = _run("handlers", "--fix")
    assert result.exit_code == 0
    assert result.output == "Fixed 1 finding.\nAll checks passed (2 files).\n"
    fixed = (project / "handlers" / "quality.py").read_text()
    assert fixed == (
        "class QualityHandler:\n"
        "    async def handle(self, user_id, payload):\n"
        "        thread_id = payload.get('thread_id')\n"
        "        run_id = payload.get('run_id')\n"
        "        return await self.sm.get_execution_context(thread_id=thread_id, run_id=run_id)\n"
    )


def test_diff_prints_the_fix_and_writes_nothing(project):
    result = _run("handlers/quality.py", "--diff")
    assert result.exit_code == 1
    assert result.output.startswith("--- handlers/quality.py\n+++ handlers/quality.py\n@@ ")
    assert "-from app.ids import generate_run_id, generate_thread_id\n" in result.output
    assert (project / "handlers" / "quality.py").read_text() == DEFECT


def test_diff_goes_to_stderr_with_json(project):
    result = _run("handlers/quality.py", "--diff", "--format", "json")
    assert json.loads(result.stdout)[0]["code"] == "QC001"
    assert result.stderr.startswith("--- handlers/quality.py\n")


def test_missing_path_exits_2(project):
    result = _run("nope.py")
    assert result.exit_code == 2
    assert result.output == "error: no such file or directory: nope.py\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        # a CI gate pointed at a directory without Python files passed ("0 files")
        (["empty"], "error: no Python files to lint in empty (excluded directories skipped)\n"),
        (["/dev/null"], "error: cannot lint /dev/null: not a file or a directory\n"),  # "no such"
        (
            ["handlers", "--config", "empty"],
            "error: config file empty is a directory; name a TOML file\n",
        ),
    ],
)
def test_paths_that_cannot_be_linted_say_why(project, args, says):
    (project / "empty").mkdir()
    result = _run(*args)
    assert (result.exit_code, result.output) == (2, says)


def test_unknown_code_exits_2(project):
    result = _run("handlers", "--select", "QC9")
    assert result.exit_code == 2
    assert result.output == (
        "error: unknown rule code 'QC9' in --select; known codes: QC001, QC002, QC003, QC004\n"
    )


def test_bad_config_exits_2(project):
    (project / "pyproject.toml").write_text("[tool.quality.lint]\nselects = ['QC001']\n")
    result = _run("handlers")
    assert result.exit_code == 2
    assert result.output.startswith(
        f"error: unknown key 'selects' in [tool.quality.lint] of {project / 'pyproject.toml'}; known keys: "
    )


def test_config_option(project):
    (project / "lint.toml").write_text("ignore = ['QC001']\n")
    assert _run("handlers", "--config", "lint.toml").exit_code == 0


def test_unknown_format_is_a_usage_error(project):
    result = _run("handlers", "--format", "xml")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.output


def test_syntax_error_is_reported_not_raised(project):
    (project / "handlers" / "broken.py").write_text("async def handle(self, payload:\n")
    result = _run("handlers/broken.py")
    assert result.exit_code == 1
    assert result.output.startswith("handlers/broken.py:")
    assert " QC000 syntax error: " in result.output


def test_help_has_an_example():
    result = CliRunner().invoke(app, ["lint", "--help"])
    assert result.exit_code == 0
    assert "Example: quality lint handlers/ --format sarif > lint.sarif" in result.output


def test_fix_with_diff_writes_and_shows_the_change(project):
    result = _run("handlers/quality.py", "--fix", "--diff")
    assert result.exit_code == 0
    assert result.output.startswith("--- handlers/quality.py\n+++ handlers/quality.py\n")
    assert result.output.endswith("Fixed 1 finding.\nAll checks passed (1 file).\n")
    assert "generate_run_id" not in (project / "handlers" / "quality.py").read_text()


def test_this_projects_own_code_is_lint_clean():
    """Dogfooding: the handlers, CLI, auditor and dashboards pass `quality lint`."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    paths = [str(root / name) for name in ("handlers", "quality_cli", "auditor", "dashboards")]
    result = CliRunner().invoke(app, ["lint", *paths])
    assert result.exit_code == 0, result.output
