"""How JSON-lines records are decoded: the paths tried per field, and one batch of lines -> raw columns.

The raw columns (:data:`RAW_SCHEMA`) hold each field's text as found, before
timestamp parsing and ID normalization (:mod:`auditor.readers.normalize`).

Why the per-line decoder `_raw_row` is not :class:`auditor.records.RecordBuilder`:
it is not a second normalizer. It only *finds* each field's raw text, exactly as
the vectorized decoders (``str.json_decode``, the NDJSON fast path) do, and every
jsonl row, vectorized or per line, is then normalized by the same Polars
expressions (`normalize.finish_records`). Feeding the per-line rows to
`RecordBuilder` instead would normalize rows of one file by two implementations
(Python and Polars) of the timestamp and ID rules, whose agreement is then only
as good as the tests; and it would cost speed on the fast path (its flagged
lines are finished in the same Polars pass as the rest). The lookup itself is
shared: both use `auditor.fields.lookup`. Making the other readers emit raw
columns for `finish_records` would leave one normalizer for all: it needs a
timestamp unit column (Zipkin and Jaeger give microseconds, OTLP nanoseconds)
where :data:`RAW_SCHEMA` has only ``ts_nano``, and `RecordBuilder`'s scope order
(span, resource, record, with the format's native values in between) expressed
as paths; not done.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

from auditor.fields import DEFAULT_CANDIDATES, STRING_FIELDS, ReadOptions, json_text, lookup
from auditor.readers.surrogates import SURROGATE_ESCAPE, lone_surrogates_replaced
from auditor.schema import RejectReason

#: Containers searched (in this order) for the default candidates of the ID and event fields.
CONTAINERS: tuple[str, ...] = ("extra", "record.extra", "context", "attributes", "labels", "fields")
ID_FIELDS: tuple[str, ...] = STRING_FIELDS
_LOGURU_PATHS: dict[str, tuple[str, ...]] = {
    "ts": ("record.time.timestamp",),
    "message": ("record.message",),
}
_SPLIT = "split_key"

#: Columns the per-batch decoder returns (before timestamp parsing and ID normalization).
RAW_SCHEMA: dict[str, pl.DataType] = {
    "raw_reject": pl.String(),
    "wrong_type": pl.Boolean(),
    "ts_raw": pl.String(),
    "ts_nano": pl.Boolean(),
    **{name: pl.String() for name in (*ID_FIELDS, "message", _SPLIT)},
}


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
    holder: bool = False  # an object here holds a --map path: no value (ReadOptions.held)

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
class DecodePlan:
    """(Built by `build_plan`.) Paths per output column and the struct schema that decodes all of them at once."""

    paths: Mapping[str, tuple[FieldPath, ...]]
    dtype: pl.Struct | None  # None when two paths disagree on a key's shape: per-line decode only
    exprs: tuple[pl.Expr, ...]
    typed_keys: re.Pattern[str] | None
    top_schema: Mapping[str, pl.DataType]  # every first key of every path, read as text
    top_exprs: tuple[pl.Expr, ...]  # raw columns + `needs_raw` (then `flag_typed_ids`)


def field_paths(options: ReadOptions) -> dict[str, tuple[FieldPath, ...]]:
    """Every path tried for each output column, in priority order (see the module docstring)."""
    paths: dict[str, tuple[FieldPath, ...]] = {}
    for name in (*ID_FIELDS, "ts", "message"):
        candidates = tuple(options.candidates.get(name, DEFAULT_CANDIDATES[name]))
        held = options.holders.get(name, frozenset())
        found = [FieldPath(c, holder=c in held) for c in candidates]
        if name in ID_FIELDS:
            defaults = [c for c in candidates if c in DEFAULT_CANDIDATES[name]]
            found.extend(FieldPath(c, box) for box in CONTAINERS for c in defaults)
        found.extend(FieldPath(p) for p in _LOGURU_PATHS.get(name, ()))
        paths[name] = tuple(dict.fromkeys(found))
    if options.split_by:
        paths[_SPLIT] = (FieldPath(options.split_by),)
    return paths


#: A JSON string holding a \u escape, then ":": an object key spelled with an escape.
_ESCAPED_KEY = r'"(?:[^"\\]|\\[^u])*\\u(?:[^"\\]|\\.)*"\s*:'


def build_plan(options: ReadOptions) -> DecodePlan:
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
        return DecodePlan(paths, None, (), None, top_schema, top_exprs)

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
    # an ID key followed by a non-string, or a key spelled with a \u escape (which may be an
    # ID key: "thread\u005fid"): those lines are decoded one by one, exactly. An escape in
    # a value (json.dumps writes every non-ASCII character as one) is not followed by ":"
    typed = re.compile(rf'"(?:{alternatives})"\s*:\s*[^"n\s]|{_ESCAPED_KEY}')
    return DecodePlan(paths, to_dtype(tree), tuple(exprs), typed, top_schema, top_exprs)


#: An ID read as text that may have been a JSON number, bool, object or array: the text
#: Polars' JSON readers make of such a value (numbers in plain decimal: ``-0``, ``1.5``,
#: ``100000`` for ``1e5``; containers as their JSON text).
_MAYBE_TYPED = r"^(?:-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$|true$|false$|[\[{])"


def _maybe_typed(value: pl.Expr) -> pl.Expr:
    """Text that may have been a JSON number, bool, object or array (:data:`_MAYBE_TYPED`).

    One anchored regex a value: measured cheaper than string comparisons plus a number
    cast (0.41 against 0.58 s on six ID columns of 5 M rows). That the text of every JSON
    number, bool and container matches it is a test (`tests/auditor/test_normalize.py`).
    """
    return value.str.contains(_MAYBE_TYPED).fill_null(False)


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
    for candidates in paths.values():
        for path in candidates:
            for keys in path.variants():
                schema[keys[0]] = pl.String()
    return schema, top_level_exprs(paths)


def top_level_exprs(
    paths: Mapping[str, tuple[FieldPath, ...]], present: Collection[str] | None = None
) -> tuple[pl.Expr, ...]:
    """The raw columns and ``needs_raw`` from top-level key columns (see `_top_level`);
    with ``present``, the keys known to hold no value anywhere (not in it) are left out."""
    heads: set[str] = set()
    leaves: dict[str, list[str]] = {}
    for name, candidates in paths.items():
        for path in candidates:
            for keys in path.variants():
                if present is not None and keys[0] not in present:
                    continue
                if len(keys) > 1:
                    heads.add(keys[0])
                else:
                    leaves.setdefault(name, []).append(keys[0])
    exprs: list[pl.Expr] = [
        pl.lit(None, pl.String).alias("raw_reject"),
        pl.lit(False).alias("wrong_type"),
    ]
    for name in RAW_SCHEMA:
        if name in ("raw_reject", "wrong_type", "ts_nano"):
            continue
        key = "ts" if name == "ts_raw" else name
        found = list(dict.fromkeys(leaves.get(key, ())))
        cols = [pl.col(k) for k in found]
        value = (pl.coalesce(cols) if len(cols) > 1 else cols[0]) if cols else pl.lit(None)
        exprs.append(value.cast(pl.String).alias(name))
        if key == "ts":
            nano = pl.lit(False)
            if any(k.rsplit(".", 1)[-1].endswith("UnixNano") for k in found):
                for k in reversed(found):
                    is_nano = k.rsplit(".", 1)[-1].endswith("UnixNano")
                    nano = pl.when(pl.col(k).is_not_null()).then(pl.lit(is_nano)).otherwise(nano)
            exprs.append(nano.alias("ts_nano"))
    suspicious = [pl.col(h).is_not_null() for h in sorted(heads)]
    needs_raw = pl.any_horizontal(suspicious) if suspicious else pl.lit(False)
    exprs.append(needs_raw.alias("needs_raw"))
    return tuple(exprs)


@dataclass(frozen=True, slots=True)
class Projection:
    """(Built by `projection`.) What the NDJSON fast path reads of a file, from a sample."""

    schema: dict[str, pl.DataType]  # keys the sample used (String), keys to watch for (Null)
    watched: tuple[str, ...]  # raw columns whose missing value flags ``needs_raw``


def projection(
    plan: DecodePlan, records: Sequence[Mapping[str, Any]], extracts: bool
) -> Projection:
    """The keys the fast path reads, from the first records of a file.

    Keys the records use are read as text. Each other candidate key is read as ``Null``
    (the read fails, and is retried with every key as text, if a later line gives it a
    value) when it could change a field: when it comes before the first key the records
    use for that field, or after it if that key was missing in some record. A field
    whose first used key was set in every sampled record is *watched* instead: its later
    candidates are not read (each read column costs the reader time), and a row where it
    turns out missing is decoded again from its line (an empty string is a value there:
    the first value present wins, then counts as absent). The message is looked at only
    for ``--extract`` (``extracts``).
    """
    present = {k for r in records for k, v in r.items() if v is not None and k in plan.top_schema}
    absent: set[str] = set()
    watched: list[str] = []
    for name, candidates in plan.paths.items():
        if name == "message" and not extracts:
            continue
        variants = [keys for path in candidates for keys in path.variants()]
        first = next(
            (i for i, keys in enumerate(variants) if len(keys) == 1 and keys[0] in present), None
        )
        if first is None:
            absent.update(keys[0] for keys in variants)
            continue
        absent.update(keys[0] for keys in variants[:first])
        leaf = variants[first][0]
        if all(r.get(leaf) is not None for r in records):
            watched.append("ts_raw" if name == "ts" else name)
        else:
            absent.update(keys[0] for keys in variants[first + 1 :])
    schema: dict[str, pl.DataType] = {
        k: (pl.String() if k in present else pl.Null())
        for k in plan.top_schema
        if k in present or k in absent
    }
    return Projection(schema, tuple(watched))


def flag_watched(watched: Sequence[str]) -> pl.Expr:
    """``needs_raw`` completed for a `Projection`'s watched columns: also rows where one of
    them is missing (a later candidate key, not read, may hold the value)."""
    missing = [pl.col(c).is_null() for c in watched]
    return pl.any_horizontal(pl.col("needs_raw"), *missing).alias("needs_raw")


def flag_typed_ids(names: Sequence[str] = ID_FIELDS) -> pl.Expr:
    """``needs_raw`` completed on the columns `DecodePlan.top_exprs` made: also rows with an
    ID (of ``names``) that reads like a JSON number, bool, object or array.

    A second step (not part of ``top_exprs``) so that each ID column is built once.
    """
    typed = [_maybe_typed(pl.col(name)) for name in names]
    return pl.any_horizontal(pl.col("needs_raw"), *typed).alias("needs_raw")


def typed_values(values: pl.Series) -> list[str]:
    """Those of ``values`` (text) that read like a JSON number, bool, object or array: the
    check of `flag_typed_ids` on a column's few distinct values instead of on every row."""
    frame = values.cast(pl.String).to_frame("value")
    return frame.filter(_maybe_typed(pl.col("value"))).get_column("value").to_list()


#: The end of an object key (a closing quote, then a colon); also matches inside some strings.
_KEY_END = re.compile(r'"\s*:')


def _key_count(value: object) -> int:
    """How many object keys a parsed JSON value holds, at every depth (without recursion:
    orjson parses 1,023 levels, past Python's stack)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _first_wins(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


def load_line(text: str) -> object:
    """One JSON line, a repeated key keeping its first value, as Polars' readers do (orjson
    keeps the last): so that a line reads the same on the fast path and off it. A lone
    surrogate escape reads as Polars reads it (:mod:`auditor.readers.surrogates`).

    orjson parses; every key ends with ``"`` then ``:`` in the text, so when there are no
    more of those than keys in the result, no key repeated. Otherwise (a repeat, or a string
    holding ``\":``) the line is parsed again, keeping first values."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        if "\\u" not in text or (mended := lone_surrogates_replaced(text)) == text:
            raise
        value = orjson.loads(mended)
        text = mended
    if len(_KEY_END.findall(text)) > _key_count(value):
        with contextlib.suppress(RecursionError):  # nested past Python's stack: orjson's value
            value = json.loads(text, object_pairs_hook=_first_wins)
    return value


def _raw_row(text: str, plan: DecodePlan) -> dict[str, Any]:
    """The raw columns of one line, decoded exactly (used off the fast path)."""
    row: dict[str, Any] = dict.fromkeys(RAW_SCHEMA)
    row["wrong_type"] = False
    row["ts_nano"] = False
    try:
        record = load_line(text)
    except orjson.JSONDecodeError:
        row["raw_reject"] = RejectReason.INVALID_JSON.value
        return row
    if not isinstance(record, dict):
        row["raw_reject"] = RejectReason.NOT_AN_OBJECT.value
        return row
    for name, candidates in plan.paths.items():
        for path in candidates:
            value = path.find(record)
            if value is None or (path.holder and isinstance(value, Mapping)):
                continue
            if name in ID_FIELDS:
                if isinstance(value, str):
                    row[name] = value
                else:
                    row["wrong_type"] = True
            elif name == "ts":
                row["ts_raw"] = json_text(value) if not isinstance(value, bool) else "bool"
                row["ts_nano"] = path.is_unix_nano
            else:
                row[name] = json_text(value)
            break
    return row


def _slow(lines: pl.Series, plan: DecodePlan) -> pl.DataFrame:
    return pl.DataFrame([_raw_row(t, plan) for t in lines], schema=RAW_SCHEMA, orient="row")


def _nested(lines: pl.Series, plan: DecodePlan) -> pl.DataFrame:
    """Decode with the struct of every candidate path; lines where an ID key holds a
    non-string (which that decode would turn into text) and failing batches go per line."""
    if plan.dtype is None or plan.typed_keys is None:
        return _slow(lines, plan)
    typed = lines.str.contains(plan.typed_keys.pattern)

    def decode(part: pl.Series) -> pl.DataFrame:
        assert plan.dtype is not None
        try:
            doc = part.str.json_decode(plan.dtype)
        except pl.exceptions.ComputeError:
            return _slow(part, plan)
        return pl.DataFrame({"doc": doc}).select(plan.exprs)

    return _in_order(lines, typed, lambda part: _slow(part, plan), decode)


def _top(lines: pl.Series, plan: DecodePlan) -> pl.DataFrame:
    """Decode top-level keys only (cheap); rows that need more (``needs_raw``) go nested."""
    try:
        doc = lines.str.json_decode(pl.Struct(plan.top_schema))
    except pl.exceptions.ComputeError:
        return _nested(lines, plan)
    top = (
        pl.DataFrame({"doc": doc})
        .unnest("doc")
        .select(plan.top_exprs)
        .with_columns(flag_typed_ids())
    )
    flagged = top.get_column("needs_raw")
    top = top.drop("needs_raw")
    if not flagged.any():
        return top
    fixed = _nested(lines.filter(flagged), plan)
    return _merge(flagged, fixed, top.filter(~flagged))


def _merge(mask: pl.Series, chosen: pl.DataFrame, others: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``chosen`` where ``mask`` holds and of ``others`` elsewhere, in row order."""
    positions = pl.int_range(mask.len(), eager=True)
    return (
        pl.concat(
            [
                chosen.with_columns(positions.filter(mask).alias("__i")),
                others.with_columns(positions.filter(~mask).alias("__i")),
            ]
        )
        .sort("__i")
        .drop("__i")
    )


def _in_order(
    lines: pl.Series,
    mask: pl.Series,
    when_true: Callable[[pl.Series], pl.DataFrame],
    when_false: Callable[[pl.Series], pl.DataFrame],
) -> pl.DataFrame:
    if not mask.any():
        return when_false(lines)
    if mask.all():
        return when_true(lines)
    return _merge(mask, when_true(lines.filter(mask)), when_false(lines.filter(~mask)))


def decode_lines(lines: pl.Series, plan: DecodePlan) -> pl.DataFrame:
    """Raw columns (:data:`RAW_SCHEMA`) for non-blank JSON lines, one row per line, in order.

    Lines that are not ``{...}`` are decoded one by one (for their exact reason); the
    others by Polars, top-level keys first, nested paths only for rows that need them.
    """
    if lines.len() == 0:
        return _slow(lines, plan)
    # a surrogate escape goes one by one: Polars misreads a lone one (U+0000) or fails the
    # whole batch on it, which would make other lines' decoding depend on their neighbours
    shaped = (
        lines.str.contains(r"^\s*\{")
        & lines.str.contains(r"\}\s*$")
        & ~lines.str.contains(SURROGATE_ESCAPE)
    )
    return _in_order(lines, ~shaped, lambda part: _slow(part, plan), lambda part: _top(part, plan))
