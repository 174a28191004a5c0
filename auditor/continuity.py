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

import polars as pl

DEFAULT_TRANSITIONS: tuple[str, ...] = ("thread.create", "thread.switch")
DEFAULT_RUN_STARTS: tuple[str, ...] = ("chat.user_message",)

#: Marks "no run" in forward-filled run columns; real run IDs are never empty (empty = absent).
_NO_RUN = ""


def session_columns() -> list[pl.Expr]:
    """Rule 3: a session is ``(user_id, session_id)``, a missing session being ``""``."""
    return [pl.col("user_id"), pl.col("session_id").fill_null("")]


def event_order() -> list[str]:
    """Rule 4: the sort that makes sessions contiguous and orders events inside them."""
    return ["user_id", "session_id", "ts", "source", "line"]


def session_start() -> pl.Expr:
    """True on the first event of each session (frame sorted by `event_order`)."""
    changed = (pl.col("user_id") != pl.col("user_id").shift(1)) | (
        pl.col("session_id") != pl.col("session_id").shift(1)
    )
    return changed.fill_null(True).alias("session_start")


def is_transition(transitions: Sequence[str] = DEFAULT_TRANSITIONS) -> pl.Expr:
    """Rule 5: events that set the current thread (``--transition`` replaces the set)."""
    return pl.col("event").is_in(list(transitions)).fill_null(False).alias("is_transition")


def current_thread(start: str = "session_start", transition: str = "is_transition") -> pl.Expr:
    """Rule 5: the session's current thread after each event (set by its first event and transitions)."""
    thread = pl.when(pl.col(start) | pl.col(transition)).then(pl.col("thread_id"))
    return thread.forward_fill().alias("current_thread")


def break_flags(transition: str = "is_transition", current: str = "current_thread") -> pl.Expr:
    """Rule 6: a non-transition event whose thread differs from the current thread."""
    return ~pl.col(transition) & (pl.col("thread_id") != pl.col(current))


def run_setter(
    run_starts: Sequence[str] = DEFAULT_RUN_STARTS,
    start: str = "session_start",
    transition: str = "is_transition",
    is_break: str = "is_break",
) -> pl.Expr:
    """Rule 8: events that set the current run: session start, transitions, non-break run starts with a run."""
    starts_run = (
        pl.col("event").is_in(list(run_starts)).fill_null(False)
        & ~pl.col(is_break)
        & pl.col("run_id").is_not_null()
    )
    return pl.col(start) | pl.col(transition) | starts_run


def run_checked(setter: str = "run_setter", is_break: str = "is_break") -> pl.Expr:
    """Rule 8: events whose run is compared with the current run (non-break, with a run, not setters)."""
    return ~pl.col(setter) & ~pl.col(is_break) & pl.col("run_id").is_not_null()


def current_run(setter: str = "run_setter", checked: str = "run_checked") -> pl.Expr:
    """Rule 8: the current run each checked event is compared with (``""`` = none yet).

    A setter fixes the run (possibly none); when it fixed none, the first checked
    event after it adopts its run. Both are forward fills: the setter's run, and
    the run of the first checked event since the setter.
    """
    set_run = pl.when(pl.col(setter)).then(pl.col("run_id").fill_null(_NO_RUN)).forward_fill()
    checked_so_far = pl.col(checked).cast(pl.Int64).cum_sum()
    before_segment = pl.when(pl.col(setter)).then(checked_so_far).forward_fill()
    first_checked = pl.col(checked) & (checked_so_far - before_segment == 1)
    adopted = (
        pl.when(pl.col(setter))
        .then(pl.lit(_NO_RUN))
        .when(first_checked)
        .then(pl.col("run_id"))
        .forward_fill()
    )
    return pl.when(set_run != _NO_RUN).then(set_run).otherwise(adopted)


def run_break_flags(checked: str = "run_checked", current: str = "current_run") -> pl.Expr:
    """Rule 8: a checked event whose run differs from the current run."""
    return pl.col(checked) & (pl.col(current) != _NO_RUN) & (pl.col("run_id") != pl.col(current))


def annotate(
    events: pl.LazyFrame,
    transitions: Sequence[str] = DEFAULT_TRANSITIONS,
    run_starts: Sequence[str] = DEFAULT_RUN_STARTS,
) -> pl.LazyFrame:
    """Sort events (rule 4) and add ``session_start, is_transition, current_thread, is_break,
    run_break`` and ``session_index`` (a dense number per session)."""
    return (
        events.with_columns(pl.col("session_id").fill_null(""))
        .sort(event_order())
        .with_columns(session_start(), is_transition(transitions))
        .with_columns(current_thread())
        .with_columns(break_flags().alias("is_break"))
        .with_columns(run_setter(run_starts).alias("run_setter"))
        .with_columns(run_checked().alias("run_checked"))
        .with_columns(current_run().alias("current_run"))
        .with_columns(
            run_break_flags().alias("run_break"),
            pl.col("session_start").cast(pl.UInt32).cum_sum().alias("session_index"),
        )
        .drop("run_setter", "run_checked", "current_run")
    )


def stray_threads(annotated: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 7: per thread, its events and breaks, and whether it is stray / an orphan."""
    return (
        annotated.group_by("thread_id")
        .agg(pl.len().alias("events"), pl.col("is_break").sum().alias("breaks"))
        .with_columns(stray=pl.col("breaks") == pl.col("events"))
        .with_columns(orphan=pl.col("stray") & (pl.col("events") == 1))
    )


def split_traces(annotated: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 9: trace IDs whose events carry two or more distinct threads."""
    return (
        annotated.filter(pl.col("trace_id").is_not_null())
        .group_by("trace_id")
        .agg(pl.col("thread_id").n_unique().alias("threads"))
        .filter(pl.col("threads") >= 2)
    )
