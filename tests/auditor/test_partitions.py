"""Records in partitions of whole sessions (auditor/partitions.py): spilled files and frames
held in memory mix, and every partition count gives the report of one partition."""

from __future__ import annotations

import gzip
import json
import random
import tempfile
from pathlib import Path

import polars as pl
import pytest

from auditor import continuity
from auditor.audit import AuditOptions, audit, load
from auditor.partitions import MAX_SPILL_PARTITIONS, Partitions, TraceBuckets


def _line(ts: int, user: str, session: str, thread: str, event: str, trace: str) -> str:
    return json.dumps(
        {
            "timestamp": f"2026-11-24T08:{ts // 60:02d}:{ts % 60:02d}.000001Z",
            "event": event,
            "user_id": user,
            "session_id": session,
            "thread_id": thread,
            "run_id": f"r{ts % 3}",
            "trace_id": trace,
        }
    )


def _instances(tmp_path: Path, seed: int = 3) -> list[Path]:
    """Two instances' logs of the same sessions: a plain file (spilled) and a .gz (in memory);
    some traces cross sessions and threads, a few lines are flagged for their raw text."""
    rng = random.Random(seed)
    plain, packed = [], []
    for ts in range(240):
        user = f"u{rng.randrange(6)}"
        session = f"s{rng.randrange(3)}"
        thread = f"t{rng.randrange(4)}"
        event = rng.choice(["thread.create", "chat.user_message", "quality.get_metrics"])
        trace = f"{rng.randrange(40):032x}"
        text = _line(ts, user, session, thread, event, trace)
        if ts % 53 == 26:  # a span ID that is a number: redone, a wrong_type reject
            text = text[:-1] + ', "span_id": 1234}'
        elif ts % 37 == 0:  # an all-digit span ID: redone from its text, and unchanged
            text = text[:-1] + ', "span_id": "1234"}'
        (plain if rng.random() < 0.6 else packed).append(text)
    a = tmp_path / "a.jsonl"
    a.write_text("\n".join(plain) + "\n")
    b = tmp_path / "b.jsonl.gz"
    b.write_bytes(gzip.compress(("\n".join(packed) + "\n").encode()))
    return [a, b]


def _own_reads(monkeypatch) -> None:
    """No file counts as small: each plain file has its own (fast) read, as large ones do."""
    monkeypatch.setattr("auditor.readers.jsonl._SMALL_FILE_BYTES", 0)


@pytest.mark.parametrize("shared", [True, False], ids=["shared-decode", "own-reads"])
@pytest.mark.parametrize("rows", [1, 7, 50, 10_000])
def test_any_partition_count_gives_the_same_report(tmp_path, monkeypatch, rows, shared):
    paths = [str(p) for p in _instances(tmp_path)]
    if not shared:
        _own_reads(monkeypatch)
    whole = audit(paths, AuditOptions(label="x"))
    assert whole["split_traces"] > 0 and whole["breaks"] > 0
    monkeypatch.setattr(continuity, "PARTITION_ROWS", rows)
    assert audit(paths, AuditOptions(label="x")) == whole


def test_small_files_decoded_together_give_the_report_of_their_own_reads(tmp_path, monkeypatch):
    """A directory of many small logs (and compressed ones) is decoded in shared batches,
    spilled by session: the same report, examples and `source:line` included, as when each
    file is read on its own; a cut .gz and a line of invalid UTF-8 keep their exact reasons."""
    plain, packed = _instances(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = plain.read_text().splitlines()
    for n in range(0, len(lines), 25):  # small files, several instances' pieces
        (logs / f"part-{n:04d}.jsonl").write_text("\n".join(lines[n : n + 25]) + "\n")
    packed.rename(logs / "packed.jsonl.gz")
    (logs / "cut.jsonl.gz").write_bytes(
        gzip.compress(("\n".join(lines[:10]) + "\n").encode())[:-30]
    )
    (logs / "bad.jsonl").write_bytes(lines[0].encode() + b"\n\xff\xfe\n\n" + lines[1].encode())
    monkeypatch.setattr(continuity, "PARTITION_ROWS", 20)
    monkeypatch.setattr("auditor.readers.jsonl._SHARED_BATCH_LINES", 7)  # batches across files
    shared_csv, own_csv = tmp_path / "shared.csv", tmp_path / "own.csv"
    shared = audit([str(logs)], AuditOptions(label="x", export_breaks=shared_csv))
    with tempfile.TemporaryDirectory() as spill:
        stored = load([str(logs)], AuditOptions(), spill_dir=Path(spill)).records
        assert isinstance(stored, Partitions)
        assert not stored.frames  # every file went to the spill, in shared batches
        assert all("shared" in str(f) for part in stored.files for f in part)
    _own_reads(monkeypatch)
    monkeypatch.setattr("auditor.readers.jsonl._shared_decode", lambda sources: [])
    own = audit([str(logs)], AuditOptions(label="x", export_breaks=own_csv))  # one by one
    assert shared == own
    # every break exported, its text fetched with one decode for all the files
    assert shared_csv.read_text() == own_csv.read_text()
    assert len(shared_csv.read_text().splitlines()) == shared["breaks"] + 1
    reasons = shared["rejected_by_reason"]
    assert (reasons["invalid_json"], reasons["invalid_utf8"], reasons["wrong_type"]) == (1, 1, 5)
    assert shared["lines"] > 240 + 3 and shared["breaks"] > 0  # some of the cut file, and bad.jsonl
    assert {e["source"] for e in shared["break_examples"]} <= {str(p) for p in logs.iterdir()}


def test_mixed_inputs_are_partitioned_files_and_frames(tmp_path, monkeypatch):
    paths = [str(p) for p in _instances(tmp_path)]
    _own_reads(monkeypatch)
    monkeypatch.setattr(continuity, "PARTITION_ROWS", 20)
    with tempfile.TemporaryDirectory() as spill:
        stored = load(paths, AuditOptions(), spill_dir=Path(spill)).records
        assert isinstance(stored, Partitions)
        assert 1 < stored.count <= MAX_SPILL_PARTITIONS
        # the plain file and the .gz went to disk (the .gz in its own shared batches)
        assert any("shared-1" in str(f) for part in stored.files for f in part)
        assert any("shared" not in str(f) for part in stored.files for f in part)
        assert len(stored.frames) == 1  # only the replacing rows stay in memory
        # only the lines whose redone row differs are replaced: the numbers, not the digits
        plain = paths[0]
        lines = Path(plain).read_text().splitlines()
        numbers = [n for n, text in enumerate(lines, 1) if '"span_id": 1234}' in text]
        digits = [n for n, text in enumerate(lines, 1) if '"span_id": "1234"}' in text]
        assert numbers and digits
        assert stored.replaced is not None
        assert sorted(stored.replaced.rows()) == [(0, n) for n in numbers]
        assert sorted(stored.frames[0].select("line", "reject_reason").rows()) == [
            (n, "wrong_type") for n in numbers
        ]
        # every record is in exactly one partition, and a session in only one
        parts = [stored.part(k) for k in range(stored.count)]
        frames = [p.collect() for p in parts if p is not None]
        assert sum(f.height for f in frames) == 240
        sessions = [set(f["session_key"].drop_nulls().to_list()) for f in frames]
        assert sum(len(s) for s in sessions) == len(set().union(*sessions))
        # the analysis splits the spilled partitions again: smaller pieces, same sessions
        pieces = list(stored.pieces())
        assert len(pieces) > len(frames)
        assert max(p.height for p in pieces) < max(f.height for f in frames)
        assert sum(p.height for p in pieces) == 240
        keys = [set(p["session_key"].drop_nulls().to_list()) for p in pieces]
        assert sum(len(k) for k in keys) == len(set().union(*keys)) == len(set().union(*sessions))


def test_trace_buckets_on_disk_and_in_memory_agree(tmp_path):
    rng = random.Random(5)
    frame = pl.DataFrame(
        {
            "trace_key": [rng.randrange(30) for _ in range(500)],
            "thread_key": [rng.randrange(3) for _ in range(500)],
        },
        schema={"trace_key": pl.UInt128, "thread_key": pl.UInt128},
    ).with_columns(  # accepted events of a user's session: all traced
        reject_reason=pl.lit(None, pl.Categorical), session_key=pl.lit(1, pl.UInt128)
    )
    expected = frame.group_by("trace_key").agg(pl.col("thread_key").n_unique() > 1)
    split = int(expected.get_column("thread_key").sum())
    # rejected records and records without a trace are no evidence of a split
    others = pl.DataFrame(
        {
            "trace_key": [1000, 1000, None],
            "thread_key": [7, 8, 9],
            "reject_reason": ["bad_timestamp"] * 2 + [None],
        },
        schema={"trace_key": pl.UInt128, "thread_key": pl.UInt128, "reject_reason": pl.Categorical},
    ).with_columns(session_key=pl.lit(1, pl.UInt128))
    frame = pl.concat([frame, others.select(frame.columns)])
    # in memory; on disk from the start; in memory until the budget is spent, then on disk
    for scratch, memory in ((None, 0), (tmp_path / "disk", 0), (tmp_path / "mixed", 3000)):
        buckets = TraceBuckets(4, scratch, memory)
        for piece in frame.iter_slices(64):
            buckets.add(piece)
        assert buckets.split_count() == split
    assert sorted(p.name for p in (tmp_path / "disk" / "traces").iterdir()) == list("0123")
    mixed = list((tmp_path / "mixed" / "traces").glob("*/*.ipc"))
    disk = list((tmp_path / "disk" / "traces").glob("*/*.ipc"))
    assert 0 < len(mixed) == len(disk)  # what was held went to disk too
    held = TraceBuckets(4, tmp_path / "held", memory=10**9)
    held.add(frame)
    assert held.split_count() == split and not (tmp_path / "held").exists()
