"""The CLI's streams, run as a real process (stderr not a terminal): every error is exit 2 and
one line on stderr; stdout holds only the command's output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _quality(home: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "QUALITY_"))}
    env.update(extra_env)
    cmd = [sys.executable, "-m", "quality_cli", "--home", str(home), "--user", "alice", *args]
    # run where the home is: a command that writes by a relative name writes there
    home.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=home.parent)


def _one_line_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nosuchcmd"], "No such command 'nosuchcmd'"),
        (["metrics", "--period-hours", "-1"], "Invalid value for '--period-hours'"),
        (["audit"], "Missing argument"),
        (["audit", "x.jsonl", "--bogus"], "No such option: --bogus (see '"),
        (["token", "--ttl-hours", "1e300"], "Invalid value for '--ttl-hours'"),  # was a traceback
        (["token", "--ttl-hours", "inf"], "Invalid value for '--ttl-hours'"),
        (["--user", "  ", "chat", "hi"], "the user ID must not be blank"),
        (["--user", "", "chat", "hi"], "the user ID must not be blank"),  # was the login name
        # a bad global option is an error also for commands that do not use it (was exit 0)
        (["--strategy", "bogus", "audit", "x.jsonl"], "unknown strategy 'bogus'"),
        (["--strategy", "bogus", "lint", "."], "unknown strategy 'bogus'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, args, says):
    assert says in _one_line_exit_2(_quality(tmp_path / "home", *args))


@pytest.mark.parametrize("ttl", ["nan", "inf", "0", "-5", "abc"])
def test_a_session_ttl_that_is_not_a_positive_number_is_refused(tmp_path, ttl):
    done = _quality(tmp_path / "home", "chat", "hi", QUALITY_SESSION_TTL=ttl)
    assert "TTL" in _one_line_exit_2(done)


@pytest.mark.parametrize(
    "args",
    [["audit", "nope.jsonl"], ["--strategy", "bogus", "chat", "hi"], ["dashboard", "no.json"]],
)
def test_debug_adds_the_traceback_and_keeps_exit_2(tmp_path, args):
    """A CI job run with --debug still tells bad input (2) from a failed check (1)."""
    done = _quality(tmp_path / "home", "--debug", *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert done.stderr.splitlines()[-1].startswith("error: ")


def test_a_long_error_reply_is_not_wrapped_and_is_said_with_json_too(tmp_path):
    home = tmp_path / "home"
    long_id = "thread_" + "x" * 150
    plain = _one_line_exit_2(_quality(home, "thread", "switch", long_id))
    assert long_id in plain
    as_json = _quality(home, "thread", "switch", long_id, "--json")
    assert _one_line_exit_2(as_json) == plain
    assert '"type": "error"' in as_json.stdout


@pytest.mark.parametrize("damage", ["corrupt", "cannot open"])
def test_an_unusable_store_is_one_line(tmp_path, damage):
    home = tmp_path / "home"
    assert _quality(home, "chat", "hello").returncode == 0
    db = home / "quality.db"
    for extra in [db, *home.glob("quality.db-*")]:
        extra.unlink()
    if damage == "corrupt":
        db.write_bytes(os.urandom(8192))
    else:  # what SQLite says of a file it cannot open (read-only media, a directory)
        db.mkdir()
    line = _one_line_exit_2(_quality(home, "chat", "hello again"))
    assert line.startswith("error: the store (quality.db under the home) cannot be used: ")


def test_console_spans_go_to_stderr_and_json_stays_one_document(tmp_path):
    done = _quality(tmp_path / "home", "chat", "hello", "--json", OTEL_TRACES_EXPORTER="console")
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)["reply"]
    spans = tmp_path / "spans.txt"
    spans.write_text(done.stderr)
    audited = _quality(tmp_path / "home", "audit", str(spans), "--json")
    report = json.loads(audited.stdout)
    assert report["rejected"] == 0 and report["events"] >= 1
    assert {e["event"] for e in report["by_event"]} >= {"chat.user_message"}
    assert reply["thread_id"]


def test_a_report_that_cannot_be_written_is_refused_in_one_line(tmp_path):
    home = tmp_path / "home"
    target = tmp_path / "missing" / "report.md"  # checked before the request is sent
    line = _one_line_exit_2(_quality(home, "report", "-o", str(target)))
    assert line.startswith(f"error: Invalid value for '-o': {target} is in no existing directory")
    # a directory that takes no files (Linux' /proc): the OS error names the path
    line = _one_line_exit_2(_quality(home, "report", "-o", "/proc/self/report.md"))
    assert line.startswith("error: /proc/self/report.md: ")


def test_a_report_to_stdout_is_the_markdown_alone(tmp_path):
    done = _quality(tmp_path / "home", "report", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Quality report: summary") and "thread " not in done.stdout
    assert not (tmp_path / "-").exists()


def test_a_report_to_stdout_with_json_is_refused_before_the_request(tmp_path):
    """`-o -` and `--json` would put two documents on stdout (the markdown, then the JSON)."""
    home = tmp_path / "home"
    line = _one_line_exit_2(_quality(home, "report", "-o", "-", "--json"))
    assert "-o - prints the markdown alone" in line
    assert not (home / "logs" / "quality.jsonl").exists()  # no request was sent


def test_the_context_line_says_when_there_is_no_run_yet(tmp_path):
    done = _quality(tmp_path / "home", "validate", "Reduce p99 by 20% by Friday")
    assert done.returncode == 0, done.stderr
    assert "run None" not in done.stdout
    assert "run none yet (a chat message starts one)" in done.stdout


def test_a_user_id_that_is_not_utf8_is_refused_in_one_line(tmp_path):
    """Bytes that are not UTF-8 in argv (a traceback from the store, exit 1, before)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "QUALITY_"))}
    cmd = [sys.executable, "-m", "quality_cli", "--home", str(tmp_path / "home")]
    done = subprocess.run(
        [*map(os.fsencode, cmd), b"--user", b"b\xffob", b"chat", b"hi"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.decode("utf-8", "replace").splitlines()
    assert line.startswith("error: the user ID must be valid UTF-8")


def test_sigterm_stops_a_command_as_ctrl_c_does_and_leaves_no_temporary_file(tmp_path):
    """`timeout`, systemd, CI send SIGTERM: the default killed the process and left its
    spool and spill files (gigabytes) under TMPDIR."""
    import signal
    import time

    spool = tmp_path / "tmp"
    spool.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "QUALITY_"))}
    env["TMPDIR"] = str(spool)
    cmd = [sys.executable, "-m", "quality_cli", "--home", str(tmp_path / "home"), "audit", "-"]
    process = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdin is not None
    line = b'{"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "event": "e"}\n'
    process.stdin.write(line * 1000)
    process.stdin.flush()
    deadline = time.monotonic() + 30
    while not any(spool.iterdir()) and time.monotonic() < deadline:  # stdin is being spooled
        time.sleep(0.05)
    assert any(spool.iterdir())
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.decode().strip().splitlines() == ["cancelled"]
    assert list(spool.iterdir()) == []


def test_piped_output_keeps_ids_and_reports_whole(tmp_path):
    """Off a terminal (a pipe, a CI log, `> file`) tables are laid out at their natural width:
    at 80 columns `thread list` showed `thread_1795979…`, which `thread switch` cannot take,
    and the audit cut `source:line`. `quality report > r.md` is the markdown as it is (it was
    wrapped at 80 columns, and ended with the context line: that goes to stderr)."""
    home = tmp_path / "home"
    long_title = "A thread whose title is long enough to pass eighty columns on its own"
    created = _quality(home, "thread", "new", "--title", long_title, "--json")
    thread = json.loads(created.stdout)["reply"]["thread_id"]
    listed = _quality(home, "thread", "list")
    assert listed.returncode == 0, listed.stderr
    assert thread in listed.stdout and long_title in listed.stdout
    assert _quality(home, "validate", "Reduce p99 by 20% by Friday " * 3).returncode == 0
    report = _quality(home, "report", "--type", "detailed")
    assert report.returncode == 0, report.stderr
    expected = _quality(home, "report", "--type", "detailed", "-o", "-").stdout
    stamped = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")  # the minute it ran

    def timeless(text: str) -> list[str]:
        return [line for line in text.splitlines() if not stamped.search(line)]

    assert timeless(report.stdout) == timeless(expected)
    assert max(map(len, report.stdout.splitlines())) > 80  # a table row, not wrapped
    assert report.stderr.startswith(f"thread {thread}")
    log = tmp_path / "a-directory-with-a-long-name" / "of-service-logs" / "quality.jsonl"
    log.parent.mkdir(parents=True)
    lines = [
        {"timestamp": f"2026-11-24T08:00:0{i}Z", "user_id": "u", "thread_id": t, "event": "e"}
        for i, t in enumerate(
            ["thread_1795979781483_3_c9bccffe", "thread_1795979781483_9_0badc0de"]
        )
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    audit = _quality(home, "audit", str(log))
    assert audit.returncode == 0, audit.stderr
    assert f"{log}:2" in audit.stdout and "thread_1795979781483_9_0badc0de" in audit.stdout
    assert "…" not in audit.stdout


def test_a_home_that_is_a_file_is_said_so(tmp_path):
    """`--home /etc/passwd` said "File exists" (mkdir's error under the store)."""
    home = tmp_path / "not-a-dir"
    home.write_text("x")
    assert _one_line_exit_2(_quality(home, "chat", "hi")) == (
        f"error: the home {home} is not a directory"
    )
