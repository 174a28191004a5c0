"""Tests for auditor/compare.py and auditor/stats.py: splits, deltas, intervals, p-values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from auditor.audit import audit, compare
from auditor.compare import delta, parse_split_at
from auditor.errors import UsageError
from auditor.stats import two_proportion_p_value, wilson_interval


def event(second: int, thread: str, version: str | None = None, event: str = "q") -> str:
    record = {
        "timestamp": f"2026-11-24T08:00:{second:02d}Z",
        "user_id": "u",
        "session_id": "s",
        "thread_id": thread,
        "event": event,
    }
    if version is not None:
        record["service"] = {"version": version}
    return json.dumps(record)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    lines = [
        event(0, "t1", "1.0", "thread.create"),
        event(1, "m1", "1.0"),
        event(2, "m2", "1.0"),
        event(3, "t1", "1.0"),
        event(30, "t2", "2.0", "thread.create"),
        event(31, "t2", "2.0"),
        event(32, "t2", "2.0"),
        event(33, "t2"),
        "not json",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_wilson_interval_known_value():
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    assert wilson_interval(0, 0) is None  # no events: no interval to claim
    # exact at the edges (rounding left 5.6e-17 for 0 of 7)
    assert wilson_interval(0, 7)[0] == 0.0 and round(wilson_interval(0, 7)[1], 4) == 0.3543
    assert wilson_interval(7, 7)[1] == 1.0


def test_p_value_known_value_and_degenerate_cases():
    # 10/100 vs 20/100: z = 1.98, two-sided p = 0.0477
    assert round(two_proportion_p_value(10, 100, 20, 100) or 0, 4) == 0.0477
    assert two_proportion_p_value(0, 10, 0, 10) == 1.0
    assert two_proportion_p_value(1, 0, 1, 10) is None


def test_delta_covers_numeric_keys_only():
    assert delta(
        {"a": 1, "r": 0.5, "s": "x", "l": [1]}, {"a": 4, "r": 0.25, "s": "y", "l": []}
    ) == {
        "a": 3,
        "r": -0.25,
    }


def test_split_at(log):
    result = audit([str(log)], split_at="2026-11-24T08:00:30Z")
    assert list(result)[:4] == ["before", "after", "delta", "p_value"]
    assert result["split"] == {"kind": "at", "value": "2026-11-24T08:00:30Z"}
    before, after = result["before"], result["after"]
    assert (before["events"], before["breaks"], after["events"], after["breaks"]) == (4, 2, 4, 0)
    # the rejected line has no timestamp: it is not before the split, so it is after
    assert (before["rejected"], after["rejected"]) == (0, 1)
    assert result["delta"]["breaks"] == -2
    assert result["delta"]["break_rate"] == -0.5
    expected = two_proportion_p_value(2, 4, 0, 4)
    assert result["p_value"] == expected
    assert result["significant"] is (expected is not None and expected < 0.05)


def test_split_by_field(log):
    result = audit([str(log)], split_by="service.version")
    assert result["split"] == {"kind": "by", "value": "service.version"}
    assert (result["before"]["label"], result["after"]["label"]) == (
        f"{log} 1.0",
        f"{log} 2.0",
    )
    assert (result["before"]["events"], result["after"]["events"]) == (4, 3)
    assert result["unsplit"] == 2
    assert "sides" not in result


def test_split_by_orders_versions_by_their_numbers(tmp_path):
    path = tmp_path / "versions.jsonl"
    versions = ["1.10.0", "1.9.0", "1.9.0-rc1", "2.0.0"]
    lines = [event(i, "t1", v, "thread.create") for i, v in enumerate(versions)]
    path.write_text("\n".join(lines) + "\n")
    result = audit([str(path)], split_by="service.version")
    assert list(result["sides"]) == ["1.9.0", "1.9.0-rc1", "1.10.0", "2.0.0"]
    assert result["before"]["label"].endswith(" 1.9.0")
    assert result["after"]["label"].endswith(" 2.0.0")


def test_split_by_needs_two_values(log):
    with pytest.raises(
        UsageError,
        match=r"--split-by nope: need at least two distinct values to compare, found none \(no",
    ):
        audit([str(log)], split_by="nope")


def test_split_at_and_split_by_together_is_a_usage_error(log):
    with pytest.raises(UsageError, match="use either --split-at or --split-by, not both"):
        audit([str(log)], split_at="2026-11-24T08:00:30Z", split_by="service.version")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-11-24T08:00:30Z", "2026-11-24T08:00:30+00:00"),
        ("2026-11-24T10:00:30+02:00", "2026-11-24T08:00:30+00:00"),
        ("2026-11-24 08:00:30", "2026-11-24T08:00:30+00:00"),
        # the rules of record timestamps: a leap second, an epoch number
        ("2026-11-24T08:00:60Z", "2026-11-24T08:01:00+00:00"),
        ("1795852830", "2026-11-28T08:00:30+00:00"),
    ],
)
def test_parse_split_at(text, iso):
    assert parse_split_at(text).isoformat() == iso


@pytest.mark.parametrize(
    "text", ["soon", "2024-01-01T00:00:02:50Z", "20240101T000100Z", "2024-W01-1T00:01:00Z"]
)
def test_parse_split_at_rejects_what_a_record_timestamp_may_not_be(text):
    with pytest.raises(UsageError, match=r"--split-at: cannot parse .* as a timestamp"):
        parse_split_at(text)


def test_split_by_reads_an_empty_value_as_absent(tmp_path):
    path = tmp_path / "versions.jsonl"
    lines = [event(0, "t1", "", "thread.create"), event(1, "t1", "1.0", "thread.create")]
    lines.append(event(2, "t1", "2.0", "thread.create"))
    path.write_text("\n".join(lines) + "\n")
    result = audit([str(path)], split_by="service.version")
    assert (result["before"]["events"], result["after"]["events"], result["unsplit"]) == (1, 1, 1)
    assert "sides" not in result


def test_compare_refuses_stdin_on_both_sides():
    with pytest.raises(UsageError, match=r"stdin \(-\) can be read only once"):
        compare(["-"], ["-"])


def test_compare_two_input_sets(tmp_path, log):
    after = tmp_path / "after.jsonl"
    after.write_text(event(0, "t1", None, "thread.create") + "\n" + event(1, "t1") + "\n")
    result = compare([str(log)], [str(after)])
    assert result["split"] == {"kind": "inputs", "value": f"{log} -> {after}"}
    assert (result["before"]["breaks"], result["after"]["breaks"]) == (2, 0)
    assert result["delta"]["lines"] == 2 - 9
    assert math.isclose(result["delta"]["break_rate"], -2 / 8)


def test_export_breaks_of_a_comparison_has_a_side_column(log, tmp_path):
    import polars as pl

    from auditor.audit import AuditOptions

    target = tmp_path / "breaks.csv"
    audit([str(log)], AuditOptions(export_breaks=target), split_at="2026-11-24T08:00:30Z")
    frame = pl.read_csv(target)
    assert frame.select("side", "line", "actual_thread").rows() == [
        ("before 2026-11-24T08:00:30Z", 2, "m1"),
        ("before 2026-11-24T08:00:30Z", 3, "m2"),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_breaks_is_written_in_chunks(log, tmp_path, monkeypatch, suffix):
    """An export of millions of breaks is fetched and written a chunk at a time (through a
    temporary directory, removed afterwards): the file is the one written in one piece,
    sides without breaks included."""
    import tempfile

    import polars as pl

    from auditor import audit as audit_module
    from auditor.audit import AuditOptions

    whole, chunked = tmp_path / f"whole{suffix}", tmp_path / f"chunked{suffix}"
    audit([str(log)], AuditOptions(export_breaks=whole), split_at="2026-11-24T08:00:30Z")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(audit_module, "EXPORT_CHUNK", 1)
    audit([str(log)], AuditOptions(export_breaks=chunked), split_at="2026-11-24T08:00:30Z")
    assert list(scratch.iterdir()) == []
    read = pl.read_csv if suffix == ".csv" else pl.read_parquet
    assert read(chunked).equals(read(whole))
    assert read(whole).get_column("line").to_list() == [2, 3]


def _versioned(path: Path, versions: list[object], bad_line: bool = False) -> Path:
    lines = [
        json.dumps(
            {
                "timestamp": f"2026-11-24T08:00:{i:02d}Z",
                "user_id": f"u{i}",
                "thread_id": "t",
                "event": "quality.get_metrics",
                "version": version,
            }
        )
        for i, version in enumerate(versions)
    ]
    path.write_text("\n".join(lines + (["not json"] if bad_line else [])) + "\n")
    return path


def test_split_by_values_that_read_alike_are_ordered_by_their_text(tmp_path):
    """`v1` and `v01` have the same natural key: their order (before, after, the sign of
    the deltas, the --fail-on-break-rate gate) followed the order Polars found them in."""
    orders = set()
    for versions in (["v1", "v01", "v1", "v01"], ["v01", "v1", "v01", "v1"]):
        result = audit([str(_versioned(tmp_path / "v.jsonl", versions))], split_by="version")
        orders.add((result["before"]["label"].split()[-1], result["after"]["label"].split()[-1]))
    assert orders == {("v01", "v1")}


def test_a_json_number_is_one_side_whichever_decoder_reads_it(tmp_path):
    """`1.0` read by Polars is `1`, by Python `1.0`: a file whose bad line (or an array in
    a batch) sent lines to the per-line decoder made two sides of one version."""
    versions: list[object] = [1.0, 2.0, 1e21, [3], 1.0]
    clean = audit([str(_versioned(tmp_path / "clean.jsonl", versions))], split_by="version")
    dirty = audit(
        [str(_versioned(tmp_path / "dirty.jsonl", versions, bad_line=True))], split_by="version"
    )
    assert (
        sorted(clean["sides"])
        == sorted(dirty["sides"])
        == [
            "1",
            "1000000000000000000000",
            "2",
            "[3]",
        ]
    )
    assert clean["sides"]["1"]["lines"] == dirty["sides"]["1"]["lines"] == 2


def test_the_side_order_does_not_depend_on_the_order_values_were_found_in():
    from itertools import permutations

    from auditor.ordering import natural_key

    values = ["1.10", "v1", "1.9", "v01", "1.09", "v001"]
    orders = {tuple(sorted(p, key=natural_key)) for p in permutations(values)}
    # digit runs as numbers, then values that read alike by their text
    assert orders == {("1.09", "1.9", "1.10", "v001", "v01", "v1")}


def test_split_by_a_field_with_too_many_values_is_refused(tmp_path, monkeypatch):
    """An ID given to --split-by by mistake made one analysis per value (100,000 values
    ran for hours); a comparison splits by a few values."""
    from auditor import compare as compare_module

    monkeypatch.setattr(compare_module, "MAX_SPLIT_VALUES", 3)
    path = _versioned(tmp_path / "many.jsonl", ["a", "b", "c", "d"])
    with pytest.raises(UsageError, match=r"--split-by version: 4 distinct values; .* at most 3"):
        audit([str(path)], split_by="version")
    three = _versioned(tmp_path / "three.jsonl", ["a", "b", "c"])
    assert list(audit([str(three)], split_by="version")["sides"]) == ["a", "b", "c"]
