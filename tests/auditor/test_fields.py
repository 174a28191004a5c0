"""Tests for auditor/fields.py: candidate lookup and option parsing."""

import io
import json

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from auditor.errors import UsageError
from auditor.fields import (
    DEFAULT_CANDIDATES,
    build_read_options,
    first_present,
    json_text,
    lookup,
)


@pytest.mark.parametrize(
    ("record", "path", "expected"),
    [
        ({"user.id": "u1"}, "user.id", "u1"),
        ({"user": {"id": "u2"}}, "user.id", "u2"),
        ({"attributes": {"user.id": "u3"}}, "attributes.user.id", "u3"),
        ({"a": {"b.c": {"d": 4}}}, "a.b.c.d", 4),
        ({"user": "plain"}, "user.id", None),
        ({}, "user.id", None),
    ],
)
def test_lookup_tries_literal_key_then_nested(record, path, expected):
    assert lookup(record, path) == expected


def test_first_present_follows_candidate_order():
    record = {"user_id": "second", "enduser.id": "third"}
    assert first_present(record, DEFAULT_CANDIDATES["user_id"]) == "second"


def test_map_puts_the_given_path_first():
    options = build_read_options(maps=["user_id=ctx.uid"])
    assert options.candidates["user_id"][0] == "ctx.uid"
    assert options.candidates["user_id"][1:] == DEFAULT_CANDIDATES["user_id"]


@pytest.mark.parametrize(
    ("maps", "extracts", "message"),
    [
        (["user_id"], [], "--map takes FIELD=VALUE, got 'user_id'"),
        (["colour=x"], [], "--map: unknown field 'colour'"),
        ([], ["thread_id=thread_\\w+"], "--extract thread_id: the regex needs a capture group"),
        ([], ["thread_id=(unclosed"], "--extract thread_id: invalid regex '(unclosed'"),
        # both engines run the regex (Python's re, Polars' Rust regex): only common syntax
        ([], ["thread_id=(?=x)(x)"], "--extract thread_id: regex '(?=x)(x)' is not supported by"),
        ([], ["thread_id=(?<t>x)"], "--extract thread_id: invalid regex"),
        ([], ["thread_id=([[:alnum:]]+)"], "--extract thread_id: regex '([[:alnum:]]+)': Possible"),
    ],
)
def test_bad_options_raise_usage_error(maps, extracts, message):
    with pytest.raises(UsageError) as info:
        build_read_options(maps=maps, extracts=extracts)
    assert str(info.value).startswith(message)


def test_a_literal_null_key_does_not_hide_the_nested_path():
    assert lookup({"user.id": None, "user": {"id": "u"}}, "user.id") == "u"
    assert lookup({"user.id": None}, "user.id") is None


def test_an_object_at_a_default_candidate_is_a_namespace_not_the_field():
    """Elastic ECS writes `event`, `trace` and `span` as objects (`event.action`,
    `trace.id`): such a record has no event name or trace ID there (absent, the next
    candidate is tried), where it was rejected whole as wrong_type. A plain string still
    is the field; a path `--map` names is the field whatever it holds."""
    from auditor.fields import STRING_FIELDS, ReadOptions

    defaults = build_read_options()
    assert defaults.holders == ReadOptions().holders
    assert {n: h for n, h in defaults.holders.items() if h} == {
        "event": frozenset({"event", "eventName", "name", "operationName"}),
        "trace_id": frozenset({"trace"}),
    }
    assert set(defaults.holders) == set(STRING_FIELDS)
    # named as an ID: an object there (MongoDB's {"$oid": ...}) is a wrongly typed ID
    assert not defaults.held("thread_id", "thread_id", {"$oid": "5f1d"})
    assert not defaults.held("user_id", "user.id", {"x": 1})
    assert defaults.held("event", "event", {"dataset": "chat.log"})
    assert defaults.held("trace_id", "trace", {"id": "abc"})
    assert not defaults.held("event", "event", "chat.user_message")
    assert not defaults.held("event", "event", ["x"])  # an array: wrong_type
    assert not defaults.held("ts", "timestamp", {"seconds": 1})
    options = build_read_options(maps=["event=event.action", "trace_id=trace"])
    assert options.candidates["event"] == ("event.action", *DEFAULT_CANDIDATES["event"])
    assert options.held("event", "event", {"dataset": "chat.log"})
    assert not options.held("trace_id", "trace", {"id": "abc"})  # mapped: wrong_type


@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.booleans(),
    )
)
@example(562949953421312.2)  # 562949953421312.25: a tie, Polars ...312.3, Python's repr ...312.2
@example(-562949953421312.2)
def test_json_text_is_the_text_polars_reads_a_json_value_as(value):
    """The per-line decoder (Python) and Polars' readers turn a non-string into the same
    text: `--split-by` sides, timestamps and messages do not depend on the decoder."""
    line = json.dumps({"v": value})
    polars_text = pl.read_ndjson(io.BytesIO(line.encode()), schema={"v": pl.String})["v"][0]
    assert json_text(value) == polars_text


@pytest.mark.parametrize(
    ("maps", "split_by", "says"),
    [
        (["user_id=" + ".".join(["a"] * 11)], None, "--map user_id: a path of 11 dotted parts"),
        ([], ".".join(["a"] * 20), "--split-by: a path of 20 dotted parts"),
    ],
)
def test_a_path_of_too_many_parts_is_refused(maps, split_by, says):
    """Each dot may be a literal key's or a nesting: 2^(n-1) lookups (20 parts: 3 GB,
    1,000 parts: a RecursionError traceback)."""
    with pytest.raises(UsageError, match=says):
        build_read_options(maps=maps, split_by=split_by)
    build_read_options(maps=["user_id=" + ".".join(["a"] * 10)])  # 10 parts are read
