"""The continuity semantics of DESIGN.md (rules 3-9) as named Polars expressions.

Every expression here runs on the *event* frame (accepted records with a user and
a thread) sorted by :func:`event_order`: sessions are contiguous and each session's
events are in ``(ts, source, line)`` order. That order lets the "current thread"
and "current run" be computed with a global forward fill instead of a per-session
window: every session starts with a row that sets both, so a fill never crosses a
session boundary. No Python loop touches events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import polars as pl

from auditor.keys import low_bits

DEFAULT_TRANSITIONS: tuple[str, ...] = ("thread.create", "thread.switch")
DEFAULT_RUN_STARTS: tuple[str, ...] = ("chat.user_message",)


def event_order() -> list[str]:
    """Rule 4: the sort that makes sessions contiguous and orders events inside them
    (``session_key`` stands for ``(user_id, session_id)``, ``source_rank`` for ``source``);
    sorted stably, so that the records of one line (the spans of one OTLP, Jaeger or Zipkin
    document) keep their order in the document."""
    return ["session_key", "ts", "source_rank", "line"]


def session_start() -> pl.Expr:
    """True on the first event of each session (frame sorted by `event_order`)."""
    changed = pl.col("session_key") != pl.col("session_key").shift(1)
    return changed.fill_null(True).alias("session_start")


def is_transition(transitions: Sequence[str] = DEFAULT_TRANSITIONS) -> pl.Expr:
    """Rule 5: events that set the current thread (``--transition`` replaces the set)."""
    return pl.col("event").is_in(list(transitions)).fill_null(False).alias("is_transition")


def is_run_start(run_starts: Sequence[str] = DEFAULT_RUN_STARTS) -> pl.Expr:
    """Rule 8: events that start a run (``--run-start`` replaces the set)."""
    return pl.col("event").is_in(list(run_starts)).fill_null(False).alias("is_run_start")


def current_row(start: str = "session_start", transition: str = "is_transition") -> pl.Expr:
    """Rule 5: the row of the event that set the session's current thread (its first event or
    the latest transition); the current thread is that row's thread."""
    return pl.when(pl.col(start) | pl.col(transition)).then(pl.col("row")).forward_fill()


def current_thread(start: str = "session_start", transition: str = "is_transition") -> pl.Expr:
    """Rule 5: the session's current thread after each event."""
    thread = pl.when(pl.col(start) | pl.col(transition)).then(pl.col("thread_id"))
    return thread.forward_fill().alias("current_thread")


def break_flags(transition: str = "is_transition", current: str = "current_thread") -> pl.Expr:
    """Rule 6: a non-transition event whose thread differs from the current thread."""
    return ~pl.col(transition) & (pl.col("thread_id") != pl.col(current))


def run_setter(
    start: str = "session_start",
    transition: str = "is_transition",
    run_start: str = "is_run_start",
    is_break: str = "is_break",
) -> pl.Expr:
    """Rule 8: events that set the current run: session start, transitions, non-break run starts with a run."""
    starts_run = pl.col(run_start) & ~pl.col(is_break) & pl.col("run_id").is_not_null()
    return pl.col(start) | pl.col(transition) | starts_run


def run_checked(setter: str = "run_setter", is_break: str = "is_break") -> pl.Expr:
    """Rule 8: events whose run is compared with the current run (non-break, with a run, not setters)."""
    return ~pl.col(setter) & ~pl.col(is_break) & pl.col("run_id").is_not_null()


def current_run(setter: str = "run_setter", checked: str = "run_checked") -> pl.Expr:
    """Rule 8: the current run each checked event is compared with (null: none yet).

    A setter fixes the run (possibly none); when it fixed none, the first checked
    event after it adopts its run. So the current run is the run of the latest
    *anchor*: a setter, or the first checked event after a setter without a run;
    found with forward fills (of flags and row positions) and one gather.
    """
    position = pl.int_range(pl.len(), dtype=pl.UInt32)
    # every session starts with a setter, so nothing comes before the first one
    setter_without_run = pl.when(pl.col(setter)).then(pl.col("run_id").is_null()).forward_fill()
    checked_so_far = pl.col(checked).cast(pl.UInt32).cum_sum()
    before_segment = pl.when(pl.col(setter)).then(checked_so_far).forward_fill()
    first_checked = pl.col(checked) & (checked_so_far - before_segment == 1)
    anchor = pl.col(setter) | (first_checked & setter_without_run)
    return pl.col("run_id").gather(pl.when(anchor).then(position).forward_fill())


def run_break_flags(checked: str = "run_checked", current: str = "current_run") -> pl.Expr:
    """Rule 8: a checked event whose run differs from the current run."""
    differs = pl.col("run_id") != pl.col(current)
    return pl.col(checked) & differs.fill_null(False)


def exact_key(*columns: str) -> pl.Expr:
    """An exact UInt64 key per distinct value of one or two string columns (null stays null).

    Each column is interned into its own private categorical dictionary (no hash
    collisions possible); two columns combine as ``id1 * 2**32 + id2``.
    """
    ids = [
        pl.col(c).cast(pl.Categorical(pl.Categories.random())).to_physical().cast(pl.UInt64)
        for c in columns
    ]
    return ids[0] if len(ids) == 1 else ids[0] * (1 << 32) + ids[1]


#: Events per partition (of sessions in :func:`annotate`, of traces in the report): bounds
#: the working memory of the sorts and group-bys.
PARTITION_ROWS = 500_000


def partitions(rows: int) -> int:
    """How many partitions ``rows`` events are split into (at least one)."""
    return max(1, -(-rows // PARTITION_ROWS))


def in_time_order() -> pl.Expr:
    """True when the rows are already in ``(ts, source_rank, line)`` order (logs often are):
    then a stable sort by session alone gives rule 4's order, much cheaper than the full sort."""
    dt, dr, dl = (pl.col(c).diff() for c in ("ts", "source_rank", "line"))
    later = (dt > 0) | ((dt == 0) & ((dr > 0) | ((dr == 0) & (dl > 0))))
    return later.fill_null(True).all()


def time_ordered(frame: pl.DataFrame) -> bool:
    """`in_time_order` of a frame with a non-null ``ts``, cheaper: a sortedness check of
    ``ts``, then the full comparison on the rows that tie on ``ts`` only (few)."""
    if not frame.get_column("ts").is_sorted():
        return False
    tie = (pl.col("ts").diff() == 0).fill_null(False)
    tied = frame.filter(tie | tie.shift(-1).fill_null(False))
    return tied.is_empty() or bool(tied.select(in_time_order()).item())


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def _rules(frame: Frame) -> Frame:
    """Rules 5-8 on events of whole sessions in rule 4's order (``row``: each event's row)."""
    return (
        frame.with_columns(session_start())
        .with_columns(current_row().alias("current_row"), current_thread())
        .with_columns(break_flags().alias("is_break"))
        .with_columns(run_setter().alias("run_setter"))
        .with_columns(run_checked().alias("run_checked"))
        .with_columns(current_run().alias("current_run"))
    )


def _sorted(lazy: pl.LazyFrame, ordered: bool) -> pl.LazyFrame:
    """Rule 4's order; ``ordered``: the rows are already in time order (`in_time_order`)."""
    if ordered:
        return lazy.sort("session_key", maintain_order=True)
    return lazy.sort(event_order(), maintain_order=True)


def _grouped(events: pl.DataFrame) -> pl.DataFrame:
    """Events in time order (`in_time_order`) -> rule 4's order: each session's events
    together, in their order. A stable sort by the session key's low 64 bits, cheaper than
    by all 128; if two sessions share those bits (their events would interleave), the key
    changes more often than its low bits do, and the whole key is sorted instead."""
    key, low = pl.col("session_key"), low_bits("session_key")
    grouped = events.sort(low, maintain_order=True)
    changes = grouped.select(
        (key != key.shift()).sum().alias("key"), (low != low.shift()).sum().alias("low")
    )
    if changes.item(0, "key") == changes.item(0, "low"):
        return grouped
    return events.sort("session_key", maintain_order=True)


def _flags(
    narrow: pl.DataFrame, sessions_before: int, rows_before: int, ordered: bool = False
) -> pl.DataFrame:
    """The rule flags of whole sessions (``row`` says which event each belongs to);
    ``ordered``: the rows are already in time order (see `in_time_order`)."""
    session_index = pl.col("session_start").cast(pl.UInt32).cum_sum() + sessions_before
    return (
        _rules(_sorted(narrow.lazy(), ordered))
        .select(
            "row",
            "session_start",
            "is_transition",
            "current_row",
            "is_break",
            run_break_flags().alias("run_break"),
            session_index.alias("session_index"),
            (pl.int_range(pl.len(), dtype=pl.UInt32) + rows_before).alias("order"),
        )
        .collect()
    )


def annotate_sorted(
    events: pl.DataFrame,
    transitions: Sequence[str] = DEFAULT_TRANSITIONS,
    run_starts: Sequence[str] = DEFAULT_RUN_STARTS,
) -> pl.DataFrame:
    """Compact events of whole sessions (:mod:`auditor.keys`) in rule 4's order, with the rule
    columns: ``session_index`` (dense, from 1), ``session_start``,
    ``current_row`` (the row *of this frame* that set the current thread), ``is_break`` and
    ``run_break``. The report's path: nothing is scattered back to the input's order."""
    ordered = time_ordered(events)
    # eager: each step is one parallel pass, cheaper here than the lazy engine's plan
    frame = (
        (_grouped(events) if ordered else events.sort(event_order(), maintain_order=True))
        .rename({"thread_key": "thread_id", "run_key": "run_id"})
        .with_columns(
            is_transition(transitions),
            is_run_start(run_starts),
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        )
    )
    return (
        _rules(frame)
        .with_columns(
            run_break_flags().alias("run_break"),
            pl.col("session_start").cast(pl.UInt32).cum_sum().alias("session_index"),
        )
        .drop("row", "current_thread", "run_setter", "run_checked", "current_run", "is_run_start")
        .rename({"thread_id": "thread_key", "run_id": "run_key"})
    )


def annotate(
    events: pl.DataFrame | pl.LazyFrame,
    transitions: Sequence[str] = DEFAULT_TRANSITIONS,
    run_starts: Sequence[str] = DEFAULT_RUN_STARTS,
) -> pl.DataFrame:
    """The events, in their own order, with the rule columns added.

    ``events`` holds either the ID strings or the keys of a compact frame
    (:mod:`auditor.keys`: ``session_key``, ``thread_key``, ``run_key``, ``source_rank``).
    Added: ``session_key``, ``thread_key`` (UInt64 keys; compact events have them),
    ``session_index`` (dense, from 1, in session order), ``order`` (position in rule
    4's order; with partitions, sessions come partition by partition),
    ``session_start``, ``is_transition``, ``current_row`` (row that set the current
    thread), ``is_break`` and ``run_break``. The rules run on a narrow numeric copy sorted by
    `event_order`, one partition of sessions (by key) at a time when the events are
    many; the flags are scattered back, so string columns are never sorted.
    """
    frame = events.collect() if isinstance(events, pl.LazyFrame) else events
    rules = (is_transition(transitions), is_run_start(run_starts))
    row = pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    if "session_key" in frame.columns:  # compact events (auditor.keys): keys are given
        narrow = frame.select(
            "session_key",
            pl.col("thread_key").alias("thread_id"),
            pl.col("run_key").alias("run_id"),
            "ts",
            "source_rank",
            "line",
            *rules,
            row,
        )
        added: list[pl.DataFrame] = []
    else:
        frame = frame.with_columns(pl.col("session_id").fill_null(""))
        sources = sorted(frame.get_column("source").unique().to_list())
        # one select: Polars computes the keys and the other columns in parallel
        narrow = frame.select(
            exact_key("user_id", "session_id").alias("session_key"),
            exact_key("thread_id").alias("thread_id"),
            "run_id",  # only compared for equality: the strings themselves are cheapest
            "ts",
            pl.col("source")
            .replace_strict(sources, list(range(len(sources))), return_dtype=pl.UInt32)
            .alias("source_rank"),
            "line",
            *rules,
            row,
        )
        added = [narrow.select("session_key", pl.col("thread_id").alias("thread_key"))]
    # sessions never span partitions, so each partition's rules run on their own copy:
    # the sorted copy and the intermediate columns stay the size of one partition
    parts = partitions(frame.height)
    ids = None
    if parts > 1:  # the partition of a session: its key's low 64 bits modulo `parts`
        low = (
            pl.col("session_key").hash()
            if narrow.schema["session_key"] != pl.UInt128
            else low_bits("session_key")
        )
        part_of = (low % parts).cast(pl.UInt32)
        # slice by slice: the intermediate columns stay the size of one partition
        ids = pl.concat(
            [
                narrow.slice(start, PARTITION_ROWS).select(part_of).to_series()
                for start in range(0, narrow.height, PARTITION_ROWS)
            ]
        )
    flags: dict[str, pl.Series] = {}
    sessions = done = 0
    for part in range(parts):
        subset = narrow if ids is None else narrow.filter(ids == part)
        # only each partition's rows need be in time order for the cheaper sort
        ordered = time_ordered(subset)
        piece = _flags(subset, sessions, done, ordered)
        sessions += int(piece.get_column("session_start").sum())
        done += piece.height
        # back to the events' own order: scatter each flag column by row number, piece
        # by piece, so that only one piece is held besides the full columns
        rows = piece.get_column("row")
        for name in piece.columns[1:]:
            if name not in flags:
                flags[name] = pl.zeros(frame.height, dtype=piece.schema[name], eager=True)
            flags[name] = flags[name].scatter(rows, piece.get_column(name)).alias(name)
        del piece, rows
    del narrow
    return pl.concat([frame, *added, pl.DataFrame(list(flags.values()))], how="horizontal")


def with_current_thread(annotated: pl.DataFrame) -> pl.DataFrame:
    """Add ``current_thread``: the thread of the event that set the current thread."""
    return annotated.with_columns(
        pl.col("thread_id").gather(pl.col("current_row")).alias("current_thread")
    )


def stray_threads(annotated: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 7: per thread, its events and breaks, and whether it is stray / an orphan."""
    text = ["thread_id"] if "thread_id" in annotated.collect_schema() else []
    return (
        annotated.group_by("thread_key")
        .agg(
            *(pl.col(c).first() for c in text),
            pl.len().alias("events"),
            pl.col("is_break").sum().alias("breaks"),
        )
        .with_columns(stray=pl.col("breaks") == pl.col("events"))
        .with_columns(orphan=pl.col("stray") & (pl.col("events") == 1))
    )


def split_traces(annotated: pl.LazyFrame, trace: str = "trace_id") -> pl.LazyFrame:
    """Rule 9: trace IDs (or keys: ``trace``) whose events carry two or more distinct threads.

    Events always have a thread, so "two or more distinct" is "smallest != largest" (a
    min and a max per group: cheaper than counting distinct values, 0.42 against 0.50 s
    for 5 M traces)."""
    thread = pl.col("thread_key")
    return (
        annotated.filter(pl.col(trace).is_not_null())
        .group_by(trace)
        .agg((thread.min() != thread.max()).alias("split"))
        .filter(pl.col("split"))
        .drop("split")
    )
