"""The compact record frame: ID strings become 128-bit keys, so what is held in memory is numbers.

The analysis compares IDs only for equality and groups by them, so each ID column
is replaced by a ``UInt128`` key: two 64-bit xxh3 hashes of the string with
different seeds (Polars' ``Expr.hash``), side by side. Null stays null. The
session key is of the ``(user_id, session_id)`` pair (a missing session is ``""``,
rule 3): the user's key XOR the session's key, each under seeds of its own (so that
``(a, b)`` and ``(b, a)`` differ), and null exactly when the record has no user. It
costs two hashes a column, where hashing the pair as a struct cost more than twice as
much.

Exactness: two distinct strings get the same key only if both 64-bit hashes
collide at once. Taking the two seeded hashes as independent, for ``n`` distinct
values that happens with probability about ``n**2 / 2**129`` (1.5e-25 for 10
million values): results are exact for any input this tool will see, so no
collision check or fallback is made. The strings a report prints (its
examples and top sessions, `--export-breaks`) are fetched again by
``(source_order, line, item)`` from the input, never reconstructed from keys.

A compact frame holds ``source_order`` (position of the record's source among the
inputs), ``source_rank`` (its rank in name order, rule 4), ``line``, ``item`` (the
record's position among the records that start on that line: the spans of one OTLP,
Jaeger or Zipkin document share its line; 0 in JSON lines), ``ts``,
``reject_reason`` and ``event`` (categoricals), the four keys and, with
``--split-by``, ``split_key`` (text). About 100 bytes a record instead of 400.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import polars as pl

_SEEDS = (0x5EED_0001, 0x5EED_0002)
_SESSION_SEEDS = (0x5EED_0003, 0x5EED_0004)
_HIGH = 1 << 64
KEY_DTYPE = pl.UInt128()
ITEM_DTYPE = pl.UInt32()
#: What identifies a record of the input: its source, its line and its place on that line.
RECORD_ID: tuple[str, ...] = ("source_order", "line", "item")

#: ID column -> key column of the compact frame.
KEYS: dict[str, str] = {
    "thread_id": "thread_key",
    "run_id": "run_key",
    "trace_id": "trace_key",
}


def low_bits(key: str) -> pl.Expr:
    """A key column's low 64 bits (a ``UInt64``: cheaper to sort and take modulo than 128)."""
    return pl.col(key).cast(pl.UInt64, wrap_numerical=True)


def hash_key(value: pl.Expr) -> pl.Expr:
    """A UInt128 key of a column (two seeded 64-bit hashes); null when the value is null."""
    high, low = (value.hash(seed).cast(KEY_DTYPE) for seed in _SEEDS)
    return pl.when(value.is_not_null()).then(high * _HIGH + low)


def session_key() -> pl.Expr:
    """Rule 3: the key of ``(user_id, session_id)`` (no session: ``""``); null without a user."""
    user, session = pl.col("user_id"), pl.col("session_id").fill_null("")
    high, low = (
        (user.hash(mine) ^ session.hash(theirs)).cast(KEY_DTYPE)
        for mine, theirs in zip(_SEEDS, _SESSION_SEEDS, strict=True)
    )
    return pl.when(user.is_not_null()).then(high * _HIGH + low).alias("session_key")


def source_orders(names: Sequence[str]) -> dict[str, int]:
    """Each source name's ``source_order`` (its position among ``names``, which are distinct)."""
    return {name: order for order, name in enumerate(names)}


def source_columns(names: Sequence[str], source: str | None = None) -> list[pl.Expr]:
    """``source_order`` (position among ``names``) and ``source_rank`` (rank in name order);
    literals when every record comes from one known ``source`` (they stream, where
    ``replace_strict`` makes Polars' streaming engine hold its whole input)."""
    ranked = sorted(names)
    if source is not None:
        return [
            pl.lit(list(names).index(source), pl.UInt32).alias("source_order"),
            pl.lit(ranked.index(source), pl.UInt32).alias("source_rank"),
        ]
    return [
        pl.col("source")
        .replace_strict(list(names), list(range(len(names))), return_dtype=pl.UInt32)
        .alias("source_order"),
        pl.col("source")
        .replace_strict(ranked, list(range(len(ranked))), return_dtype=pl.UInt32)
        .alias("source_rank"),
    ]


def item_in_line(one_per_line: bool = False) -> pl.Expr:
    """``item``: a record's position among the records of its source that start on its line,
    in the frame's order (a record frame keeps its input's order); ``one_per_line``: every
    line holds one record (JSON lines), so it is 0."""
    if one_per_line:
        return pl.lit(0, ITEM_DTYPE).alias("item")
    return pl.int_range(pl.len(), dtype=ITEM_DTYPE).over("source", "line").alias("item")


def compact(
    records: pl.LazyFrame,
    names: Sequence[str],
    split: bool = False,
    keep: Sequence[str] = (),
    source: str | None = None,
    one_per_line: bool = False,
) -> pl.LazyFrame:
    """A record frame (RECORD_SCHEMA) -> its compact frame; ``names`` are the sources in input
    order, ``keep`` extra columns passed through, ``source`` the one source of every record
    when known, ``one_per_line`` when no line holds two records (see :func:`item_in_line`)."""
    return records.select(
        *source_columns(names, source),
        "line",
        item_in_line(one_per_line),
        "ts",
        pl.col("reject_reason").cast(pl.Categorical),
        session_key(),
        *(hash_key(pl.col(column)).alias(key) for column, key in KEYS.items()),
        pl.col("event").cast(pl.Categorical),
        *(["split_key"] if split else []),
        *keep,
    )


def is_compact(frame: pl.LazyFrame | pl.DataFrame) -> bool:
    """Whether a frame is already compact (has the session key column)."""
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    return "session_key" in schema


#: Text columns a fetch returns for each wanted record (:data:`RECORD_ID`).
FETCHED: tuple[str, ...] = (
    "source",
    "user_id",
    "session_id",
    "thread_id",
    "run_id",
    "event",
    "trace_id",
)

#: :data:`RECORD_ID` rows -> those records' text columns (:data:`FETCHED`), one row each.
Fetch = Callable[[pl.DataFrame], pl.DataFrame]


def wanted_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The distinct records (:data:`RECORD_ID`) of a frame, typed for a fetch."""
    return frame.select(
        pl.col("source_order").cast(pl.UInt32),
        pl.col("line").cast(pl.Int64),
        pl.col("item").cast(ITEM_DTYPE),
    ).unique()


def frame_fetch(records: pl.DataFrame, compacted: pl.DataFrame) -> Fetch:
    """A fetch from a record frame held in memory (RECORD_SCHEMA) and the compact frame
    :func:`compact` made of it: row for row, so its ``source_order`` and ``item`` identify
    the records (not computed again)."""
    identified = records.with_columns(
        compacted.get_column("source_order"), compacted.get_column("item")
    )

    def fetch(wanted: pl.DataFrame) -> pl.DataFrame:
        return (
            identified.lazy()
            .join(wanted_frame(wanted).lazy(), on=list(RECORD_ID), how="semi")
            .select(*RECORD_ID, *FETCHED)
            .collect()
        )

    return fetch


def combined_fetch(parts: Sequence[tuple[Collection[int], Fetch]]) -> Fetch:
    """One fetch over parts that each hold some sources (by ``source_order``)."""

    # which parts hold each source (two inputs of the same name are two parts of one order)
    owners = pl.DataFrame(
        [(order, i) for i, (orders, _) in enumerate(parts) for order in orders],
        schema={"source_order": pl.UInt32, "__part": pl.UInt32},
        orient="row",
    )

    def fetch(wanted: pl.DataFrame) -> pl.DataFrame:
        # one pass over the wanted records, whatever the number of parts (a part a file)
        by_part = wanted_frame(wanted).join(owners, on="source_order")
        found = [
            parts[i][1](mine.drop("__part"))
            for (i,), mine in sorted(by_part.partition_by("__part", as_dict=True).items())
        ]
        if not found:
            schema: dict[str, pl.DataType] = {
                "source_order": pl.UInt32(),
                "line": pl.Int64(),
                "item": ITEM_DTYPE,
                **dict.fromkeys(FETCHED, pl.String()),
            }
            return pl.DataFrame(schema=schema)
        return pl.concat(found, how="vertical_relaxed")

    return fetch
