"""Rich rendering of audit reports and comparisons (the tables `quality audit` prints)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.text import Text

from auditor import progress
from auditor.location import location
from quality_cli._output import console, err_console, print_table, shown

#: Inputs smaller than this get no progress bar.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024
_HEADLINE = ("lines", "rejected", "unattributed", "missing_thread", "events", "sessions")
_CONTINUITY = (
    "threads",
    "breaks",
    "break_rate",
    "affected_sessions",
    "stray_threads",
    "orphan_threads",
    "run_breaks",
    "split_traces",
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4%}" if value < 1 else f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _total_bytes(paths: Sequence[str]) -> int:
    total = 0
    for text in paths:
        path = Path(text)
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total


@contextmanager
def progress_bar(paths: Sequence[str], quiet: bool) -> Iterator[None]:
    """A byte progress bar on stderr while the block runs (not when quiet, small, or not a TTY)."""
    total = _total_bytes(paths)
    if quiet or total < PROGRESS_MIN_BYTES or not err_console.is_terminal:
        with nullcontext():
            yield
        return
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("reading", total=total)
        advance: Callable[[int], None] = lambda n: bar.advance(task, n)  # noqa: E731
        with progress.reporting(advance):
            yield


def print_report(report: dict[str, Any]) -> None:
    """The summary of one report: headline, top break events, sessions, examples."""
    inputs = len(report["inputs"])
    console.print(Text.assemble((shown(report["label"]), "bold"), f"  ({inputs} input(s))"))
    _print_skipped(report)
    rows = [(k, _fmt(report[k])) for k in (*_HEADLINE, *_CONTINUITY)]
    rows.insert(_HEADLINE.__len__() + 3, ("break_rate 95% CI", _interval(report)))
    print_table("Continuity", ("measure", "value"), rows)
    events = [e for e in report["by_event"] if e["breaks"]][:10]
    if events:
        print_table("Top break events", ("event", "events", "breaks"), [e.values() for e in events])
    sessions = [s for s in report["top_sessions"] if s["breaks"]]
    if sessions:
        print_table(
            "Most affected sessions",
            ("user", "session", "events", "breaks", "threads"),
            [s.values() for s in sessions],
        )
    if report["break_examples"]:
        print_table(
            "First breaks",
            ("where", "event", "expected thread", "actual thread"),
            [
                (_where(b), b["event"], b["expected_thread"], b["actual_thread"])
                for b in report["break_examples"][:10]
            ],
        )
    if report["rejected_examples"]:
        reasons = ", ".join(f"{k}={v:,}" for k, v in report["rejected_by_reason"].items())
        print_table(
            f"Rejected records ({reasons})",
            ("where", "reason"),
            [(_where(r), r["reason"]) for r in report["rejected_examples"]],
        )


#: Skipped files the summary names; the rest are counted.
_SKIPPED_SHOWN = 5


def _print_skipped(*reports: dict[str, Any]) -> None:
    """The files of directories and globs that were not read, each once."""
    skipped = list({(s["source"], s["reason"]): None for r in reports for s in r["skipped_inputs"]})
    for source, reason in skipped[:_SKIPPED_SHOWN]:
        # a Text: a path may hold [brackets] that markup would take; one line whatever its width
        console.print(Text(f"skipped (not a log): {shown(source)} ({reason})"), soft_wrap=True)
    if len(skipped) > _SKIPPED_SHOWN:  # a directory of thousands of images
        more = len(skipped) - _SKIPPED_SHOWN
        console.print(f"skipped {more:,} more that are no logs (--json lists them all)")


def _where(record: dict[str, Any]) -> str:
    return location(record["source"], record["line"], record.get("item", 0))


def _interval(report: dict[str, Any]) -> str:
    interval = report["break_rate_ci"]
    return f"{interval[0]:.4%} - {interval[1]:.4%}" if interval else "n/a (no events)"


def print_comparison(result: dict[str, Any]) -> None:
    """Both sides with their break rates' Wilson 95% intervals, the deltas and whether the
    change in break rate is significant; with more than two ``--split-by`` values, every
    side (the comparison is of the first and the last)."""
    before, after, delta = result["before"], result["after"], result["delta"]
    _print_skipped(before, after)
    keys = ("lines", "rejected", "events", "sessions", *_CONTINUITY, "run_break_rate")
    rows = [(k, _fmt(before[k]), _fmt(after[k]), _fmt(delta[k])) for k in keys]
    at = keys.index("break_rate") + 1
    rows.insert(at, ("break_rate 95% CI", _interval(before), _interval(after), ""))
    print_table(
        f"Comparison ({result['split']['kind']}: {result['split']['value']})",
        ("measure", before["label"], after["label"], "delta"),
        rows,
    )
    p_value = result["p_value"]
    if p_value is None:
        console.print("significance: not computable (a side has no events)")
    else:
        verdict = "significant" if result["significant"] else "not significant"
        console.print(f"break rate change is {verdict} (two-proportion z-test p = {p_value:.3g})")
    if "unsplit" in result:
        console.print(f"records without the split field: {result['unsplit']:,}")
    sides = result.get("sides") or {}
    if len(sides) > 2:
        print_table(
            f"Every {result['split']['value']} (first and last compared above)",
            ("value", "events", "breaks", "break_rate", "95% CI"),
            [
                (value, _fmt(r["events"]), _fmt(r["breaks"]), _fmt(r["break_rate"]), _interval(r))
                for value, r in sides.items()
            ],
        )
