"""Tests for auditor/readers/documents.py: documents, their lines, and what cannot be parsed."""

from __future__ import annotations

import gzip
import json

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from auditor.readers.documents import (
    Document,
    decode_bytes,
    decompress,
    iter_documents,
    read_text,
)
from auditor.sources import Source


def _docs(data: bytes, explode_arrays: bool = False, truncated: bool = False) -> list[Document]:
    return list(iter_documents(decode_bytes(data, truncated), explode_arrays=explode_arrays))


def test_json_lines_one_document_per_line():
    data = b'{"a": 1}\n\n{"b": 2}\r\n[3]\n'
    assert _docs(data) == [Document(1, {"a": 1}), Document(3, {"b": 2}), Document(4, [3])]


def test_pretty_documents_one_after_another_start_at_their_first_line():
    data = b'{\n    "a": 1\n}\n{\n    "b": {\n        "c": 2\n    }\n}\n'
    assert _docs(data) == [Document(1, {"a": 1}), Document(4, {"b": {"c": 2}})]


def test_bad_lines_are_one_record_each():
    data = b'{"a": 1}\nnot json\nalso not\n{"b": 2}\n{"c": \n{"d": 4}\n'
    assert _docs(data) == [
        Document(1, {"a": 1}),
        Document(2, reject="invalid_json"),
        Document(3, reject="invalid_json"),
        Document(4, {"b": 2}),
        Document(5, reject="invalid_json"),
        Document(6, {"d": 4}),
    ]


def test_truncated_last_line_is_one_record():
    assert _docs(b'{"a": 1}\n{"b": "cut') == [
        Document(1, {"a": 1}),
        Document(2, reject="invalid_json"),
    ]


def test_truncated_pretty_document_is_one_record():
    data = b'{\n  "resourceSpans": [\n    {\n      "resource": {'
    assert _docs(data) == [Document(1, reject="invalid_json")]


def test_broken_pretty_document_resumes_at_the_next_document():
    data = b'{\n    "a": 1\n    "b": 2\n}\n{\n    "c": 3\n}\n'
    assert _docs(data) == [Document(1, reject="invalid_json"), Document(5, {"c": 3})]


def test_invalid_utf8_rejects_only_its_document():
    data = b'{"a": "ok"}\n{"b": "\xff\xfe"}\n{"c": "\xc3\xa9"}\n\xffnot json\n'
    assert _docs(data) == [
        Document(1, {"a": "ok"}),
        Document(2, reject="invalid_utf8"),
        Document(3, {"c": "é"}),
        Document(4, reject="invalid_utf8"),
    ]


def test_byte_order_mark_is_ignored():
    assert _docs(b'\xef\xbb\xbf{"a": 1}\n') == [Document(1, {"a": 1})]


def test_two_documents_on_one_line():
    assert _docs(b'{"a": 1} {"b": 2}\n') == [Document(1, {"a": 1}), Document(1, {"b": 2})]


def test_array_elements_with_their_own_lines():
    data = b'[\n  {\n    "a": 1\n  },\n  {"b": 2},\n  3\n]\n'
    assert _docs(data, explode_arrays=True) == [
        Document(2, {"a": 1}),
        Document(5, {"b": 2}),
        Document(6, 3),
    ]


def test_arrays_stay_whole_without_explode():
    assert _docs(b"[1, 2]\n") == [Document(1, [1, 2])]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[\n  {"a": 1},\n  {"b": ', [Document(2, {"a": 1}), Document(3, reject="invalid_json")]),
        (b'[\n  {"a": 1},\n', [Document(2, {"a": 1}), Document(3, reject="invalid_json")]),
        (b'[{"a": 1} {"b": 2}]', [Document(1, {"a": 1}), Document(1, reject="invalid_json")]),
        # a broken last element of a one-line array takes the `]` with it: one record
        (
            b'[{"a": 1}, 2024-05-06 x]\n',
            [Document(1, {"a": 1}), Document(1, reject="invalid_json")],
        ),
        (
            b'[{"a": 1}, oops]\n{"b": 2}\n',
            [Document(1, {"a": 1}), Document(1, reject="invalid_json"), Document(2, {"b": 2})],
        ),
        (b"[]\n[\n]\n", []),
    ],
)
def test_broken_and_empty_arrays(data, expected):
    assert _docs(data, explode_arrays=True) == expected


def test_cut_stream_ending_cleanly_still_counts_one_record():
    assert _docs(b'{"a": 1}\n', truncated=True) == [
        Document(1, {"a": 1}),
        Document(2, reject="invalid_json"),
    ]


def test_cut_stream_ending_mid_record_counts_that_record_only():
    assert _docs(b'{"a": 1}\n{"b', truncated=True) == [
        Document(1, {"a": 1}),
        Document(2, reject="invalid_json"),
    ]


def test_read_text_keeps_what_a_cut_gzip_stream_gave(tmp_path):
    whole = gzip.compress(b"".join(b'{"n": %d}\n' % i for i in range(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    text = read_text(Source(name="cut", path=path, compression="gzip"))
    documents = list(iter_documents(text))
    assert text.truncated
    assert documents[0] == Document(1, {"n": 0})
    assert documents[-1].reject == "invalid_json"
    assert all(d.reject is None for d in documents[:-1])


def _lines(count: int) -> list[bytes]:
    return [b'{"n": %d}\n' % i for i in range(count)]


@pytest.mark.parametrize(
    ("compression", "compress"),
    [("gzip", gzip.compress), ("zstd", zstandard.ZstdCompressor().compress)],
)
def test_every_member_or_frame_is_read(compression, compress):
    """Rotated-and-appended files, and the Collector's native zstd (one frame per flush)."""
    lines = _lines(3000)
    data = b"".join(compress(line) for line in lines) + b"\0\0\0"
    assert decompress(data, compression) == (b"".join(lines), False)


@pytest.mark.parametrize(
    ("compression", "compress"),
    [("gzip", gzip.compress), ("zstd", zstandard.ZstdCompressor().compress)],
)
def test_a_cut_last_frame_is_flagged_and_earlier_ones_kept(compression, compress):
    first, second = b"".join(_lines(10)), b"".join(_lines(2000))
    data = compress(first) + compress(second)[:-20]
    out, cut = decompress(data, compression)
    assert cut
    assert out.startswith(first)
    assert len(out) < len(first) + len(second)


def _framed(*documents: bytes) -> bytes:
    compressor = zstandard.ZstdCompressor()
    frames = [compressor.compress(d) for d in documents]
    return b"".join(len(f).to_bytes(4, "big") + f for f in frames)


def test_collector_legacy_framed_zstd_becomes_one_document_per_line():
    data = _framed(b'{"resourceSpans": []}', b'{"resourceLogs": []}')
    assert decompress(data, "zstd-framed") == (
        b'{"resourceSpans": []}\n{"resourceLogs": []}\n',
        False,
    )


def test_cut_framed_zstd_is_flagged():
    data = _framed(b'{"a": 1}', b'{"b": 2}')
    out, cut = decompress(data[:-3], "zstd-framed")
    assert cut and out.startswith(b'{"a": 1}\n')


_json_values = st.recursive(
    # 64-bit integers: orjson (the decoder) reads integers beyond int64 as floats, by design.
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


#: Bad lines, some of which start with a JSON value: a line that cannot be parsed at all is
#: one record, not the number or string its start reads as (a logging line, a fragment of a
#: pretty-printed document cut by `kubectl logs --tail`).
_BAD = [
    '{"cut": ',
    "plain text",
    "}",
    '{"a": 1,,}',
    "2026-11-24 08:28:50,001 INFO quality: server started",
    '"service.name": "quality",',
    '127.0.0.1 - - [06/May/2024 07:08:09] "GET / HTTP/1.1" 200 -',
    "true story",
    '"x" {"a": 1}',
]


@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(st.text(max_size=4), _json_values, max_size=3).map(lambda d: ("ok", d)),
            st.sampled_from(_BAD).map(lambda g: ("bad", g)),
        ),
        max_size=12,
    ),
    pretty=st.booleans(),
)
def test_every_line_or_document_is_accounted_for(lines, pretty):
    """Good documents come back at their first line, each bad line is one invalid_json."""
    # A leading good line: a lone broken first document may be a whole-file one (tested apart).
    chunks, expected, line = ['{"first": 0}'], [Document(1, {"first": 0})], 2
    for kind, item in lines:
        if kind == "ok":
            text = json.dumps(item, indent=4 if pretty else None)
            expected.append(Document(line, item))
        else:
            text = item
            expected.append(Document(line, reject="invalid_json"))
        chunks.append(text)
        line += text.count("\n") + 1
    data = "\n".join(chunks).encode() + b"\n"
    assert _docs(data) == expected


@given(
    elements=st.lists(
        st.one_of(
            st.dictionaries(st.text(max_size=4), _json_values, max_size=3).map(lambda d: ("ok", d)),
            st.sampled_from(_BAD).map(lambda g: ("bad", g)),
        ),
        max_size=10,
    )
)
def test_every_array_element_is_accounted_for(elements):
    """gcloud-style arrays (one element per indented line): a broken element costs one record."""
    rows, expected = [], []
    for number, (kind, item) in enumerate(elements, start=2):
        rows.append("  " + (json.dumps(item) if kind == "ok" else item))
        ok = kind == "ok"
        expected.append(Document(number, item) if ok else Document(number, reject="invalid_json"))
    data = ("[\n" + ",\n".join(rows) + "\n]\n").encode()
    assert _docs(data, explode_arrays=True) == expected


def test_broken_pretty_element_resumes_at_the_next_element():
    good = json.dumps([{"a": 1}], indent=2).splitlines()[1:-1]  # '  {', '    "a": 1', '  }'
    broken = ["  {", '    "a": 1', '    "b": 2', "  }"]
    lines = ["[", *good[:-1], "  },", *broken[:-1], "  },", *good, "]"]
    data = "\n".join(lines).encode()
    assert _docs(data, explode_arrays=True) == [
        Document(2, {"a": 1}),
        Document(5, reject="invalid_json"),
        Document(9, {"a": 1}),
    ]


def test_a_hand_formatted_document_may_span_lines_when_it_is_the_whole_input():
    data = b'{"data": [{"traceID": "a",\n   "spans": []}]}\n'
    assert _docs(data) == [Document(1, {"data": [{"traceID": "a", "spans": []}]})]


def test_a_broken_hand_formatted_whole_input_is_one_record():
    assert _docs(b'{"data": [{"traceID": "a",\n   "spans": [}]}\n') == [
        Document(1, reject="invalid_json")
    ]


def test_lines_that_would_join_into_one_value_stay_separate():
    data = b'{"a": 0}\n{"cut": \n{}\n}\n'
    assert _docs(data) == [
        Document(1, {"a": 0}),
        Document(2, reject="invalid_json"),
        Document(3, {}),
        Document(4, reject="invalid_json"),
    ]


def test_scan_documents_reports_progress_in_bytes_on_disk(tmp_path):
    from auditor import progress
    from auditor.fields import ReadOptions
    from auditor.readers.documents import scan_documents

    paths = []
    for name in ("a.json.gz", "b.json"):
        data = b'{"a": 1}\n[2]\n'
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        paths.append(path)
    seen: list[int] = []
    added: list[object] = []
    with progress.reporting(seen.append):
        scan_documents(
            [Source.for_path(p) for p in paths],
            ReadOptions(),
            lambda builder, where, value: added.append(value),
        )
    assert added == [{"a": 1}, [2], {"a": 1}, [2]]
    assert seen == [p.stat().st_size for p in paths]


def test_documents_are_read_with_the_collector_run_rarely(tmp_path):
    """The cyclic GC's first threshold is raised while documents are read, and restored."""
    import gc

    from auditor.fields import ReadOptions
    from auditor.readers import documents
    from auditor.sources import Source

    path = tmp_path / "docs.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n')
    seen: list[int] = []
    before = gc.get_threshold()

    def add(builder, where, value):
        seen.append(gc.get_threshold()[0])

    documents.scan_documents([Source.for_path(path)], ReadOptions(), add).collect()
    assert seen == [100_000, 100_000]
    assert gc.get_threshold() == before


def test_readers_in_two_threads_put_the_collector_threshold_back(tmp_path):
    """The threshold is process-wide: when the first reader in is the first one out, the
    second still reads with it raised, and the last one out puts back what was there (it
    stayed raised for good)."""
    import gc
    import threading

    from auditor.fields import ReadOptions
    from auditor.readers import documents
    from auditor.sources import Source

    path = tmp_path / "docs.jsonl"
    path.write_text('{"a": 1}\n')
    entered = [threading.Event(), threading.Event()]
    leave = [threading.Event(), threading.Event()]

    def reader(k: int) -> threading.Thread:
        def add(builder, where, value):
            entered[k].set()
            leave[k].wait(5)

        def run() -> None:
            documents.scan_documents([Source.for_path(path)], ReadOptions(), add)

        return threading.Thread(target=run)

    before = gc.get_threshold()
    first, second = reader(0), reader(1)
    first.start()
    assert entered[0].wait(5)
    second.start()
    assert entered[1].wait(5)
    leave[0].set()  # the first one in is the first one out
    first.join()
    assert gc.get_threshold()[0] == 100_000  # the second reader is still reading
    leave[1].set()
    second.join()
    assert gc.get_threshold() == before


def test_a_value_nested_past_the_decoders_depth_is_one_record_not_a_crash():
    """orjson stops at 1,024 levels and Python's decoder then ran out of stack: a traceback
    and exit 1 for one line, in every document format (and detection)."""
    from auditor.readers.detect import detect_text

    deep = '{"x": ' + "[" * 5000 + "]" * 5000 + "}"
    data = ('{"a": 1}\n' + deep + '\n{"b": 2}\n').encode()
    assert _docs(data) == [
        Document(1, {"a": 1}),
        Document(2, reject="invalid_json"),
        Document(3, {"b": 2}),
    ]
    assert _docs(("[\n" + deep + ',\n{"b": 2}\n]').encode(), explode_arrays=True) == [
        Document(2, reject="invalid_json"),
        Document(3, {"b": 2}),
    ]
    assert detect_text(deep + '\n{"event": "e"}\n') == "jsonl"
