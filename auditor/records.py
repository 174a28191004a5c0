"""Python-level record normalization shared by every non-jsonl reader.

A reader turns each input record into *scopes* (mappings searched for the
canonical fields, most specific first: span/log attributes, then resource
attributes, then the raw record) and *natives* (values the format itself defines,
such as a span's name or start time). :class:`RecordBuilder` resolves the
canonical fields, parses the timestamp, normalizes IDs, decides the reject
reason and accumulates columns, so every reader builds its frame the same way.

The timestamp and ID rules are the ones the jsonl reader applies in Polars:
keep both in step. The jsonl reader does not use this builder, even for the lines
it decodes one by one: its per-line rows go through the same Polars
normalization as its vectorized rows, so that one file is never normalized by
two implementations (see :mod:`auditor.readers.jsonl_plan` for why and for what
unifying both would take).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import polars as pl

from auditor.fields import DEFAULT_CANDIDATES, STRING_FIELDS, ReadOptions, json_text, lookup
from auditor.schema import (
    EPOCH,
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

#: Canonical fields whose value must be a string (JSON-typed inputs: anything else is `wrong_type`).

_HEX_IDS = frozenset({"trace_id", "span_id"})
_RESOLVED = ("ts", *STRING_FIELDS, "message")

_RFC3339 = re.compile(RFC3339_PATTERN)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EXPONENT = {"s": 0, "ms": 3, "us": 6, "ns": 9}
_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1}
_ID_PREFIX = re.compile(ID_PREFIX_PATTERN)
_LEAP_SECOND = 60
#: Fraction digits a decimal epoch is read to, exactly (Polars' `Decimal(38, 18)` parse,
#: which rounds half-even past them): a float rounded "1795507200.9999999" s up to the
#: next second.
DECIMAL_SCALE = 18
_DECIMAL_QUANTUM = Decimal(1).scaleb(-DECIMAL_SCALE)
#: Decimal digits Polars' `Decimal(38, 18)` holds: a longer value is not read as a decimal.
DECIMAL_PRECISION = 38
#: Line breaks stripped from the end of a message before `--extract` searches it.
MESSAGE_END = "\r\n"
#: Unicode's White_Space characters, which Polars' `strip_chars` strips (the jsonl reader);
#: `str.strip()` would also strip U+001C-U+001F.
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class _Bad:
    """Marker for a timestamp value that is present but cannot be parsed."""


BAD = _Bad()


def epoch_unit(magnitude: float) -> str:
    """The unit of an epoch number by magnitude: < 1e11 s, < 1e14 ms, < 1e17 us, else ns."""
    if magnitude < 1e11:
        return "s"
    if magnitude < 1e14:
        return "ms"
    if magnitude < 1e17:
        return "us"
    return "ns"


def _epoch_to_us(number: int | float, unit: str | None) -> int | None:
    if number <= 0 or (isinstance(number, float) and not math.isfinite(number)):
        return None
    unit = unit or epoch_unit(number)
    if isinstance(number, int):
        us = number // 1_000 if unit == "ns" else number * _UNIT_US[unit]
    else:
        # The same float arithmetic as the jsonl reader's Polars expression, bit for bit.
        us = int(number * 10.0 ** (6 - _EXPONENT[unit]))
    return us if MIN_US <= us <= MAX_US else None


def _rfc3339_to_us(text: str) -> int | None:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz = UTC
    if offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    # a leap second (:60, which RFC 3339 allows) is the first second of the next minute,
    # as Polars (chrono) reads it in the jsonl reader
    leap = int(second) == _LEAP_SECOND
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second) - leap, tzinfo=tz
        )
    except ValueError:
        return None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    delta_us = moment - EPOCH  # the leap second is added as a number: 9999-12-31 can take it
    us = (delta_us.days * 86_400 + delta_us.seconds + leap) * 1_000_000 + micros
    return us if MIN_US <= us <= MAX_US else None


def parse_timestamp(value: object, unit: str | None = None) -> int | _Bad | None:
    """Microseconds since the epoch (UTC), `BAD` when unparseable, None when absent.

    Strings: RFC 3339 (``Z`` or an offset, required; ``T`` or a space; any
    fraction digits, truncated to microseconds) or an epoch number. Numbers and
    numeric strings: epoch in ``unit`` when given (``"ns"`` for ``*UnixNano``
    fields), else by magnitude (:func:`epoch_unit`). Zero, negative and empty are bad.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return BAD
    if isinstance(value, float) and math.isfinite(value):
        value = json_text(value)  # the digits the jsonl reader sees of a JSON number
    if isinstance(value, str):
        text = value.strip(_WHITE_SPACE)
        if _INTEGER.fullmatch(text):
            result = _epoch_to_us(int(text), unit)
        elif _DECIMAL.fullmatch(text):
            result = _decimal_to_us(text, unit)
        else:
            result = _rfc3339_to_us(text)
    else:
        result = _epoch_to_us(value, unit)
    return BAD if result is None else result


def _decimal_to_us(text: str, unit: str | None) -> int | None:
    """A decimal epoch (digits with a point or an exponent) -> microseconds: exactly to
    :data:`DECIMAL_SCALE` fraction digits, then truncated as RFC 3339 fractions are; the
    unit by the float's magnitude. Past the digits a decimal holds, by the float."""
    number = float(text)
    if number <= 0 or not math.isfinite(number):
        return None
    unit = unit or epoch_unit(number)
    with localcontext() as exact:
        exact.prec = 2 * DECIMAL_PRECISION
        exact.rounding = ROUND_HALF_EVEN
        value = Decimal(text)
        if value.adjusted() >= DECIMAL_PRECISION - DECIMAL_SCALE:
            return _epoch_to_us(number, unit)  # 10**20 or more: no decimal of 38 digits
        value = value.quantize(_DECIMAL_QUANTUM)
        if len(value.as_tuple().digits) > DECIMAL_PRECISION:
            return _epoch_to_us(number, unit)  # rounded up to 10**20
        units = int(value.scaleb(6 - min(_EXPONENT[unit], 6)))  # toward zero
    us = units // 1_000 if unit == "ns" else units
    return us if MIN_US <= us <= MAX_US else None


def normalize_hex_id(value: str) -> str | None:
    """A trace/span ID as lowercase hex without ``0x``; ``projects/P/traces/ID`` -> ``ID``.

    An empty ID is absent, and so is an all-zero one (invalid in W3C Trace Context and
    OTLP: the SDK prints it for a log record outside any span). A 128-bit ID whose first
    16 digits are zeros is its last 16: Jaeger and Zipkin write a 64-bit trace ID in 16
    digits where OTLP pads it to 32, and the same trace must compare equal.
    """
    text = _ID_PREFIX.sub("", value, count=1)  # lowercased last, as the jsonl reader does
    significant = len(text.lstrip("0"))
    if not significant:
        return None
    if len(text) == WIDE_ID_DIGITS and significant <= NARROW_ID_DIGITS:
        return text[NARROW_ID_DIGITS:].lower()
    return text.lower()


def scalar_text(value: object) -> object:
    """A typed attribute's number or bool as text (``17`` -> ``"17"``, ``True`` -> ``"true"``),
    as OTLP's ``intValue``/``boolValue`` read; anything else as it is. A float reads as the
    JSON-lines reader reads a number (:func:`json_text`): ``17.0`` is ``"17"``, as the Go
    Collector writes the double that the Python SDK prints as ``17.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return json_text(value)
    if isinstance(value, int | float):
        return str(value)
    return value


def double_text(value: object) -> object:
    """An OTLP ``doubleValue`` as text: a number, or the string proto3's JSON mapping allows
    for one (``"17.0"``, ``"NaN"``), reads as :func:`scalar_text` reads a float, so that
    ``17``, ``17.0`` and ``"17.0"`` are the same double."""
    number: float | None = None
    if isinstance(value, int | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError):
            number = float(value)
    elif isinstance(value, float):
        number = value
    if number is None or not math.isfinite(number):
        return value if isinstance(value, str) else str(value)
    return json_text(number)


def _mapped_prefix(candidates: tuple[str, ...], defaults: tuple[str, ...]) -> tuple[str, ...]:
    """The paths `--map` put in front of the defaults (empty when nothing was mapped)."""
    for i in range(len(candidates) + 1):
        head = candidates[:i]
        if candidates[i:] == tuple(d for d in defaults if d not in head):
            return head
    return candidates


def _find(scope: Mapping[str, object], path: str) -> object | None:
    """`fields.lookup`, with the common case (a literal key, or no dot) kept cheap."""
    value = scope.get(path)
    if value is None and "." in path:
        return lookup(scope, path)
    return value


class RecordBuilder:
    """Accumulates normalized rows column by column and builds the record frame once."""

    def __init__(self, options: ReadOptions) -> None:
        self._options = options
        self._mapped: dict[str, tuple[str, ...]] = {}
        self._defaults: dict[str, tuple[str, ...]] = {}
        for name in _RESOLVED:
            candidates = tuple(options.candidates.get(name, DEFAULT_CANDIDATES[name]))
            mapped = _mapped_prefix(candidates, DEFAULT_CANDIDATES[name])
            self._mapped[name] = mapped
            self._defaults[name] = tuple(c for c in candidates if c not in mapped)
        self._columns: dict[str, list[object]] = {name: [] for name in RECORD_SCHEMA}
        # rows already turned into Arrow columns: a million Python rows weigh about 700 MB,
        # as Arrow columns about a third of that
        self._chunks: list[pl.DataFrame] = []

    def _make_room(self) -> None:
        if len(self._columns["line"]) >= _CHUNK_ROWS:
            self._chunks.append(self._chunk())

    def _chunk(self) -> pl.DataFrame:
        frame = pl.DataFrame(self._columns, schema=_BUILT_SCHEMA)
        for values in self._columns.values():
            values.clear()
        return frame

    def reject(self, source: str, line: int, reason: RejectReason) -> None:
        """Add a rejected row: only where it came from and why."""
        self._make_room()
        columns = self._columns
        for values in columns.values():
            values.append(None)
        columns["source"][-1] = source
        columns["line"][-1] = line
        columns["reject_reason"][-1] = reason.value

    def _resolve(
        self, name: str, scopes: Sequence[Mapping[str, object]], natives: Mapping[str, object]
    ) -> tuple[object, str | None]:
        """The first value present (an empty string included) and its path (None: native)."""
        held = self._options.held
        for path in self._mapped[name]:
            for scope in scopes:
                value = _find(scope, path)
                if value is not None and not held(name, path, value):
                    return value, path
        value = natives.get(name)
        if value is not None:
            return value, None
        for scope in scopes:
            for path in self._defaults[name]:
                value = _find(scope, path)
                if value is not None and not held(name, path, value):
                    return value, path
        return None, None

    def add(
        self,
        source: str,
        line: int,
        scopes: Sequence[Mapping[str, object]],
        natives: Mapping[str, object] | None = None,
        ts_unit: str | None = None,
    ) -> None:
        """Resolve, normalize and add one record (accepted, or rejected with its reason).

        ``natives`` are the format's own values for canonical fields (``ts`` in
        ``ts_unit``, or by the general rules when None); a `--map` path found in
        the scopes wins over them, the default candidates only fill what is missing.
        """
        natives = natives or {}
        resolve = self._resolve
        values: dict[str, object] = {
            name: resolve(name, scopes, natives)[0] for name in STRING_FIELDS
        }
        values["ts"], ts_path = resolve("ts", scopes, natives)
        extracts = self._options.extracts
        # The message matters only to --extract: not looked up otherwise.
        message = resolve("message", scopes, natives)[0] if extracts else None
        if isinstance(message, str):
            # without its final line breaks, as the jsonl reader searches it: Python's `$`
            # would also match before a final newline, Rust's (Polars) only at the very end
            message = message.rstrip(MESSAGE_END)
            for name, pattern in extracts.items():
                current = values.get(name)
                # As in the jsonl reader: an empty ID may be filled, an empty timestamp is bad.
                if current is None or (current == "" and name != "ts"):
                    found = pattern.search(message)
                    if found is not None and found.group(1):
                        values[name] = found.group(1)
                        if name == "ts":
                            ts_path = name
        unit = ts_unit if ts_path is None else ("ns" if ts_path.endswith("UnixNano") else None)
        ts = parse_timestamp(values["ts"], unit)
        if ts is None:
            self.reject(source, line, RejectReason.MISSING_TIMESTAMP)
            return
        if isinstance(ts, _Bad):
            self.reject(source, line, RejectReason.BAD_TIMESTAMP)
            return
        row: dict[str, object] = {"source": source, "line": line, "ts": ts}
        for name in STRING_FIELDS:
            value = values[name]
            if value is not None and not isinstance(value, str):
                self.reject(source, line, RejectReason.WRONG_TYPE)
                return
            if value and name in _HEX_IDS:
                value = normalize_hex_id(value)
            row[name] = value or None
        split_by = self._options.split_by
        if split_by is not None:
            for scope in scopes:
                found_split = _find(scope, split_by)
                if found_split is not None:
                    row["split_key"] = json_text(found_split)
                    break
        self._make_room()
        for name, column in self._columns.items():
            column.append(row.get(name))

    def frame(self) -> pl.LazyFrame:
        """The accumulated rows as a lazy frame with exactly `RECORD_SCHEMA`."""
        frame = pl.concat([*self._chunks, self._chunk()]) if self._chunks else self._chunk()
        self._chunks = []
        return frame.with_columns(pl.col("ts").cast(TS_DTYPE)).lazy()


#: Rows a `RecordBuilder` holds as Python objects before it turns them into Arrow columns.
_CHUNK_ROWS = 1 << 16
_BUILT_SCHEMA = {**RECORD_SCHEMA, "ts": pl.Int64()}
