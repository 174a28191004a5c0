"""The cheap paths of `auditor.readers.normalize` agree with the general rules they shortcut."""

from __future__ import annotations

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from auditor.readers.jsonl_plan import _MAYBE_TYPED, _maybe_typed
from auditor.readers.normalize import (
    common_timestamp,
    normalize_id,
    parse_timestamp,
    with_timestamp,
)
from auditor.records import BAD, normalize_hex_id
from auditor.records import parse_timestamp as parse_python

TEMPLATE = "2026-11-24T08:59:07.123456Z"
#: Characters that make a near-miss of the common shape: digits, separators, signs, zones.
NEAR = "0123456789-+:.TZz a"


@st.composite
def near_timestamps(draw: st.DrawFn) -> str:
    """The common shape with a few characters replaced, inserted or removed."""
    text = list(TEMPLATE)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        char = draw(st.sampled_from(NEAR))
        if action == "replace":
            text[i] = char
        elif action == "insert":
            text.insert(i, char)
        elif len(text) > 1:
            del text[i]
    return "".join(text)


def _both(values: list[str | None]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"raw": values, "nano": [False] * len(values)}, schema_overrides={"raw": pl.String}
    )
    general = frame.select(parse_timestamp(pl.col("raw"), pl.col("nano")).alias("ts"))
    staged = with_timestamp(frame.lazy(), "raw", "nano").select("ts").collect()
    common = frame.select(common_timestamp(pl.col("raw")).alias("ts"))
    # compared as integers: a parse may give a year Python's datetime cannot hold
    return pl.DataFrame(
        {"raw": values, "general": general["ts"], "staged": staged["ts"], "common": common["ts"]}
    ).with_columns(pl.col("general", "staged", "common").dt.epoch("us"))


@settings(max_examples=300, deadline=None)
@given(st.lists(near_timestamps(), min_size=1, max_size=30))
def test_common_shape_agrees_with_the_general_rules(values):
    out = _both(values)
    # the staged parse is the general one, value for value
    assert out["staged"].to_list() == out["general"].to_list()
    # the shortcut is either silent (null) or right
    wrong = out.filter(
        pl.col("common").is_not_null() & ~pl.col("common").eq_missing(pl.col("general"))
    )
    assert wrong.is_empty(), wrong


def _decimals(fraction_digits: int = 24, exponents: bool = True) -> st.SearchStrategy[str]:
    """Decimal epochs: integer parts of every magnitude (around the unit limits and past
    year 9999 too), fractions of any length, a sign and an exponent now and then."""
    whole = st.one_of(
        st.integers(0, 10**21),
        st.sampled_from([10**11 - 1, 10**11, 10**14 - 1, 10**14, 10**17 - 1, 10**17, 10**20]),
    )
    exponent = (
        st.sampled_from(["", "", "", "e3", "E-3", "e+2", "e400"]) if exponents else st.just("")
    )
    return st.builds(
        lambda sign, w, f, e: f"{sign}{w}.{f}{e}",
        st.sampled_from(["", "", "+", "-"]),
        whole.map(str) | st.just(""),
        st.text("0123456789", max_size=fraction_digits),
        exponent,
    )


@st.composite
def any_timestamps(draw: st.DrawFn) -> str:
    """Timestamp texts of every kind the readers meet, and near misses: RFC 3339 with any
    date, time, fraction and offset (valid or not), epoch numbers of any magnitude."""
    two = st.integers(0, 99).map(lambda n: f"{n:02d}")
    rfc = st.builds(
        lambda y, mo, d, sep, h, mi, sec, frac, zone, pad: (
            f"{pad}{y}-{mo}-{d}{sep}{h}:{mi}:{sec}{frac}{zone}{pad}"
        ),
        st.sampled_from(["1969", "1970", "2026", "9999", "0001", "-2026", "0000"]),
        st.sampled_from(["01", "02", "12", "13", "00"]),
        st.sampled_from(["01", "28", "29", "31", "32"]),
        st.sampled_from(["T", "t", " ", "  ", "_"]),
        st.sampled_from(["00", "23", "24"]),
        st.sampled_from(["00", "59", "60"]),
        st.sampled_from(["00", "59", "60", "61"]),
        st.sampled_from(["", ".", ".5", ".123456", ".1234567", ".123456789123"]),
        st.one_of(
            st.sampled_from(["Z", "z", "", " Z", "+02", "-0530"]),
            st.builds(
                lambda s, h, c, m: f"{s}{h}{c}{m}",
                st.sampled_from("+-"),
                two,
                st.sampled_from([":", ""]),
                two,
            ),
        ),
        st.sampled_from(["", " ", "\u00a0"]),
    )
    epoch = st.one_of(
        st.integers(-10, 10**22).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        _decimals(),
        st.sampled_from(["1e30", "1e21", ".5", "5.", "+17", "1_000", "0x10", "nan", "inf"]),
    )
    return draw(st.one_of(rfc, epoch, near_timestamps()))


@settings(max_examples=150, deadline=None)
@given(st.lists(any_timestamps(), min_size=1, max_size=20))
def test_jsonl_timestamps_are_the_python_readers_rule(values):
    """The JSON-lines reader's Polars expressions and the other readers' Python function
    (`auditor.records.parse_timestamp`) give the same instant, or both reject the value."""
    staged = _both(values)["staged"].to_list()
    expected = [parse_python(v) for v in values]
    assert staged == [None if e is BAD else e for e in expected]


def test_common_shape_examples():
    out = _both(
        [TEMPLATE, "2026-11-24T08:59:07.+12345Z", "2026-11-24T08:59:07.12a456Z", None, "1732435200"]
    )
    assert out["common"].null_count() == 4
    assert out["staged"].to_list() == out["general"].to_list()
    assert out["staged"][4] is not None  # the epoch value went the general way


_ID_TEXT = st.text(alphabet="0123456789abcdefxXABCDEF/projectsrac-", min_size=1, max_size=40)


@st.composite
def _zero_ids(draw: st.DrawFn) -> str:
    """IDs around the zero rules: a prefix, then ``length`` digits of which the first
    ``zeros`` are zeros (all zeros, or 32 digits with a zero first half, or nearly)."""
    prefix = draw(st.sampled_from(["", "0x", "0X", "projects/p/traces/"]))
    length = draw(st.sampled_from([16, 31, 32, 33]) | st.integers(1, 40))
    zeros = min(length, draw(st.sampled_from([15, 16, 17, length]) | st.integers(0, length)))
    size = length - zeros
    digits = draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=size, max_size=size))
    return prefix + "0" * zeros + digits


_ZERO_IDS = _zero_ids()


@settings(max_examples=300, deadline=None)
@given(st.lists(_ID_TEXT | _ZERO_IDS, min_size=1, max_size=20))
def test_normalize_id_is_the_python_readers_rule(values):
    """The jsonl reader's expression and the other readers' function agree on every
    non-empty ID (the readers make an empty one absent before)."""
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    got = frame.select(normalize_id(pl.col("v"))).to_series().to_list()
    assert got == [normalize_hex_id(v) for v in values]


#: JSON values that are not strings (nor null): what an ID must not be.
_TYPED_JSON = st.recursive(
    st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner | st.none() | st.text(max_size=3), max_size=3)
        | st.dictionaries(st.text(max_size=3), inner | st.none(), max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(_TYPED_JSON)
def test_the_text_polars_makes_of_a_typed_json_value_is_flagged(value):
    """Both JSON readers of the fast paths (the NDJSON file scan, ``str.json_decode``)
    turn a number, bool or container read into a String column into text that
    `_maybe_typed` flags (numbers in plain decimal), or fail the read (then the exact,
    line-by-line path runs, which sees the type)."""
    import json
    import tempfile
    from pathlib import Path

    line = json.dumps({"id": value})
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "one.jsonl"
        path.write_text(line + "\n")
        try:
            # as the fast path reads a file: a file:// URI, streaming
            scan = pl.scan_ndjson(path.as_uri(), schema={"id": pl.String})
            read = scan.collect(engine="streaming")
        except pl.exceptions.ComputeError:
            read = None
    if read is not None:
        assert read.select(_maybe_typed(pl.col("id"))).item(), read["id"][0]
    try:
        decoded = pl.Series([line]).str.json_decode(pl.Struct({"id": pl.String}))
    except pl.exceptions.ComputeError:
        return
    text = decoded.struct.field("id")
    assert text.to_frame("id").select(_maybe_typed(pl.col("id"))).item(), text[0]


@given(st.text(max_size=12) | st.sampled_from(["-1", "1.5", "[1]", "{}", "0x1f", ".5", "1f"]))
def test_maybe_typed_is_the_regex(value):
    import re

    flagged = pl.DataFrame({"v": [value]}).select(_maybe_typed(pl.col("v"))).item()
    assert flagged == bool(re.search(_MAYBE_TYPED.replace("$", r"\Z"), value))


#: Values where the two implementations once disagreed (found by brute force).
_TS_EDGES = [
    "9999-12-31T23:59:60Z",  # a leap second past the last instant: bad in both
    "9999-12-31T23:59:60.123456Z",
    "9999-12-31T23:59:59.999999Z",
    "\x1c1732435200",  # not Unicode White_Space: not stripped
    "1732435200\x1f",
    "\u3000 2026-11-24T08:59:07Z\u2029",  # Unicode White_Space: stripped
]
_ID_EDGES = [
    "projects/p/traces/0x0000",  # one prefix only
    "0" * 16 + "\u00e9" * 16,  # lengths in characters, not bytes
    "0" * 17 + "\u00e9" * 15,
    "0" * 16 + "\u0130" * 16,  # lower-casing makes it longer: checked before
]


def test_the_two_timestamp_rules_agree_on_known_edges():
    staged = _both(_TS_EDGES)["staged"].to_list()
    assert staged == [None if (v := parse_python(t)) is BAD else v for t in _TS_EDGES]
    assert staged[2] is not None and staged[3] is None and staged[5] is not None


def test_the_two_id_rules_agree_on_known_edges():
    frame = pl.DataFrame({"v": _ID_EDGES})
    got = frame.select(normalize_id(pl.col("v"))).to_series().to_list()
    assert got == [normalize_hex_id(v) for v in _ID_EDGES]
    assert got[0] == "0x0000" and got[1] == "\u00e9" * 16


@settings(max_examples=200, deadline=None)
@given(_decimals(fraction_digits=18, exponents=False))
def test_decimal_epochs_are_exact(text):
    """A decimal epoch is read exactly (up to 18 fraction digits), truncated to the
    microsecond as RFC 3339 fractions are: a float rounded "1795507200.9999999" (s) up to
    the next second, and "1795507200.5000009" to .500001."""
    from decimal import Decimal, localcontext

    from auditor.records import epoch_unit
    from auditor.schema import MAX_US, MIN_US

    whole = text.lstrip("+-").split(".")[0] or "0"
    assume(int(whole) < 10**20)  # past that, the float's rule (the test above)
    expected: int | None = None
    if float(text + "0") > 0:
        exponent = {"s": 0, "ms": 3, "us": 6, "ns": 9}[epoch_unit(float(text + "0"))]
        with localcontext() as exact:
            exact.prec = 80
            us = int(Decimal(text.lstrip("+") + "0").scaleb(6 - exponent))  # toward zero
        expected = us if MIN_US <= us <= MAX_US else None
    python = parse_python(text)
    assert (None if python is BAD else python) == expected
    assert _both([text])["staged"].to_list() == [expected]


def test_decimal_epoch_examples():
    second = 1_795_507_200_000_000  # 2026-11-24T08:00:00Z in microseconds
    assert _both(["1795507200.9999999", "1795507200.5000009", "1795507200999999.9"])[
        "staged"
    ].to_list() == [second + 999_999, second + 500_000, second + 999_999]
    # a JSON number is a double: 1795507200.9999999 is 1795507201.0 before any reader sees it
    assert parse_python(1795507200.9999998) == second + 999_999
