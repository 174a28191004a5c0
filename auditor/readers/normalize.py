"""Raw decoded columns -> the record frame: extracts, ID normalization, timestamps, reject reasons."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from auditor.fields import ReadOptions
from auditor.readers.jsonl_plan import ID_FIELDS
from auditor.records import DECIMAL_PRECISION, DECIMAL_SCALE, MESSAGE_END
from auditor.schema import (
    ID_PREFIX_PATTERN,
    MAX_US,
    MIN_US,
    NARROW_ID_DIGITS,
    RECORD_SCHEMA,
    RFC3339_PATTERN,
    TS_DTYPE,
    WIDE_ID_DIGITS,
    RejectReason,
)


def _digits_to_us(digits: pl.Expr, unit_exponent: pl.Expr) -> pl.Expr:
    """Integer epoch value in 10**-unit_exponent seconds to microseconds, exactly."""
    return (
        pl.when(unit_exponent == 0)
        .then(digits * 1_000_000)
        .when(unit_exponent == 3)
        .then(digits * 1_000)
        .when(unit_exponent == 6)
        .then(digits)
        .otherwise(digits // 1_000)
    )


def _in_range(epoch_us: pl.Expr) -> pl.Expr:
    """Microseconds since the epoch -> UTC us when in ``[MIN_US, MAX_US]``, else null."""
    valid = (epoch_us >= MIN_US) & (epoch_us <= MAX_US)
    return pl.when(valid).then(epoch_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def epoch_timestamp(raw: pl.Expr, nano: pl.Expr) -> pl.Expr:
    """An epoch number or digit string -> UTC us; units by magnitude (< 1e11 s, < 1e14 ms,
    < 1e17 us, else ns), a ``*UnixNano`` field (``nano``) always ns; zero, negative, out of
    range (past 9999), not finite or unparseable -> null."""
    text = raw.str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    # 128 bits: nanoseconds past 2262 do not fit in 64 (the Python readers' ints are exact)
    digits = text.cast(pl.Int128, strict=False)
    # a decimal, exactly to 18 fraction digits (the parse rounds half-even past them)
    decimal = text.cast(pl.Decimal(DECIMAL_PRECISION, DECIMAL_SCALE), strict=False)

    def below(limit: int) -> pl.Expr:
        # an integer's magnitude is read on the integer: a float rounds 10**17 - 8 to 1e17
        return pl.when(digits.is_not_null()).then(digits < limit).otherwise(number < limit)

    exponent = (
        pl.when(nano)
        .then(9)
        .when(below(10**11))
        .then(0)
        .when(below(10**14))
        .then(3)
        .when(below(10**17))
        .then(6)
        .otherwise(9)
    )
    scale = pl.lit(10.0).pow(6 - exponent)
    # not strict: NaN, infinities and values past Int64 become null, not an error
    from_float = (number * scale).cast(pl.Int64, strict=False)
    from_digits = _digits_to_us(digits, exponent).cast(pl.Int64, strict=False)
    # in whole units of the target (truncated toward zero), then nanoseconds to microseconds
    units = (
        pl.when(exponent == 0)
        .then(decimal * 1_000_000)
        .when(exponent == 3)
        .then(decimal * 1_000)
        .otherwise(decimal)
        .cast(pl.Int128, strict=False)
    )
    from_decimal = pl.when(exponent == 9).then(units // 1_000).otherwise(units)
    from_decimal = from_decimal.cast(pl.Int64, strict=False)
    epoch_us = pl.coalesce(from_digits, from_decimal, from_float)
    return pl.when(number > 0).then(_in_range(epoch_us)).cast(TS_DTYPE)


def rfc3339_timestamp(raw: pl.Expr) -> pl.Expr:
    """RFC 3339 as :data:`auditor.schema.RFC3339_PATTERN` says (whitespace around it is
    ignored; fraction digits past six are truncated) -> UTC us; anything else -> null."""
    text = raw.str.strip_chars()
    shaped = pl.when(text.str.contains(f"^{RFC3339_PATTERN}$")).then(text)
    canonical = (
        shaped.str.to_uppercase()
        .str.replace(" ", "T", literal=True)
        .str.replace(r"\.([0-9]{1,6})[0-9]*", r".${1}")
    )
    parsed = canonical.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", time_unit="us", strict=False
    )
    return _in_range(parsed.dt.epoch("us")).cast(TS_DTYPE)


def is_rfc3339_like(raw: pl.Expr) -> pl.Expr:
    """Text with a ``:`` is parsed as RFC 3339, anything else as an epoch value."""
    return raw.str.contains(":", literal=True).fill_null(False)


def parse_timestamp(raw: pl.Expr, nano: pl.Expr) -> pl.Expr:
    """RFC 3339 (``Z``/offset, any fraction, ``T`` or space) or epoch number/string -> UTC us."""
    return (
        pl.when(is_rfc3339_like(raw))
        .then(rfc3339_timestamp(raw))
        .otherwise(epoch_timestamp(raw, nano))
    )


#: Length of the commonest timestamp shape, ``2026-11-24T08:00:00.123456Z``.
_COMMON_LENGTH = 27
#: The epoch in that shape: a timestamp of that shape is valid only after it (`MIN_US`).
_EPOCH_TEXT = "1970-01-01T00:00:00.000000Z"
#: The first text of that shape past MAX_US (9999-12-31T23:59:59.999999Z).
_PAST_MAX_TEXT = "9999-12-31T23:59:60"


def common_timestamp(raw: pl.Expr) -> pl.Expr:
    """The commonest shape only (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) -> UTC us, else null.

    Cheap: the seconds are parsed from the 19-character prefix, which many records share
    (Polars caches the conversion of repeated strings), the microseconds are six digits.
    Equal to :func:`parse_timestamp` wherever it is not null.
    """
    fraction = raw.str.slice(20, 6)
    shaped = (
        (raw.str.len_bytes() == _COMMON_LENGTH)
        & raw.str.ends_with("Z")
        & (raw.str.slice(19, 1) == ".")
        & (fraction >= "000000")  # a sign is not a digit: "+" and "-" sort before "0"
        # the general rules read a space as "T"; strptime would skip it before a number
        & ~raw.str.contains(" ", literal=True)
        & (raw > _EPOCH_TEXT)  # after the epoch (MIN_US), and a digit first, not a sign
        & (raw < _PAST_MAX_TEXT)  # a leap second on 9999-12-31 is past MAX_US
    )
    seconds = raw.str.slice(0, 19).str.to_datetime(
        "%Y-%m-%dT%H:%M:%S", time_zone="UTC", time_unit="us", strict=False
    )
    micros = fraction.str.to_integer(strict=False)
    return pl.when(shaped).then(seconds + pl.duration(microseconds=micros)).cast(TS_DTYPE)


def with_timestamp(frame: pl.LazyFrame, raw: str, nano: str, out: str = "ts") -> pl.LazyFrame:
    """``frame`` with ``out``: :func:`parse_timestamp` of the columns ``raw`` and ``nano``.

    The commonest shape is parsed cheaply first; the general rules then run only on the
    other values (on null elsewhere, which costs next to nothing).
    """
    common = "__ts_common"
    rest = pl.when(pl.col(common).is_null()).then(pl.col(raw))
    return (
        frame.with_columns(common_timestamp(pl.col(raw)).alias(common))
        .with_columns(rest.alias("__ts_rest"))
        .with_columns(
            pl.coalesce(pl.col(common), parse_timestamp(pl.col("__ts_rest"), pl.col(nano))).alias(
                out
            )
        )
        .drop(common, "__ts_rest")
    )


def normalize_id(value: pl.Expr) -> pl.Expr:
    """A non-empty trace/span ID as :func:`auditor.records.normalize_hex_id` says: lowercase hex
    without ``0x`` or ``projects/P/traces/``; all zeros (invalid) -> null; 32 digits of which
    the first 16 are zeros -> the last 16 (a 64-bit ID written as 128 bits).

    Cheap on the common ID: the prefix is looked for (a regex) only in values that start
    like one (null elsewhere costs next to nothing); the zero rules are an anchored regex
    and two tests that fail on the first character. Building a column of the few values
    that start with zeros, to test only those, measured costlier (+0.13 s a 5 M column).
    """
    prefixed = value.str.starts_with("projects/") | value.str.starts_with("0x")
    prefixed = prefixed | value.str.starts_with("0X")
    stripped = pl.when(prefixed).then(value).str.replace(ID_PREFIX_PATTERN, "")
    text = pl.coalesce(stripped, value)
    padded = text.str.starts_with("0" * NARROW_ID_DIGITS) & (text.str.len_chars() == WIDE_ID_DIGITS)
    return (
        pl.when(text.str.contains("^0*$"))
        .then(None)
        .when(padded)
        .then(text.str.slice(NARROW_ID_DIGITS))
        .otherwise(text)
        .str.to_lowercase()
    )


def finish_records(
    raw: pl.LazyFrame, options: ReadOptions, keep: Sequence[str | pl.Expr] = ()
) -> pl.LazyFrame:
    """Raw decoded columns -> RECORD_SCHEMA: extracts, ID normalization, timestamps, reasons.

    ``keep`` names extra columns to pass through after the record columns.
    """
    absent: dict[str, pl.Expr] = {
        name: pl.when(pl.col(name) != "").then(pl.col(name)) for name in ID_FIELDS
    }
    # the message without its final line breaks, as the other readers search it (`$`)
    message = pl.col("message").str.strip_chars_end(MESSAGE_END)
    for name, pattern in options.extracts.items():
        if name == "message":
            continue
        found = message.str.extract(pattern.pattern, 1)
        found = pl.when(found != "").then(found)  # an empty capture is absent, like an empty ID
        base = absent.get(name, pl.col(name) if name != "ts" else pl.col("ts_raw"))
        absent[name if name != "ts" else "ts_raw"] = pl.coalesce(base, found)
    frame = raw.with_columns(**absent).with_columns(
        normalize_id(pl.col("trace_id")).alias("trace_id"),
        normalize_id(pl.col("span_id")).alias("span_id"),
    )
    frame = with_timestamp(frame, "ts_raw", "ts_nano")
    reason = (
        pl.when(pl.col("raw_reject").is_not_null())
        .then(pl.col("raw_reject"))
        .when(pl.col("ts_raw").is_null())
        .then(pl.lit(RejectReason.MISSING_TIMESTAMP.value))
        .when(pl.col("ts").is_null())
        .then(pl.lit(RejectReason.BAD_TIMESTAMP.value))
        .when(pl.col("wrong_type"))
        .then(pl.lit(RejectReason.WRONG_TYPE.value))
    )
    frame = frame.with_columns(reason.alias("reject_reason"))
    # rejected rows keep whatever fields they had (RECORD_SCHEMA allows it): consumers
    # look at reject_reason first, and masking every column would cost a copy of each
    return frame.select(
        *(pl.col(c).cast(t) for c, t in RECORD_SCHEMA.items()),
        *keep,
    )
