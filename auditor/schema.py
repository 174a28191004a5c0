"""The normalized record frame that every reader returns, and the reasons a record is rejected.

Every input record becomes exactly one row, rejected or not, so that
``lines = rejected + unattributed + missing_thread + events`` can be checked on
the frame itself. Rejected rows keep ``source``/``line`` and carry a
``reject_reason``; their other columns may be null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import polars as pl

TS_DTYPE = pl.Datetime("us", "UTC")
#: The instants a timestamp may name, in microseconds since the epoch: after
#: 1970-01-01T00:00:00Z (zero and earlier are bad), up to 9999-12-31T23:59:59.999999Z
#: (the last instant Python's datetime, and so every report, can print).
MIN_US, MAX_US = 1, 253_402_300_799_999_999
#: What those microseconds count from.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The one prefix a trace/span ID may carry, stripped by both readers: Cloud Logging's trace
#: path, or ``0x``.
ID_PREFIX_PATTERN = r"^(?:projects/[^/]+/traces/|0[xX])"
#: Hex digits of a 128-bit ID, and of the 64-bit ID it widens when its first half is zeros.
WIDE_ID_DIGITS, NARROW_ID_DIGITS = 32, 16
#: RFC 3339 as the readers take it (after stripping whitespace): ``T``, ``t`` or a space
#: between date and time, any fraction digits, ``Z``/``z`` or a ``+HH:MM``/``+HHMM`` offset.
RFC3339_PATTERN = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})"
)

#: Column order and types of the frame every reader returns (``pl.LazyFrame``).
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # the input's name as the user gave it (path, or "-" for stdin)
    "line": pl.Int64(),  # 1-based line where the record starts in that input
    "ts": TS_DTYPE,  # event time, UTC, microseconds; null only on rejected rows
    "user_id": pl.String(),
    "session_id": pl.String(),
    "thread_id": pl.String(),
    "run_id": pl.String(),
    "event": pl.String(),
    "trace_id": pl.String(),  # lowercase hex, no 0x; Cloud Logging's projects/P/traces/ID reduced to ID
    "span_id": pl.String(),  # lowercase hex, no 0x
    "split_key": pl.String(),  # value of the --split-by field; null when not asked or absent
    "reject_reason": pl.String(),  # a RejectReason value, null for an accepted record
}


class RejectReason(StrEnum):
    """Why a record could not become an event. Values are stable report keys."""

    INVALID_JSON = "invalid_json"  # not parseable as JSON at all (includes a truncated last line)
    INVALID_UTF8 = "invalid_utf8"  # bytes that are not UTF-8
    NOT_AN_OBJECT = "not_an_object"  # valid JSON but not an object (a number, a list, a string)
    MISSING_TIMESTAMP = "missing_timestamp"  # no timestamp field at all
    BAD_TIMESTAMP = "bad_timestamp"  # a timestamp field whose value cannot be parsed
    WRONG_TYPE = (
        "wrong_type"  # an ID/event field of the wrong JSON type (number, object, list, bool)
    )
    INVALID_RECORD = "invalid_record"  # a format-level record that breaks the format's own schema


def empty_records() -> pl.LazyFrame:
    """A record frame with no rows and the exact schema, for inputs that hold nothing."""
    return pl.LazyFrame(schema=RECORD_SCHEMA)
