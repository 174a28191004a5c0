"""Discovery, `# noqa`, unreadable files and `--fix`/`--diff` on disk (auditor/lint/runner.py)."""

import shutil
import subprocess

import pytest

from auditor.errors import InputError
from auditor.lint.config import LintConfig
from auditor.lint.rules import Code
from auditor.lint.runner import discover, lint_paths, lint_source

DEFECT = (
    "from app.ids import generate_thread_id\n\n\n"
    "async def handle(sm, user_id, payload):\n"
    "    thread_id = payload.get('thread_id') or generate_thread_id()\n"
    "    return await sm.get_execution_context(thread_id=thread_id){comment}\n"
)


def _codes(source: str) -> list[str]:
    return [f.code.value for f in lint_source(source, "h.py", LintConfig()).findings]


@pytest.mark.parametrize(
    ("comment", "codes"),
    [
        ("", ["QC001"]),
        ("  # noqa: QC001", []),
        ("  # noqa:QC001,QC002", []),
        ("  # NOQA: qc001", []),
        ("  # noqa", []),
        ("  # noqa: QC002", ["QC001"]),
        ("  # noqa: E501", ["QC001"]),
    ],
)
def test_noqa_comments(comment, codes):
    assert _codes(DEFECT.format(comment=comment)) == codes


@pytest.mark.parametrize("separator", ["\x0c\n", "x = '\u2028'\n", "# a \x1c b\n"])
def test_noqa_is_read_on_the_line_the_finding_reports(separator):
    """A form feed (or U+2028 in a string) is no line break for Python: `str.splitlines`
    counted one, so `# noqa` was read one line off (a noqa on another line silenced the
    finding; one on its own line did not)."""
    head, rest = DEFECT.split("\n\n\n", 1)
    placed = head + "\n" + separator + "\n\n" + rest
    assert _codes(placed.format(comment="  # noqa: QC001")) == []
    off = placed.replace("generate_thread_id()\n", "generate_thread_id()  # noqa: QC001\n").format(
        comment=""
    )
    assert _codes(off) == ["QC001"]


def test_syntax_error_is_a_qc000_finding_with_its_position():
    (finding,) = lint_source(
        "def handle(self, payload:\n    pass\n", "bad.py", LintConfig()
    ).findings
    assert finding.code is Code.QC000
    assert finding.path == "bad.py"
    assert finding.message.startswith("syntax error: ")
    assert finding.message.endswith("; the file was not checked")
    assert finding.line == 1  # where the '(' that is never closed is, as Python says
    # Python's words for it too: libcst's message names its own, other, position
    assert finding.message == "syntax error: '(' was never closed; the file was not checked"


def test_ctrl_c_while_checking_stops_the_run_and_is_no_finding(monkeypatch):
    """libcst's `finally` blocks raise a KeyError on the way out of an interrupted visit:
    that KeyError is not a checker bug to report as QC000, the Ctrl-C goes on."""

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        finally:
            raise KeyError("IndentedBlock(...)")  # as libcst's finally does

    monkeypatch.setattr("auditor.lint.runner.analyze_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lint_source("x = 1\n", "ok.py", LintConfig())


@pytest.mark.parametrize(
    "source",
    ["x = 1\ny = 2 2\n", "foo(a b )\n", "x = (1,\ny = 2\n", "ééé = = 1\n", 'x = "é" + 1 2\n'],
)
def test_a_syntax_error_is_reported_where_python_reports_it(source):
    """Python's parser's position (the user's editor's), not libcst's: the statement's start
    (2:1 for `y = 2 2`) or its message's, 0-based and past the offending token."""
    (finding,) = lint_source(source, "bad.py", LintConfig()).findings
    with pytest.raises(SyntaxError) as error:
        compile(source, "bad.py", "exec")
    assert (finding.line, finding.column) == (error.value.lineno, error.value.offset)
    assert finding.column > 1


def test_noqa_and_select_never_hide_a_syntax_error():
    config = LintConfig().with_codes("QC001", None)
    result = lint_source("def handle(self, payload:  # noqa\n", "bad.py", config)
    assert [f.code for f in result.findings] == [Code.QC000]


def test_undecodable_file_is_a_qc000_finding(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9t\xe9'\n")
    report = lint_paths([str(tmp_path)], LintConfig())
    (finding,) = report.findings
    assert finding.code is Code.QC000
    assert finding.message.startswith("cannot decode: ")


def test_one_bad_file_does_not_hide_the_others(tmp_path):
    (tmp_path / "a_bad.py").write_text("def (:\n")
    (tmp_path / "b_defect.py").write_text(DEFECT.format(comment=""))
    report = lint_paths([str(tmp_path)], LintConfig())
    assert [(f.path.rsplit("/", 1)[1], f.code.value) for f in report.findings] == [
        ("a_bad.py", "QC000"),
        ("b_defect.py", "QC001"),
    ]
    assert report.files == 2


def test_discover_walks_directories_skips_excluded_and_keeps_explicit_files(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("")
    (tmp_path / "pkg" / "notes.txt").write_text("")
    (tmp_path / "pkg" / ".venv").mkdir()
    (tmp_path / "pkg" / ".venv" / "c.py").write_text("")
    (tmp_path / "script").write_text("")
    found = [
        name
        for name, _ in discover([str(tmp_path / "pkg"), str(tmp_path / "script")], LintConfig())
    ]
    assert found == [
        str(tmp_path / "pkg" / "a.py"),
        str(tmp_path / "pkg" / "sub" / "b.py"),
        str(tmp_path / "script"),
    ]


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"^no such file or directory: .*nope$"):
        discover([str(tmp_path / "nope")], LintConfig())


def test_fix_writes_the_file_and_diff_alone_does_not(tmp_path):
    path = tmp_path / "h.py"
    path.write_text(DEFECT.format(comment=""))
    dry = lint_paths([str(path)], LintConfig(), diff=True)
    assert path.read_text() == DEFECT.format(comment="")
    assert [f.code for f in dry.findings] == [Code.QC001]
    assert dry.fixed == 0
    (diff_bytes,) = dry.diffs
    diff = diff_bytes.decode()
    assert f"--- {path}\n+++ {path}\n" in diff
    assert "-    thread_id = payload.get('thread_id') or generate_thread_id()\n" in diff
    assert "+    thread_id = payload.get('thread_id')\n" in diff

    done = lint_paths([str(path)], LintConfig(), fix=True)
    assert done.findings == ()
    assert done.fixed == 1
    assert done.diffs == ()
    assert "generate_thread_id" not in path.read_text()


def test_fix_leaves_clean_files_byte_for_byte(tmp_path):
    path = tmp_path / "clean.py"
    data = b"# -*- coding: latin-1 -*-\nNAME = '\xe9'\n"
    path.write_bytes(data)
    report = lint_paths([str(path)], LintConfig(), fix=True)
    assert report.findings == ()
    assert path.read_bytes() == data


def test_worker_processes_give_the_same_report(tmp_path, monkeypatch):
    for n in range(4):
        (tmp_path / f"h{n}.py").write_text(DEFECT.format(comment="") if n % 2 else "x = 1\n")
    sequential = lint_paths([str(tmp_path)], LintConfig(), jobs=1)
    monkeypatch.setattr("auditor.lint.runner._FILES_PER_WORKER", 1)
    parallel = lint_paths([str(tmp_path)], LintConfig(), jobs=2)
    assert parallel == sequential
    assert [f.path.rsplit("/", 1)[1] for f in parallel.findings] == ["h1.py", "h3.py"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("nonl.py", DEFECT.format(comment="").rstrip("\n").encode()),  # no final newline
        ("formfeed.py", b"\x0c\n" + DEFECT.format(comment="").encode()),
        (
            "latin1.py",
            b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + DEFECT.format(comment="").encode(),
        ),
        ("bom.py", b"\xef\xbb\xbf" + DEFECT.format(comment="").encode()),
        ("crlf.py", DEFECT.format(comment="").replace("\n", "\r\n").encode()),
    ],
)
def test_the_diff_applies_with_patch_and_gives_what_fix_writes(tmp_path, monkeypatch, name, data):
    """`--diff` output applies with `patch -p0` to the file's bytes, giving the bytes
    `--fix` writes (no final newline, a form feed, latin-1, a BOM broke it)."""
    patch = shutil.which("patch")
    assert patch is not None, "patch(1) is needed (Debian's patch package)"
    for folder in ("patched", "fixed"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_bytes(data)
    lint_paths([str(tmp_path / "fixed" / name)], LintConfig(), fix=True)
    monkeypatch.chdir(tmp_path / "patched")
    (diff,) = lint_paths([name], LintConfig(), diff=True).diffs
    done = subprocess.run(
        [patch, "-p0", "--quiet", "--no-backup-if-mismatch"], input=diff, capture_output=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "patched" / name).read_bytes() == (tmp_path / "fixed" / name).read_bytes()
    assert (tmp_path / "fixed" / name).read_bytes() != data  # there was something to fix
