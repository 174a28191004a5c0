"""CLI tests for `quality audit` and `quality compare`: exit codes, exact messages, JSON keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quality_cli.main import app

runner = CliRunner()
DESIGN_KEYS = [
    "lines",
    "rejected",
    "unattributed",
    "missing_thread",
    "events",
    "sessions",
    "threads",
    "breaks",
    "break_rate",
    "affected_sessions",
    "stray_threads",
    "orphan_threads",
    "run_breaks",
    "split_traces",
    "by_event",
    "rejected_by_reason",
]


def line(second: int, thread: str, event: str = "quality.get_metrics") -> str:
    return json.dumps(
        {
            "timestamp": f"2026-11-24T08:00:{second:02d}Z",
            "user_id": "u",
            "session_id": "s",
            "thread_id": thread,
            "event": event,
        }
    )


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    lines = [line(0, "t1", "thread.create"), line(1, "t1"), line(2, "m1"), line(3, "t1"), "oops"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_json_output_has_design_keys_first(log):
    result = runner.invoke(app, ["audit", str(log), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report)[: len(DESIGN_KEYS)] == DESIGN_KEYS
    assert (report["lines"], report["events"], report["breaks"], report["rejected"]) == (5, 4, 1, 1)


def test_summary_table_shows_breaks_and_rejects(log, monkeypatch):
    monkeypatch.chdir(log.parent)
    result = runner.invoke(app, ["audit", "log.jsonl"])
    assert result.exit_code == 0
    assert "Continuity" in result.stdout
    assert "log.jsonl:3" in result.stdout  # first break
    assert "log.jsonl:5" in result.stdout  # first reject
    assert "invalid_json=1" in result.stdout


def test_summary_table_names_a_record_by_its_index_on_a_shared_line(tmp_path, monkeypatch):
    """A Collector line holds a batch of spans: the second span of line 1 breaks."""

    def span(name: str, thread: str, second: int) -> dict[str, object]:
        return {
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": f"{second + 1:016x}",
            "name": name,
            "startTimeUnixNano": str(1_795_852_800 + second) + "000000000",
            "attributes": [
                {"key": "user.id", "value": {"stringValue": "u"}},
                {"key": "thread.id", "value": {"stringValue": thread}},
            ],
        }

    spans = [span("thread.create", "t1", 0), span("quality.get_metrics", "t2", 1)]
    batch = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    (tmp_path / "traces.jsonl").write_text(json.dumps(batch) + "\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["audit", "traces.jsonl"])
    assert result.exit_code == 0, result.output
    assert "traces.jsonl:1[1]" in result.stdout
    assert "traces.jsonl:1[0]" not in result.stdout


@pytest.mark.parametrize("rate", ["nan", "-0.1", "1.5"])
def test_fail_on_break_rate_must_be_a_rate(log, rate):
    result = runner.invoke(app, ["audit", str(log), "--fail-on-break-rate", rate])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --fail-on-break-rate: {float(rate)} is not a rate from 0 to 1"
    ]


def test_missing_path_is_exit_2_with_one_line(tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = runner.invoke(app, ["audit", str(missing)])
    assert result.exit_code == 2
    assert result.stderr == f"error: no such file or directory: {missing}\n"


def test_fail_on_break_rate_exits_1_above_threshold(log):
    above = runner.invoke(app, ["audit", str(log), "--json", "--fail-on-break-rate", "0.2"])
    assert above.exit_code == 1
    assert above.stderr == "break rate 25.0000% is above 20.0000%\n"
    below = runner.invoke(app, ["audit", str(log), "--json", "--fail-on-break-rate", "0.25"])
    assert below.exit_code == 0


def test_bad_map_is_a_usage_error(log):
    result = runner.invoke(app, ["audit", str(log), "--map", "colour=x"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --map: unknown field 'colour'")


def test_bad_export_suffix_fails_before_reading(log, tmp_path):
    result = runner.invoke(app, ["audit", str(log), "--export-breaks", str(tmp_path / "b.txt")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --export-breaks: cannot tell the format of '{tmp_path / 'b.txt'}'; "
        "use a .parquet or .csv file\n"
    )


@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_an_export_path_that_cannot_be_written_fails_before_reading(tmp_path, where):
    """Found after the whole audit before (11 s on 600,000 lines, the report thrown away);
    checked first now: an input that does not exist is not even looked at."""
    target = tmp_path / "nodir" / "b.csv" if where == "missing-dir" else tmp_path / "d.csv"
    if where == "a-directory":
        target.mkdir()
    missing_input = str(tmp_path / "not-there.jsonl")
    result = runner.invoke(app, ["audit", missing_input, "--export-breaks", str(target)])
    assert result.exit_code == 2
    reason = f"no directory {target.parent}" if where == "missing-dir" else "it is a directory"
    assert result.stderr == f"error: --export-breaks: cannot write {target}: {reason}\n"


def test_an_export_path_only_an_open_refuses_fails_before_reading(tmp_path):
    """/proc takes no new file whatever the permission bits say (root passed os.access):
    found by opening it, before reading; the reason does not repeat the path."""
    missing_input = str(tmp_path / "not-there.jsonl")
    result = runner.invoke(app, ["audit", missing_input, "--export-breaks", "/proc/b.csv"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --export-breaks: cannot write /proc/b.csv: No such file or directory\n"
    )


def test_a_write_error_of_polars_is_said_without_its_path():
    from auditor.exports import _reason

    polars_error = FileNotFoundError("No such file or directory (os error 2): /proc/x.csv")
    assert _reason(polars_error) == "No such file or directory"


def test_transition_option_replaces_default(log):
    result = runner.invoke(app, ["audit", str(log), "--json", "--transition", "none"])
    assert json.loads(result.stdout)["breaks"] == 1
    result = runner.invoke(
        app, ["audit", str(log), "--json", "--transition", "quality.get_metrics"]
    )
    assert json.loads(result.stdout)["breaks"] == 0


def test_split_at_prints_comparison(log):
    result = runner.invoke(app, ["audit", str(log), "--split-at", "2026-11-24T08:00:02Z"])
    assert result.exit_code == 0
    assert "Comparison (at: 2026-11-24T08:00:02Z)" in result.stdout
    assert "break rate change is not significant" in result.stdout


def test_a_comparison_table_shows_both_intervals_and_every_side(tmp_path):
    """DESIGN.md: the comparison reports Wilson 95% intervals for each break rate (the
    table left them to --json), and a --split-by of three values hid the middle one."""
    path = tmp_path / "versions.jsonl"
    rows = []
    for second, (version, thread) in enumerate(
        [("1.2", "t1"), ("1.9", "t1"), ("1.9", "t1"), ("1.10", "t1"), ("1.10", "t2")]
    ):
        record = json.loads(line(second, thread))
        rows.append(json.dumps({**record, "version": version}))
    path.write_text("\n".join(rows) + "\n")
    result = runner.invoke(
        app, ["audit", str(path), "--split-by", "version"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    ci_row = next(r for r in result.stdout.splitlines() if "break_rate 95% CI" in r)
    assert ci_row.count("% - ") == 2  # an interval on each side
    assert "Every version (first and last compared above)" in result.stdout
    values = [r.split("│")[1].strip() for r in result.stdout.splitlines() if r.count("│") == 6]
    assert values == ["1.2", "1.9", "1.10"]


def test_compare_json(log, tmp_path):
    after = tmp_path / "after.jsonl"
    after.write_text(line(0, "t1", "thread.create") + "\n" + line(1, "t1") + "\n")
    result = runner.invoke(app, ["compare", "--before", str(log), "--after", str(after), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data)[:4] == ["before", "after", "delta", "p_value"]
    assert data["delta"]["breaks"] == -1
    assert data["significant"] is False


def test_compare_takes_several_inputs_after_one_flag(log, tmp_path):
    """`--before a b --after c d`, as DESIGN.md writes it and a shell expands a glob: the
    same comparison as each input after its own flag."""
    parts = []
    for n in range(4):
        path = tmp_path / f"part-{n}.jsonl"
        path.write_text(line(0, "t1", "thread.create") + "\n" + line(1, f"t{n % 2 + 1}") + "\n")
        parts.append(str(path))
    spread = runner.invoke(
        app, ["compare", "--before", *parts[:2], "--after", *parts[2:], "--json"]
    )
    repeated = runner.invoke(
        app,
        [
            *("compare", "--before", parts[0], "--before", parts[1]),
            *("--after", parts[2], "--after", parts[3], "--json"),
        ],
    )
    assert spread.exit_code == repeated.exit_code == 0, spread.output
    assert json.loads(spread.stdout) == json.loads(repeated.stdout)
    assert json.loads(spread.stdout)["before"]["events"] == 4


@pytest.mark.parametrize(
    ("argv", "spread"),
    [
        (
            ["compare", "--before", "a", "b", "--after", "c"],
            ["compare", "--before", "a", "--before", "b", "--after", "c"],
        ),
        (
            ["compare", "--before", "a", "-", "--json", "x"],
            ["compare", "--before", "a", "--before", "-", "--json", "x"],
        ),
        (["audit", "a", "b", "--json"], ["audit", "a", "b", "--json"]),
        (
            ["compare", "--before=a", "b", "--after=c"],
            ["compare", "--before=a", "--before", "b", "--after=c"],
        ),
        (
            ["compare", "--before", "a", "--", "--after"],
            ["compare", "--before", "a", "--", "--after"],
        ),
    ],
)
def test_inputs_after_one_flag_are_spread_over_repeated_flags(argv, spread):
    from quality_cli._errors import spread_inputs

    assert spread_inputs(argv) == spread


def test_help_has_examples():
    for command in ("audit", "compare"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example: quality " + command in result.stdout


def test_label_and_split_by_in_json(tmp_path):
    path = tmp_path / "versions.jsonl"
    rows = [
        {
            "timestamp": "2026-11-24T08:00:00Z",
            "user_id": "u",
            "thread_id": "t1",
            "event": "thread.create",
            "v": "1",
        },
        {
            "timestamp": "2026-11-24T08:00:01Z",
            "user_id": "u",
            "thread_id": "m1",
            "event": "q",
            "v": "1",
        },
        {
            "timestamp": "2026-11-24T08:00:02Z",
            "user_id": "w",
            "thread_id": "t2",
            "event": "q",
            "v": "2",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = runner.invoke(
        app, ["audit", str(path), "--split-by", "v", "--label", "canary", "--json", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["split"] == {"kind": "by", "value": "v"}
    assert (data["before"]["label"], data["after"]["label"]) == ("canary 1", "canary 2")
    assert (data["before"]["breaks"], data["after"]["breaks"], data["unsplit"]) == (1, 0, 0)


def test_split_at_and_split_by_together_is_exit_2(log):
    result = runner.invoke(
        app, ["audit", str(log), "--split-at", "2026-11-24T08:00:02Z", "--split-by", "v"]
    )
    assert result.exit_code == 2
    assert result.stderr == "error: use either --split-at or --split-by, not both\n"


def test_ids_that_look_like_markup_are_printed_as_they_are(tmp_path, monkeypatch):
    """IDs and event names are data: `[red]t2` is shown as is, and `[/red]` breaks nothing."""
    lines = [line(0, "t1", "thread.create"), line(1, "[red]t2", "[/red]")]
    (tmp_path / "[blue]log.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["audit", "[blue]log.jsonl"])
    assert result.exit_code == 0, result.output
    assert "[red]t2" in result.stdout and "[/red]" in result.stdout
    assert "[blue]log.jsonl:2" in result.stdout


def test_ids_that_hold_terminal_escapes_are_shown_not_obeyed(tmp_path):
    """A session ID in a log set the window title and cleared the screen of whoever ran
    the audit; the tables show unprintable characters as escapes."""
    hostile = "\x1b]0;PWNED\x07\x1b[2J\u202eevil"
    path = tmp_path / "hostile.jsonl"
    records = [
        {
            "timestamp": f"2026-11-24T08:00:0{i}Z",
            "user_id": "u",
            "session_id": hostile,
            "thread_id": thread,
            "event": "\x1b[31mred",
        }
        for i, thread in enumerate(["t1", "t2", "t3"])
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    result = runner.invoke(app, ["audit", str(path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b]0;PWNED\\x07\\x1b[2J\\u202eevil" in result.stdout
    assert "\\x1b[31mred" in result.stdout


def test_audit_of_a_home_skips_its_database_and_says_so(tmp_path):
    """`quality audit $QUALITY_HOME`: the traces and logs are read, the SQLite store is not (it
    was read as 219 rejected lines), and the table says which file was skipped."""
    import sqlite3

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "quality.jsonl").write_text(line(0, "t1") + "\n")
    with sqlite3.connect(tmp_path / "quality.db") as db:
        db.execute("create table sessions (id)")
    db.close()
    result = runner.invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"skipped (not a log): {tmp_path / 'quality.db'} (SQLite database)" in result.stdout
    report = json.loads(runner.invoke(app, ["audit", str(tmp_path), "--json"]).stdout)
    assert (report["lines"], report["rejected"]) == (1, 0)


def test_many_skipped_files_are_counted_past_the_first_five(tmp_path):
    (tmp_path / "a.jsonl").write_text(line(0, "t1") + "\n")
    for i in range(8):
        (tmp_path / f"shot{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    result = runner.invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("skipped (not a log): ") == 5
    assert "skipped 3 more that are no logs (--json lists them all)" in result.stdout
    report = json.loads(runner.invoke(app, ["audit", str(tmp_path), "--json"]).stdout)
    assert len(report["skipped_inputs"]) == 8


def test_an_export_whose_chunks_cannot_be_written_says_where(tmp_path, monkeypatch):
    """A full TMPDIR said only "No space left on device (os error 28)"."""
    import errno
    import os
    import tempfile

    import polars as pl

    log = tmp_path / "log.jsonl"
    log.write_text(line(0, "t1") + "\n" + line(1, "t2") + "\n")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pl.DataFrame, "write_ipc", full)
    result = runner.invoke(app, ["audit", str(log), "--export-breaks", str(tmp_path / "b.csv")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --export-breaks: cannot write its chunks under {tempfile.gettempdir()}:"
        " No space left on device; set TMPDIR to a larger disk\n"
    )


def test_records_without_events_are_warned_of_and_fail_the_gate(tmp_path):
    """A log whose fields are elsewhere (here under names of its own) read as 0 events and a
    break rate of 0: exit 0, and a CI gate passed on a log it did not read."""
    log = tmp_path / "service.log"
    log.write_text(
        json.dumps({"timestamp": "2026-11-24T08:00:00Z", "uid": "u", "conv": "t"}) + "\n"
    )
    result = runner.invoke(app, ["audit", str(log), "--json", "--fail-on-break-rate", "0.5"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"warning: no events among 1 records (1 unattributed) in {log}: are the user and thread"
        " elsewhere? see --map and --extract (docs/audit.md)\n"
        "no events to check the break rate on\n"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    quiet = runner.invoke(app, ["audit", str(empty), "--json"])
    assert (quiet.exit_code, quiet.stderr) == (0, "")  # nothing read: nothing to warn of
