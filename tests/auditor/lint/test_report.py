"""Text and JSON rendering (auditor/lint/report.py)."""

from auditor.lint.report import JSON_KEYS, format_text, to_records
from auditor.lint.rules import Code, Finding
from auditor.lint.runner import LintReport


def _finding(path, line, code=Code.QC001, fixable=False):
    return Finding(path, line, 5, code, "msg", fixable=fixable)


def test_text_groups_by_file_and_summarises():
    report = LintReport(
        files=3,
        findings=(
            _finding("a.py", 3, fixable=True),
            _finding("a.py", 9, Code.QC002),
            _finding("b.py", 1, Code.QC004),
        ),
        fixed=0,
        diffs=(),
    )
    assert format_text(report) == (
        "a.py:3:5: QC001 msg\n"
        "a.py:9:5: QC002 msg\n"
        "\n"
        "b.py:1:5: QC004 msg\n"
        "Found 3 findings in 2 files (1 fixable with --fix)."
    )


def test_text_when_clean_and_after_fixing():
    assert format_text(LintReport(1, (), 2, ())) == "Fixed 2 findings.\nAll checks passed (1 file)."


def test_json_records_have_exactly_the_documented_keys():
    report = LintReport(1, (_finding("a.py", 3),), 0, ())
    assert to_records(report) == [
        {"path": "a.py", "line": 3, "column": 5, "code": "QC001", "message": "msg"}
    ]
    assert tuple(to_records(report)[0]) == JSON_KEYS
