"""Container logs (auditor/readers/containers.py): Docker's json-file driver and Kubernetes'
CRI files hold the app's JSON lines wrapped; they read as the app's lines would."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from auditor.audit import AuditOptions, audit
from auditor.readers.detect import detect_text

EVENTS = [
    ("u1", "s1", "t1", "thread.create"),
    ("u1", "s1", "t1", "chat.user_message"),
    ("u1", "s1", "t1", "quality.get_metrics"),
    ("u1", "s1", "t2", "quality.validate_content"),  # the break
    ("u2", "s2", "t3", "thread.create"),
    ("u2", "s2", "t3", "quality.get_metrics"),
]
KEYS = ("lines", "rejected", "unattributed", "events", "sessions", "breaks", "run_breaks")


def _app_lines() -> list[str]:
    return [
        json.dumps(
            {
                "timestamp": f"2026-11-24T08:00:0{i}Z",
                "user_id": user,
                "session_id": session,
                "thread_id": thread,
                "event": event,
            }
        )
        for i, (user, session, thread, event) in enumerate(EVENTS)
    ]


def _docker(lines: list[str], split_at: int | None = None) -> str:
    out = []
    for i, line in enumerate(lines):
        time = f"2026-11-24T08:00:0{i}.5Z"
        if i == split_at:  # over 16 KB: the driver splits it, all but the last piece without \n
            out.append({"log": line[:25], "stream": "stdout", "time": time})
            line = line[25:]
        out.append({"log": line + "\n", "stream": "stdout", "time": time})
    return "".join(json.dumps(entry) + "\n" for entry in out)


def _cri(lines: list[str], split_at: int | None = None) -> str:
    out = []
    for i, line in enumerate(lines):
        stamp = f"2026-11-24T08:00:0{i}.123456789Z"
        if i == split_at:
            out.append(f"{stamp} stdout P {line[:20]}")
            line = line[20:]
        out.append(f"{stamp} stdout F {line}")
    return "".join(f"{line}\n" for line in out)


def _report(path: Path, **options: object) -> dict[str, object]:
    return audit([str(path)], AuditOptions(**options))  # type: ignore[arg-type]


def test_plain_lines_are_the_reference(tmp_path):
    path = tmp_path / "app.jsonl"
    path.write_text("".join(line + "\n" for line in _app_lines()))
    report = _report(path)
    assert [report[k] for k in KEYS] == [6, 0, 0, 6, 2, 1, 0]


@pytest.mark.parametrize("compressed", [False, True])
def test_docker_json_file_reads_as_the_app_lines(tmp_path, compressed):
    """The json-file driver's entries, one split in two (a line over 16 KB): the same
    events and break as the app's lines, at the file's own line numbers."""
    text = _docker(_app_lines(), split_at=2)
    path = tmp_path / ("container-json.log.gz" if compressed else "container-json.log")
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    assert detect_text(text) == "docker"
    report = _report(path)
    assert [report[k] for k in KEYS] == [6, 0, 0, 6, 2, 1, 0]
    (example,) = report["break_examples"]
    assert (example["line"], example["expected_thread"], example["actual_thread"]) == (
        5,
        "t1",
        "t2",
    )
    assert example["ts"] == "2026-11-24T08:00:03.000000Z"  # the app's time wins the driver's


def test_cri_reads_partial_lines_and_plain_text(tmp_path):
    """CRI lines (`P` pieces joined to their `F`), a traceback on stderr (text: a record with
    the runtime's time, unattributed), and `kubectl logs --timestamps` lines alike."""
    text = _cri(_app_lines(), split_at=3) + (
        "2026-11-24T08:00:09.1Z stderr F Traceback (most recent call last):\n"
    )
    path = tmp_path / "0.log"
    path.write_text(text)
    assert detect_text(text) == "cri"
    report = _report(path)
    assert [report[k] for k in KEYS] == [7, 0, 1, 6, 2, 1, 0]
    assert report["break_examples"][0]["line"] == 5  # the `F` piece's line
    stamped = tmp_path / "kubectl.log"
    stamped.write_text(
        "".join(f"2026-11-24T08:00:0{i}.1+00:00 {line}\n" for i, line in enumerate(_app_lines()))
    )
    assert [_report(stamped)[k] for k in KEYS] == [6, 0, 0, 6, 2, 1, 0]


def test_the_runtime_time_stands_in_for_a_missing_one_and_extract_reads_text(tmp_path):
    """An app line without a timestamp takes the wrapper's; a text line's IDs are found by
    `--extract`, as in any log's message."""
    lines = [
        json.dumps({"user_id": "u1", "session_id": "s1", "thread_id": "t1", "event": "e"}),
        "user=u1 session=s1 thread=t9 handled quality.get_metrics",
    ]
    path = tmp_path / "0.log"
    path.write_text(_cri(lines))
    extracts = ("user_id=user=(\\S+)", "session_id=session=(\\S+)", "thread_id=thread=(\\S+)")
    report = _report(path, extracts=extracts)
    assert [report[k] for k in KEYS] == [2, 0, 0, 2, 1, 1, 0]
    assert report["time_range"] == {
        "start": "2026-11-24T08:00:00.123456Z",
        "end": "2026-11-24T08:00:01.123456Z",
    }


def test_broken_app_lines_keep_their_reasons(tmp_path):
    """A broken JSON line inside a wrapper is `invalid_json` at its own line; a line that is
    not a wrapper is read as it is."""
    text = (
        _docker(_app_lines()[:2])
        + json.dumps(
            {
                "log": '{"user_id": "u1", "thread_id":\n',
                "stream": "stdout",
                "time": "2026-11-24T08:00:05Z",
            }
        )
        + "\nnot a docker entry\n"
    )
    path = tmp_path / "c.log"
    path.write_text(text)
    report = _report(path)
    assert (report["lines"], report["events"], report["rejected_by_reason"]) == (
        4,
        2,
        {"invalid_json": 2},
    )
    assert [r["line"] for r in report["rejected_examples"]] == [3, 4]


def test_a_console_capture_of_log_lines_is_not_cri():
    assert detect_text("2026-11-24 08:28:50,001 INFO quality started\n{}\n") != "cri"
    assert detect_text("2026-11-24T08:28:50Z quality started\n") != "cri"  # no JSON, no stream


def _forwarded(shape: str, lines: list[str]) -> str:
    """The app's lines as a forwarder ships them, each its own format's record."""
    out = []
    for i, line in enumerate(lines):
        if shape == "journald":  # journalctl -o json
            record = {
                "__REALTIME_TIMESTAMP": str(1_795_507_200_000_000 + i * 1_000_000 + 500_000),
                "_SYSTEMD_UNIT": "chat.service",
                "PRIORITY": "6",
                "MESSAGE": line,
            }
        elif shape == "loki":  # logcli query --output=jsonl
            record = {
                "labels": {"app": "chat"},
                "line": line,
                "timestamp": f"2026-11-24T08:00:0{i}.5Z",
            }
        elif shape == "vector":  # kubernetes_logs source
            record = {
                "message": line,
                "timestamp": f"2026-11-24T08:00:0{i}.5Z",
                "kubernetes": {"pod_name": "chat-0"},
            }
        elif shape == "lambda":  # AWS Lambda's JSON log format: the app's object itself
            record = {
                "timestamp": f"2026-11-24T08:00:0{i}.5Z",
                "level": "INFO",
                "message": json.loads(line),
                "requestId": "79b4f56e-95b1-4643-9700-2807f4e68189",
            }
        else:  # fluent bit, out_file/stdout json_lines: `date` in epoch seconds
            record = {"date": 1_795_507_200.5 + i, "log": line, "stream": "stdout"}
        out.append(json.dumps(record))
    return "".join(f"{line}\n" for line in out)


@pytest.mark.parametrize("shape", ["journald", "loki", "vector", "fluentbit", "lambda"])
def test_forwarded_records_read_as_the_app_lines(tmp_path, shape):
    """journald's MESSAGE, Loki's line, Vector's message, Fluent Bit's log hold the app's
    JSON line as a string: the audit read 0 events (every record unattributed)."""
    text = _forwarded(shape, _app_lines())
    assert detect_text(text) == "embedded"
    path = tmp_path / f"{shape}.jsonl"
    path.write_text(text)
    report = _report(path)
    assert [report[k] for k in KEYS] == [6, 0, 0, 6, 2, 1, 0]
    assert report["break_examples"][0]["expected_thread"] == "t1"
    untimed = [
        json.dumps({k: v for k, v in json.loads(a).items() if k != "timestamp"})
        for a in _app_lines()
    ]
    path.write_text(_forwarded(shape, untimed))  # the forwarder's time stands in
    assert _report(path)["time_range"]["start"] == "2026-11-24T08:00:00.500000Z"


def test_our_own_log_lines_are_not_taken_for_forwarded_ones():
    """A record naming a user itself is the app's, whatever its message holds."""
    own = {"timestamp": "2026-11-24T08:00:00Z", "user_id": "u", "message": '{"user_id": "x"}'}
    assert detect_text(json.dumps(own) + "\n") == "jsonl"
    plain = {"timestamp": "2026-11-24T08:00:00Z", "message": '{"level": "info"}'}
    assert detect_text(json.dumps(plain) + "\n") == "jsonl"  # no user or thread inside


@pytest.mark.parametrize(
    "prefix",
    [
        "2026-11-24T08:00:0{i}.5+00:00 app[web.1]: ",  # Heroku, Render
        "<14>1 2026-11-24T08:00:0{i}.5Z web-1 chat 4242 - - ",  # syslog, RFC 5424
        "2026-11-24T08:00:0{i}.5Z\t79b4f56e-8f2a-4a1b-9c3d-2f6a1b2c3d4e\tINFO\t",  # Lambda text
        "Nov 24 08:00:0{i} web-1 chat[4242]: ",  # /var/log/syslog (rsyslog, RFC 3164)
    ],
)
def test_lines_with_a_text_prefix_read_as_the_app_lines(tmp_path, prefix):
    """The app's JSON object after a platform's prefix: every line was `invalid_json`."""
    lines = [prefix.format(i=i) + line for i, line in enumerate(_app_lines())]
    text = "".join(f"{line}\n" for line in lines)
    assert detect_text(text) == "prefixed"
    path = tmp_path / "app.log"
    path.write_text(text + "a line of text with no JSON\n")
    report = _report(path)
    assert [report[k] for k in KEYS] == [7, 1, 0, 6, 2, 1, 0]
    assert report["rejected_by_reason"] == {"invalid_json": 1}
    assert report["break_examples"][0]["line"] == 4


def test_a_console_capture_is_not_taken_for_prefixed_lines():
    """A service's stdout: a log line with a JSON payload, then a span printed over many
    lines, stays what it was (every first line must be a prefixed object)."""
    capture = (
        '2026-11-24 08:28:50,001 INFO request {"user_id": "u1", "thread_id": "t1"}\n'
        "{\n"
        '    "name": "quality.get_metrics",\n'
    )
    assert detect_text(capture) != "prefixed"


def test_split_lines_are_joined_per_stream(tmp_path):
    """Docker and the CRI runtime interleave stdout and stderr: a stderr line between a
    stdout line's pieces is its own record, not a piece of it."""
    app = _app_lines()[0]
    docker = [
        {"log": app[:30], "stream": "stdout", "time": "2026-11-24T08:00:00Z"},
        {"log": "Traceback\n", "stream": "stderr", "time": "2026-11-24T08:00:00Z"},
        {"log": app[30:] + "\n", "stream": "stdout", "time": "2026-11-24T08:00:00Z"},
    ]
    path = tmp_path / "docker.log"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in docker))
    report = _report(path)
    assert (report["lines"], report["events"], report["unattributed"], report["rejected"]) == (
        2,
        1,
        1,
        0,
    )
    cri = tmp_path / "0.log"
    cri.write_text(
        f"2026-11-24T08:00:00Z stdout P {app[:30]}\n"
        "2026-11-24T08:00:00Z stderr F Traceback\n"
        f"2026-11-24T08:00:00Z stdout F {app[30:]}\n"
    )
    report = _report(cri)
    assert (report["lines"], report["events"], report["unattributed"], report["rejected"]) == (
        2,
        1,
        1,
        0,
    )


APP = {"user_id": "u1", "thread_id": "t1", "event": "a"}


def _docker_entry(log: str, time: str = "2026-11-24T10:00:00.1Z") -> str:
    return json.dumps({"log": log, "stream": "stdout", "time": time})


@pytest.mark.parametrize(
    ("app", "start"),
    [
        ({**APP, "@timestamp": "2026-11-24T09:00:00Z"}, "2026-11-24T09:00:00.000000Z"),  # own wins
        ({**APP, "startTime": "2026-11-24T09:00:00Z"}, "2026-11-24T09:00:00.000000Z"),
        ({**APP, "time": None}, "2026-11-24T10:00:00.100000Z"),  # null: the wrapper's stands in
    ],
)
def test_the_apps_own_time_wins_and_a_null_one_is_none(tmp_path, app, start):
    path = tmp_path / "c.log"
    path.write_text(_docker_entry(json.dumps(app) + "\n") + "\n")
    report = _report(path)
    assert (report["events"], report["time_range"]["start"]) == (1, start)


def test_wrapped_lines_keep_the_files_line_numbers(tmp_path):
    """A split line the file ends in is a record at its last piece's line (it was one past
    the end); a raw newline inside an embedded app line does not make two lines; an empty
    app line is no record; broken app JSON inside a forwarder's record is invalid_json."""
    first = json.dumps({**APP, "timestamp": "2026-11-24T10:00:00Z"})
    cri = tmp_path / "0.log"
    cri.write_text(
        f"2026-11-24T10:00:00Z stdout F {first}\n2026-11-24T10:00:01Z stdout P {first[:20]}\n"
    )
    assert [(r["line"], r["reason"]) for r in _report(cri)["rejected_examples"]] == [
        (2, "invalid_json")
    ]
    docker = tmp_path / "d.log"
    docker.write_text(
        _docker_entry(first + "\n")
        + "\n"
        + _docker_entry("\n")
        + "\n"
        + _docker_entry(first[:20])
        + "\n"
    )
    report = _report(docker)
    assert (report["lines"], report["events"]) == (2, 1)
    assert [(r["line"], r["reason"]) for r in report["rejected_examples"]] == [(3, "invalid_json")]
    multi = (
        '{"timestamp": "2026-11-24T10:00:00Z",\n"user_id": "u1", "thread_id": "t1", "event": "a"}'
    )
    broken = '{"timestamp": "2026-11-24T10:00:01Z", "user_id": "u1", broken}'
    second = json.dumps({**APP, "thread_id": "t2", "timestamp": "2026-11-24T10:00:02Z"})
    loki = tmp_path / "loki.jsonl"
    loki.write_text(
        "".join(
            json.dumps({"line": x, "timestamp": "2026-11-24T10:00:00Z"}) + "\n"
            for x in (multi, broken, second)
        )
    )
    report = _report(loki)
    assert (report["lines"], report["events"], report["breaks"]) == (3, 2, 1)
    assert [(r["line"], r["reason"]) for r in report["rejected_examples"]] == [(2, "invalid_json")]
    assert report["break_examples"][0]["line"] == 3


def test_a_brace_in_a_prefix_does_not_hide_the_object(tmp_path):
    line = '<14>1 2026-11-24T10:00:00.1Z host app 12 - [meta k="{x}"] ' + json.dumps(APP)
    path = tmp_path / "syslog.log"
    path.write_text(line + "\n")
    assert detect_text(line + "\n") == "prefixed"
    report = _report(path)
    assert (report["events"], report["time_range"]["start"]) == (1, "2026-11-24T10:00:00.100000Z")


def test_detection_looks_past_a_platforms_own_first_lines():
    """Lambda's JSON format starts with a `platform.start` record, Heroku with its router's
    lines: the first line naming a user decides."""
    lambda_json = [
        {"time": "2026-11-24T10:00:00Z", "type": "platform.start", "record": {"requestId": "r1"}},
        {"timestamp": "2026-11-24T10:00:00.1Z", "level": "INFO", "requestId": "r1", "message": APP},
    ]
    assert detect_text("".join(json.dumps(x) + "\n" for x in lambda_json)) == "embedded"
    heroku = (
        "2026-11-24T10:00:00+00:00 heroku[web.1]: State changed from starting to up\n"
        f"2026-11-24T10:00:01+00:00 app[web.1]: {json.dumps(APP)}\n"
    )
    assert detect_text(heroku) == "prefixed"


def test_a_record_naming_its_ids_where_map_says_is_the_apps_own(tmp_path):
    """Its message holds JSON naming a (client's) user: with `--map` pointing at its own IDs
    the record is the app's, not a forwarder's (the IDs were thrown away: 0 events)."""
    lines = [
        {
            "ts": f"2026-11-24T10:00:0{i}Z",
            "ctx": {"uid": "u1", "conv": conv},
            "event": "request",
            "message": json.dumps({"user_id": "client-42", "path": "/chat"}),
        }
        for i, conv in enumerate(["t1", "t1", "t2"])
    ]
    path = tmp_path / "app.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    report = _report(path, maps=("user_id=ctx.uid", "thread_id=ctx.conv"))
    assert (report["events"], report["breaks"]) == (3, 1)


def test_forwarded_text_and_empty_lines_and_a_quiet_first_app_line(tmp_path):
    """journald's text MESSAGE (a traceback) is a record with journald's time, an empty
    one no record (they were missing_timestamp, and a record); a prefixed log whose app
    starts with a "server started" line (no user) is still detected."""
    app = _app_lines()[:2]
    journal = [
        {"__REALTIME_TIMESTAMP": "1795507200500000", "MESSAGE": app[0]},
        {
            "__REALTIME_TIMESTAMP": "1795507200600000",
            "MESSAGE": "Traceback (most recent call last):",
        },
        {"__REALTIME_TIMESTAMP": "1795507200700000", "MESSAGE": ""},
        {"__REALTIME_TIMESTAMP": "1795507201500000", "MESSAGE": app[1]},
    ]
    path = tmp_path / "journal.json"
    path.write_text("".join(json.dumps(x) + "\n" for x in journal))
    report = _report(path)
    assert (report["lines"], report["unattributed"], report["events"], report["rejected"]) == (
        3,
        1,
        2,
        0,
    )
    started = json.dumps(
        {"timestamp": "2026-11-24T07:59:59Z", "level": "info", "msg": "server started"}
    )
    heroku = f"2026-11-24T08:00:00+00:00 app[web.1]: {started}\n" + "".join(
        f"2026-11-24T08:00:0{i}.1+00:00 app[web.1]: {line}\n" for i, line in enumerate(app)
    )
    assert detect_text(heroku) == "prefixed"
