"""JSON-lines logs, flat or nested (structlog, python-json-logger, loguru ``serialize=True``, ours).

Field lookup: each canonical field tries the paths of ``options.candidates`` in
order (a ``--map`` path first), each path as :func:`auditor.fields.lookup` reads
it: the literal dotted key first, then every nested split of it. For the
*default* candidates of the ID and event fields, the same names are then tried
inside the common nesting containers :data:`CONTAINERS` (in that order), and
loguru's ``record.time.timestamp`` / ``record.message`` complete ``ts`` /
``message``. The first value present wins; an empty string counts as absent.

Speed: a plain UTF-8 file is scanned by Polars as one string column
(``scan_lines``), and each batch of lines is decoded by ``str.json_decode`` with a
struct schema holding only the candidate paths. Lines that cannot take that path
exactly (not ``{...}``, or an ID key followed by a non-string value, or a batch
whose decode fails) are decoded one by one with orjson, so that every line gets
its exact reject reason. Compressed inputs, stdin and files with invalid UTF-8
are read as bytes in batches and go through the same per-batch decoder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
import polars as pl

from auditor import progress
from auditor.errors import UsageError
from auditor.fields import DEFAULT_CANDIDATES, ReadOptions, lookup
from auditor.schema import RECORD_SCHEMA, TS_DTYPE, RejectReason, empty_records
from auditor.sources import Source

#: Containers searched (in this order) for the default candidates of the ID and event fields.
CONTAINERS: tuple[str, ...] = ("extra", "record.extra", "context", "attributes", "labels", "fields")
ID_FIELDS: tuple[str, ...] = (
    "user_id",
    "session_id",
    "thread_id",
    "run_id",
    "event",
    "trace_id",
    "span_id",
)
_LOGURU_PATHS: dict[str, tuple[str, ...]] = {
    "ts": ("record.time.timestamp",),
    "message": ("record.message",),
}
_BATCH_LINES = 100_000
_SAMPLE_BYTES = 1 << 18
_COUNTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsonl-line-count")
_SPLIT = "split_key"

#: Columns the per-batch decoder returns (before timestamp parsing and ID normalization).
RAW_SCHEMA: dict[str, pl.DataType] = {
    "raw_reject": pl.String(),
    "wrong_type": pl.Boolean(),
    "ts_raw": pl.String(),
    "ts_nano": pl.Boolean(),
    **{name: pl.String() for name in (*ID_FIELDS, "message", _SPLIT)},
}
_RAW_DTYPE = pl.Struct(RAW_SCHEMA)


def _variants(path: str) -> Iterator[tuple[str, ...]]:
    """Key sequences that `fields.lookup` tries for a dotted path, in its order."""
    yield (path,)
    parts = path.split(".")
    for i in range(1, len(parts)):
        head, rest = ".".join(parts[:i]), ".".join(parts[i:])
        for tail in _variants(rest):
            yield (head, *tail)


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A candidate path, optionally inside a nesting container (an object found by its own path)."""

    path: str
    container: str | None = None

    def variants(self) -> Iterator[tuple[str, ...]]:
        """Key sequences tried, in `fields.lookup` order (container first, then the path)."""
        for head in _variants(self.container) if self.container else [()]:
            for tail in _variants(self.path):
                yield (*head, *tail)

    def find(self, record: Mapping[str, Any]) -> object | None:
        """The value at this path in a parsed record, or None."""
        if self.container is None:
            return lookup(record, self.path)
        box = lookup(record, self.container)
        return lookup(box, self.path) if isinstance(box, Mapping) else None

    @property
    def is_unix_nano(self) -> bool:
        """A ``*UnixNano`` field: its number is always nanoseconds."""
        return self.path.rsplit(".", 1)[-1].endswith("UnixNano")


@dataclass(frozen=True, slots=True)
class _Plan:
    """Paths per output column and the struct schema that decodes all of them at once."""

    paths: Mapping[str, tuple[FieldPath, ...]]
    dtype: pl.Struct | None  # None when two paths disagree on a key's shape: per-line decode only
    exprs: tuple[pl.Expr, ...]
    typed_keys: re.Pattern[str] | None
    top_schema: Mapping[str, pl.DataType]  # every first key of every path, read as text
    top_exprs: tuple[pl.Expr, ...]  # raw columns + `needs_raw` from the top-level columns


def field_paths(options: ReadOptions) -> dict[str, tuple[FieldPath, ...]]:
    """Every path tried for each output column, in priority order (see the module docstring)."""
    paths: dict[str, tuple[FieldPath, ...]] = {}
    for name in (*ID_FIELDS, "ts", "message"):
        candidates = tuple(options.candidates.get(name, DEFAULT_CANDIDATES[name]))
        found = [FieldPath(c) for c in candidates]
        if name in ID_FIELDS:
            defaults = [c for c in candidates if c in DEFAULT_CANDIDATES[name]]
            found.extend(FieldPath(c, box) for box in CONTAINERS for c in defaults)
        found.extend(FieldPath(p) for p in _LOGURU_PATHS.get(name, ()))
        paths[name] = tuple(dict.fromkeys(found))
    if options.split_by:
        paths[_SPLIT] = (FieldPath(options.split_by),)
    return paths


def _build_plan(options: ReadOptions) -> _Plan:
    paths = field_paths(options)
    tree: dict[str, Any] = {}
    conflict = False
    id_keys: set[str] = set()
    for name, candidates in paths.items():
        for path in candidates:
            for keys in path.variants():
                node = tree
                for key in keys[:-1]:
                    child = node.setdefault(key, {})
                    if not isinstance(child, dict):
                        conflict = True
                        break
                    node = child
                else:
                    if isinstance(node.get(keys[-1]), dict):
                        conflict = True
                    node[keys[-1]] = pl.String()
                if name in ID_FIELDS:
                    id_keys.add(keys[-1])
    top_schema, top_exprs = _top_level(paths)
    if conflict:
        return _Plan(paths, None, (), None, top_schema, top_exprs)

    def to_dtype(node: dict[str, Any]) -> pl.Struct:
        return pl.Struct({k: to_dtype(v) if isinstance(v, dict) else v for k, v in node.items()})

    def column(keys: tuple[str, ...]) -> pl.Expr:
        expr = pl.col("doc")
        for key in keys:
            expr = expr.struct.field(key)
        return expr

    exprs: list[pl.Expr] = [
        pl.lit(None, pl.String).alias("raw_reject"),
        pl.lit(False).alias("wrong_type"),
    ]
    for name in RAW_SCHEMA:
        if name in ("raw_reject", "wrong_type", "ts_nano"):
            continue
        key = "ts" if name == "ts_raw" else name
        cols = [column(v) for p in paths.get(key, ()) for v in p.variants()]
        exprs.append((pl.coalesce(cols) if cols else pl.lit(None, pl.String)).alias(name))
        if key == "ts":
            nano = pl.lit(False)
            for p in reversed(paths["ts"]):
                present = pl.any_horizontal([column(v).is_not_null() for v in p.variants()])
                nano = pl.when(present).then(pl.lit(p.is_unix_nano)).otherwise(nano)
            exprs.append(nano.alias("ts_nano"))
    alternatives = "|".join(re.escape(k) for k in sorted(id_keys, key=len, reverse=True))
    typed = re.compile(rf'"(?:{alternatives})"\s*:\s*[^"n\s]')
    return _Plan(paths, to_dtype(tree), tuple(exprs), typed, top_schema, top_exprs)


#: An ID read as text that may have been a JSON number, bool, object or array.
_MAYBE_TYPED = r"^(?:-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false)$|^[\[{]"


def _top_level(
    paths: Mapping[str, tuple[FieldPath, ...]],
) -> tuple[dict[str, pl.DataType], tuple[pl.Expr, ...]]:
    """Schema and expressions for the NDJSON fast path, which reads only top-level keys as text.

    Polars' NDJSON reader turns any JSON value into text for a String column, so
    a row is exact from these columns unless a key that starts a nested path is
    present, or an ID value reads like a JSON number, bool, object or array (an
    all-digit hex ID does too). Such rows get ``needs_raw`` and are decoded again
    from their line.
    """
    schema: dict[str, pl.DataType] = {}
    heads: set[str] = set()
    leaves: dict[str, list[str]] = {}
    for name, candidates in paths.items():
        for path in candidates:
            for keys in path.variants():
                schema[keys[0]] = pl.String()
                if len(keys) > 1:
                    heads.add(keys[0])
                else:
                    leaves.setdefault(name, []).append(keys[0])
    exprs: list[pl.Expr] = [
        pl.lit(None, pl.String).alias("raw_reject"),
        pl.lit(False).alias("wrong_type"),
    ]
    suspicious: list[pl.Expr] = [pl.col(h).is_not_null() for h in sorted(heads)]
    for name in RAW_SCHEMA:
        if name in ("raw_reject", "wrong_type", "ts_nano"):
            continue
        key = "ts" if name == "ts_raw" else name
        cols = [pl.col(k) for k in dict.fromkeys(leaves.get(key, ()))]
        value = pl.coalesce(cols) if cols else pl.lit(None, pl.String)
        exprs.append(value.alias(name))
        if key in ID_FIELDS:
            suspicious.append(value.str.contains(_MAYBE_TYPED).fill_null(False))
        if key == "ts":
            nano = pl.lit(False)
            for k in reversed(list(dict.fromkeys(leaves.get("ts", ())))):
                is_nano = k.rsplit(".", 1)[-1].endswith("UnixNano")
                nano = pl.when(pl.col(k).is_not_null()).then(pl.lit(is_nano)).otherwise(nano)
            exprs.append(nano.alias("ts_nano"))
    exprs.append(pl.any_horizontal(suspicious).alias("needs_raw"))
    return schema, tuple(exprs)


def _stringify(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _raw_row(text: str, plan: _Plan) -> dict[str, Any]:
    """The raw columns of one line, decoded exactly (used off the fast path)."""
    row: dict[str, Any] = dict.fromkeys(RAW_SCHEMA)
    row["wrong_type"] = False
    row["ts_nano"] = False
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        row["raw_reject"] = RejectReason.INVALID_JSON.value
        return row
    if not isinstance(record, dict):
        row["raw_reject"] = RejectReason.NOT_AN_OBJECT.value
        return row
    for name, candidates in plan.paths.items():
        for path in candidates:
            value = path.find(record)
            if value is None:
                continue
            if name in ID_FIELDS:
                if isinstance(value, str):
                    row[name] = value
                else:
                    row["wrong_type"] = True
            elif name == "ts":
                row["ts_raw"] = _stringify(value) if not isinstance(value, bool) else "bool"
                row["ts_nano"] = path.is_unix_nano
            else:
                row[name] = _stringify(value)
            break
    return row


def _slow(lines: pl.Series, plan: _Plan) -> pl.DataFrame:
    return pl.DataFrame([_raw_row(t, plan) for t in lines], schema=RAW_SCHEMA, orient="row")


def _fast(lines: pl.Series, plan: _Plan) -> pl.DataFrame:
    assert plan.dtype is not None
    try:
        doc = lines.str.json_decode(plan.dtype)
    except pl.exceptions.ComputeError:
        return _slow(lines, plan)
    return pl.DataFrame({"doc": doc}).select(plan.exprs)


def decode_lines(lines: pl.Series, plan: _Plan) -> pl.DataFrame:
    """Raw columns (:data:`RAW_SCHEMA`) for non-blank JSON lines, one row per line, in order."""
    if plan.dtype is None or plan.typed_keys is None or lines.len() == 0:
        return _slow(lines, plan)
    ok = lines.str.contains(r"^\s*\{") & lines.str.contains(r"\}\s*$")
    ok = ok & ~lines.str.contains(plan.typed_keys.pattern)
    if ok.all():
        return _fast(lines, plan)
    frame = pl.DataFrame({"i": pl.int_range(lines.len(), eager=True), "text": lines, "ok": ok})
    good = frame.filter(pl.col("ok"))
    bad = frame.filter(~pl.col("ok"))
    parts = [
        _fast(good["text"], plan).with_columns(good["i"]),
        _slow(bad["text"], plan).with_columns(bad["i"]),
    ]
    return pl.concat(parts).sort("i").drop("i")


def _decode_struct(lines: pl.Series, plan: _Plan) -> pl.Series:
    decoded = decode_lines(lines, plan).to_struct("raw")
    progress.advance(int(lines.str.len_bytes().sum() or 0) + lines.len())
    return decoded


def _is_utf8_file(source: Source) -> bool:
    assert source.path is not None
    decoder = __import__("codecs").getincrementaldecoder("utf-8")()
    with source.path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            if not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    return False
            else:
                decoder.decode(b"")  # an ASCII chunk cannot complete a pending multi-byte char
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _scan_plain(source: Source, plan: _Plan) -> pl.LazyFrame:
    assert source.path is not None
    return (
        pl.scan_lines(source.path, name="text", row_index_name="line", row_index_offset=1)
        .filter(pl.col("text").str.contains(r"\S"))
        .select(
            pl.lit(source.name).alias("source"),
            pl.col("line").cast(pl.Int64),
            pl.col("text").map_batches(
                partial(_decode_struct, plan=plan), return_dtype=_RAW_DTYPE, is_elementwise=True
            ),
        )
        .unnest("text")
    )


def _bytes_batches(source: Source, plan: _Plan) -> Iterator[pl.DataFrame]:
    """Decode a stream line by line in batches; invalid UTF-8 lines become rejects."""
    texts: list[str] = []
    numbers: list[int] = []
    bad_utf8: list[int] = []

    def flush() -> pl.DataFrame:
        good = decode_lines(pl.Series(texts, dtype=pl.String), plan).with_columns(
            line=pl.Series(numbers, dtype=pl.Int64)
        )
        bad = pl.DataFrame(
            {"line": bad_utf8, "raw_reject": [RejectReason.INVALID_UTF8.value] * len(bad_utf8)},
            schema={"line": pl.Int64, "raw_reject": pl.String},
        )
        out = pl.concat([good, bad], how="diagonal_relaxed").sort("line")
        texts.clear()
        numbers.clear()
        bad_utf8.clear()
        return out

    with source.open() as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                texts.append(raw.decode("utf-8"))
                numbers.append(number)
            except UnicodeDecodeError:
                bad_utf8.append(number)
            if len(texts) + len(bad_utf8) >= _BATCH_LINES:
                yield flush()
    yield flush()


def _physical_lines(source: Source) -> int:
    assert source.path is not None
    count, last = 0, b"\n"
    with source.path.open("rb", buffering=0) as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _sampled_keys(source: Source, plan: _Plan) -> set[str]:
    """Top-level keys of the plan that the first lines of the file use with a non-null value."""
    assert source.path is not None
    with source.path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    keys: set[str] = set()
    for raw in head.split(b"\n")[:-1] or [head]:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            keys.update(k for k, v in record.items() if v is not None and k in plan.top_schema)
    return keys


def _ndjson_frame(source: Source, plan: _Plan, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    assert source.path is not None
    return (
        pl.scan_ndjson(source.path, schema=schema, row_index_name="__row")
        .select(
            (pl.col("__row").cast(pl.Int64) + 1).alias("line"),
            *plan.top_exprs,
            # keeps the Null-typed columns in the projection, so that a key the sample
            # did not show makes the read fail instead of being skipped
            pl.any_horizontal([pl.col(k).is_not_null() for k in schema]).alias("__any"),
        )
        .drop("__any")
        .with_columns(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items())
        .collect(engine="streaming")
    )


def _read_ndjson(source: Source, plan: _Plan) -> pl.LazyFrame | None:
    """The fast path: Polars' NDJSON reader on top-level keys, or None when it cannot be exact.

    The schema reads as text the keys that the first lines use and types every
    other candidate key as Null, which makes the reader fail if a later line
    uses one; then the read is retried with every key as text. It cannot be exact
    when the file has invalid JSON, non-objects or invalid UTF-8 (the reader
    fails) or blank lines (row numbers would not be line numbers): None.
    """
    assert source.path is not None
    sampled = _sampled_keys(source, plan)
    # counting newlines (Python, GIL held) overlaps with the Polars read (GIL released)
    lines_in_file = _COUNTER.submit(_physical_lines, source)
    pruned = {k: (t if k in sampled else pl.Null()) for k, t in plan.top_schema.items()}
    frame = None
    for schema in (pruned, plan.top_schema):
        try:
            frame = _ndjson_frame(source, plan, schema)
            break
        except pl.exceptions.PolarsError:
            continue
    if frame is None or frame.height != lines_in_file.result():
        return None
    progress.advance(source.path.stat().st_size)
    named = pl.lit(source.name).alias("source")
    needs_raw = frame.get_column("needs_raw")
    if not needs_raw.any():
        return frame.lazy().select(named, pl.exclude("needs_raw"))
    wanted = frame.filter(needs_raw).get_column("line")
    lines = (
        pl.scan_lines(source.path, name="text", row_index_name="line", row_index_offset=1)
        .filter(pl.col("line").cast(pl.Int64).is_in(wanted.implode()))
        .collect(engine="streaming")
    )
    fixed = decode_lines(lines.get_column("text"), plan).with_columns(
        lines.get_column("line").cast(pl.Int64)
    )
    # the consumer reads the unflagged rows lazily, so the big frame is never copied;
    # rows are no longer in line order, which no consumer relies on
    kept = frame.lazy().filter(~pl.col("needs_raw")).drop("needs_raw")
    return pl.concat([kept, fixed.lazy().select(kept.collect_schema().names())]).select(
        named, pl.all()
    )


def _scan_bytes(source: Source, plan: _Plan) -> pl.LazyFrame:
    frames = [f for f in _bytes_batches(source, plan) if f.height]
    if not frames:
        return pl.LazyFrame(schema={"source": pl.String, "line": pl.Int64, **RAW_SCHEMA})
    frame = pl.concat(frames, how="diagonal_relaxed")
    return frame.lazy().select(
        pl.lit(source.name).alias("source"),
        pl.col("line"),
        *(pl.col(c).cast(t) for c, t in RAW_SCHEMA.items()),
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


def epoch_timestamp(raw: pl.Expr, nano: pl.Expr) -> pl.Expr:
    """An epoch number or digit string -> UTC us; units by magnitude (< 1e11 s, < 1e14 ms,
    < 1e17 us, else ns), a ``*UnixNano`` field (``nano``) always ns; zero, negative or
    unparseable -> null."""
    text = raw.str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    digits = text.cast(pl.Int64, strict=False)
    exponent = (
        pl.when(nano)
        .then(9)
        .when(number < 1e11)
        .then(0)
        .when(number < 1e14)
        .then(3)
        .when(number < 1e17)
        .then(6)
        .otherwise(9)
    )
    scale = pl.lit(10.0).pow(6 - exponent)
    epoch_us = pl.coalesce(_digits_to_us(digits, exponent), (number * scale).cast(pl.Int64))
    epoch = epoch_us.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return pl.when(number > 0).then(epoch).cast(TS_DTYPE)


def rfc3339_timestamp(raw: pl.Expr) -> pl.Expr:
    """RFC 3339 with ``Z`` or an offset, any fraction digits (truncated to us), ``T`` or a
    space between date and time -> UTC us; anything else -> null."""
    text = raw.str.replace(" ", "T", literal=True)
    return text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", time_unit="us", strict=False
    ).cast(TS_DTYPE)


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


def _normalize_id(column: str) -> pl.Expr:
    value = pl.col(column).str.to_lowercase()
    value = value.str.replace(r"^projects/[^/]+/traces/", "").str.strip_prefix("0x")
    return value


def _check_extract(name: str, pattern: re.Pattern[str]) -> None:
    try:
        pl.Series([""]).str.extract(pattern.pattern, 1)
    except pl.exceptions.PolarsError as exc:
        raise UsageError(
            f"--extract {name}: regex {pattern.pattern!r} is not supported by Polars: {exc}"
        ) from None


def finish_records(raw: pl.LazyFrame, options: ReadOptions) -> pl.LazyFrame:
    """Raw decoded columns -> RECORD_SCHEMA: extracts, ID normalization, timestamps, reasons."""
    absent: dict[str, pl.Expr] = {
        name: pl.when(pl.col(name) != "").then(pl.col(name)) for name in ID_FIELDS
    }
    for name, pattern in options.extracts.items():
        if name == "message":
            continue
        _check_extract(name, pattern)
        found = pl.col("message").str.extract(pattern.pattern, 1)
        base = absent.get(name, pl.col(name) if name != "ts" else pl.col("ts_raw"))
        absent[name if name != "ts" else "ts_raw"] = pl.coalesce(base, found)
    frame = raw.with_columns(**absent).with_columns(
        _normalize_id("trace_id").alias("trace_id"),
        _normalize_id("span_id").alias("span_id"),
    )
    # each timestamp form is parsed only on its own rows (a when/then would run both
    # parsers on every row); the order of rows does not matter to any consumer
    rfc = is_rfc3339_like(pl.col("ts_raw"))
    frame = pl.concat(
        [
            frame.filter(rfc).with_columns(rfc3339_timestamp(pl.col("ts_raw")).alias("ts")),
            frame.filter(~rfc).with_columns(
                epoch_timestamp(pl.col("ts_raw"), pl.col("ts_nano")).alias("ts")
            ),
        ]
    )
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
    keep = pl.col("reject_reason").is_null()
    return frame.select(
        pl.col("source"),
        pl.col("line"),
        *(
            pl.when(keep).then(pl.col(c)).cast(t).alias(c)
            for c, t in RECORD_SCHEMA.items()
            if c not in ("source", "line", "reject_reason")
        ),
        pl.col("reject_reason"),
    )


def _scan_source(source: Source, plan: _Plan) -> pl.LazyFrame:
    if not source.is_plain_file:
        return _scan_bytes(source, plan)
    fast = _read_ndjson(source, plan)
    if fast is not None:
        return fast
    return _scan_plain(source, plan) if _is_utf8_file(source) else _scan_bytes(source, plan)


def scan_jsonl(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """One RECORD_SCHEMA frame for JSON-lines sources, one row per non-blank line."""
    if not sources:
        return empty_records()
    plan = _build_plan(options)
    raws = [_scan_source(s, plan) for s in sources]
    raw = pl.concat(raws, how="vertical") if len(raws) > 1 else raws[0]
    return finish_records(raw, options)
