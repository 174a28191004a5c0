"""The cheap paths of `auditor.readers.normalize` agree with the general rules they shortcut."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.readers.jsonl_plan import _MAYBE_TYPED, _maybe_typed
from auditor.readers.normalize import (
    common_timestamp,
    normalize_id,
    parse_timestamp,
    with_timestamp,
)

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


def test_common_shape_examples():
    out = _both(
        [TEMPLATE, "2026-11-24T08:59:07.+12345Z", "2026-11-24T08:59:07.12a456Z", None, "1732435200"]
    )
    assert out["common"].null_count() == 4
    assert out["staged"].to_list() == out["general"].to_list()
    assert out["staged"][4] is not None  # the epoch value went the general way


@given(st.text(alphabet="0123456789abcdefxXABCDEF/projectsrac-", max_size=40))
def test_normalize_id_strips_the_prefix_only_where_the_regex_would(value):
    regex = pl.col("v").str.replace(r"^(?:projects/[^/]+/traces/|0[xX])", "").str.to_lowercase()
    frame = pl.DataFrame({"v": [value]})
    assert frame.select(normalize_id(pl.col("v"))).item() == frame.select(regex).item()


@given(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["true", "false", "-1", "1e5", "[1]", "{}", "0x1f", ".5"]),
    )
)
def test_maybe_typed_has_no_false_negative(value):
    import re

    flagged = pl.DataFrame({"v": [value]}).select(_maybe_typed(pl.col("v"))).item()
    assert flagged or not re.search(_MAYBE_TYPED, value)
