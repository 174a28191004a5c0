"""Before/after comparisons: split one record frame (at a time, by a field) or take two input sets.

Each side is analysed on its own (:func:`auditor.report.analyse`); the comparison
object is ``{"before", "after", "delta", "p_value", "significant", "split"}`` as
docs/audit_json.md describes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from auditor.errors import UsageError
from auditor.ordering import natural_key
from auditor.records import BAD, parse_timestamp
from auditor.report import Analysis
from auditor.schema import EPOCH
from auditor.stats import two_proportion_p_value

#: Significance level of the `significant` flag.
ALPHA = 0.05

Analyse = Callable[[pl.LazyFrame, str], Analysis]


def parse_split_at(text: str) -> datetime:
    """The `--split-at` timestamp: a record timestamp's rules (`auditor.records`: RFC 3339, an
    epoch number), and without an offset an RFC 3339 time is taken as UTC."""
    value = parse_timestamp(text)
    if isinstance(value, int):
        return EPOCH + timedelta(microseconds=value)
    if value is BAD and _NO_OFFSET.fullmatch(text.strip()):
        return parse_split_at(text.strip() + "Z")
    raise UsageError(
        f"--split-at: cannot parse {text!r} as a timestamp; use RFC 3339, e.g. 2026-11-24T08:00:00Z"
    )


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | int]:
    """``after - before`` for every numeric top-level key (counts and rates)."""
    return {
        key: after[key] - before[key]
        for key, value in before.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and key in after
    }


def comparison(
    before: dict[str, Any], after: dict[str, Any], kind: str, value: str
) -> dict[str, Any]:
    """The comparison object of two reports."""
    p_value = two_proportion_p_value(
        before["breaks"], before["events"], after["breaks"], after["events"]
    )
    return {
        "before": before,
        "after": after,
        "delta": delta(before, after),
        "p_value": p_value,
        "significant": p_value is not None and p_value < ALPHA,
        "split": {"kind": kind, "value": value},
    }


def compare_split_at(records: pl.DataFrame, at: str, analyse: Analyse) -> dict[str, Any]:
    """Records with ``ts < at`` are before, the rest (including rejected ones) after."""
    moment = parse_split_at(at)
    is_before = (pl.col("ts") < pl.lit(moment, dtype=pl.Datetime("us", "UTC"))).fill_null(False)
    before = analyse(records.lazy().filter(is_before), f"before {at}")
    after = analyse(records.lazy().filter(~is_before), f"from {at}")
    return comparison(before.report, after.report, "at", at)


#: Most distinct `--split-by` values compared: each is an analysis of its own (an ID
#: given by mistake, 100,000 values, ran for hours).
MAX_SPLIT_VALUES = 100

#: An RFC 3339 date-time without its offset (`--split-at` then reads it as UTC).
_NO_OFFSET = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?")


def compare_split_by(records: pl.DataFrame, field: str, analyse: Analyse) -> dict[str, Any]:
    """One side per distinct ``split_key``; records without it go to neither (``unsplit``)."""
    # an empty value is absent, as an empty ID is: those records are unsplit
    keys = records.get_column("split_key").replace("", None)
    records = records.with_columns(keys)
    values = sorted(keys.drop_nulls().unique().to_list(), key=natural_key)
    if len(values) < 2:
        found = f"only {values[0]!r}" if values else "none (no record has it)"
        raise UsageError(
            f"--split-by {field}: need at least two distinct values to compare, found {found}"
        )
    if len(values) > MAX_SPLIT_VALUES:  # each side is a whole analysis (~50 ms at least)
        raise UsageError(
            f"--split-by {field}: {len(values):,} distinct values; a comparison splits by a"
            f" few (a version, a strategy, a region): at most {MAX_SPLIT_VALUES}"
        )
    parts = records.partition_by("split_key", as_dict=True, include_key=True)
    sides = {v: analyse(parts[(v,)].lazy(), v).report for v in values}
    result = comparison(sides[values[0]], sides[values[-1]], "by", field)
    result["unsplit"] = int(records.get_column("split_key").null_count())
    if len(values) > 2:
        result["sides"] = sides
    return result
