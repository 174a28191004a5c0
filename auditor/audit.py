"""The auditor's library API: `audit(paths, ...)` and `compare(before, after, ...)`.

Inputs are read once (one streaming collect of the record frame); each report is
then computed from that frame.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from auditor import continuity
from auditor.compare import compare_split_at, compare_split_by, comparison
from auditor.errors import UsageError
from auditor.exports import EXPORT_CHUNK, check_export_path, export_breaks
from auditor.fields import build_read_options
from auditor.inputs import STDIN, Skipped, find_inputs
from auditor.keys import Fetch
from auditor.partitions import Partitions
from auditor.readers import read_compact
from auditor.report import Analysis, analyse, breaks_frame


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """Everything `quality audit` can be told besides the paths."""

    fmt: str = "auto"
    maps: tuple[str, ...] = ()
    extracts: tuple[str, ...] = ()
    transitions: tuple[str, ...] = continuity.DEFAULT_TRANSITIONS
    run_starts: tuple[str, ...] = continuity.DEFAULT_RUN_STARTS
    label: str | None = None
    export_breaks: Path | None = None


@dataclass(frozen=True, slots=True)
class Loaded:
    """The compact record frame of one input set (:mod:`auditor.keys`), read once, the names
    of its sources and the fetch of its records' text."""

    records: pl.DataFrame | Partitions
    fetch: Fetch
    inputs: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _default_label(paths: Sequence[str], inputs: Sequence[str]) -> str:
    """The first argument as the user wrote it (a directory, not the first file in it)."""
    first = paths[0] if paths else (inputs[0] if inputs else "stdin")
    return "stdin" if first == "-" else first


def load(
    paths: Sequence[str],
    options: AuditOptions,
    split_by: str | None = None,
    spill_dir: Path | None = None,
) -> Loaded:
    """Expand the paths and read every record into the compact frame; ``source_order`` is the
    position of the record's source among the inputs (input order is ``(source_order, line)``).

    With ``spill_dir``, plain JSON-lines files are compacted to IPC files there, partitioned
    by session (memory then stays bounded whatever the input's size)."""
    read = build_read_options(options.maps, options.extracts, split_by)
    sources, skipped = find_inputs(paths)
    names = list(dict.fromkeys(s.name for s in sources))
    frame, fetch = read_compact(sources, options.fmt, read, names, spill_dir)
    return Loaded(records=frame, fetch=fetch, inputs=[s.name for s in sources], skipped=skipped)


@contextmanager
def _spill_dir() -> Iterator[Path]:
    """A private temporary directory for the spilled compact rows, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="quality-audit-") as name:
        yield Path(name)


def _stored(loaded: Loaded) -> pl.LazyFrame | Partitions:
    records = loaded.records
    return records.lazy() if isinstance(records, pl.DataFrame) else records


def _analyser(
    options: AuditOptions, loaded: Loaded
) -> Callable[[pl.LazyFrame | Partitions, str], Analysis]:
    def run(records: pl.LazyFrame | Partitions, label: str) -> Analysis:
        return analyse(
            records,
            label=label,
            inputs=loaded.inputs,
            skipped=[{"source": s.source, "reason": s.reason} for s in loaded.skipped],
            fetch=loaded.fetch,
            transitions=options.transitions,
            run_starts=options.run_starts,
        )

    return run


def _export(analyses: Sequence[tuple[str, Analysis]], path: Path) -> None:
    sided = len(analyses) > 1

    def chunks() -> Iterator[pl.DataFrame]:
        for side, result in analyses:
            # one chunk at least: an export without breaks still has its columns
            for start in range(0, max(result.breaks.height, 1), EXPORT_CHUNK):
                rows = breaks_frame(result.breaks.slice(start, EXPORT_CHUNK), result.fetch)
                yield rows.with_columns(side=pl.lit(side)) if sided else rows

    export_breaks(chunks(), path)


def audit(
    paths: Sequence[str],
    options: AuditOptions = AuditOptions(),
    *,
    split_at: str | None = None,
    split_by: str | None = None,
) -> dict[str, Any]:
    """The report of the inputs, or with `split_at`/`split_by` the comparison of two sides."""
    if split_at is not None and split_by is not None:
        raise UsageError("use either --split-at or --split-by, not both")
    if options.export_breaks is not None:
        check_export_path(options.export_breaks)
    if split_at is None and split_by is None:
        with _spill_dir() as spill:
            loaded = load(paths, options, spill_dir=spill)
            label = options.label or _default_label(paths, loaded.inputs)
            result = _analyser(options, loaded)(_stored(loaded), label)
        if options.export_breaks is not None:
            _export([("all", result)], options.export_breaks)
        return result.report
    loaded = load(paths, options, split_by)
    label = options.label or _default_label(paths, loaded.inputs)
    assert isinstance(loaded.records, pl.DataFrame)  # not spilled
    captured: list[tuple[str, Analysis]] = []

    def run(records: pl.LazyFrame, side: str) -> Analysis:
        result = _analyser(options, loaded)(records, f"{label} {side}")
        captured.append((side, result))
        return result

    if split_at is not None:
        report = compare_split_at(loaded.records, split_at, run)
    else:
        assert split_by is not None
        report = compare_split_by(loaded.records, split_by, run)
    if options.export_breaks is not None:
        _export(captured, options.export_breaks)
    return report


def compare(
    before_paths: Sequence[str],
    after_paths: Sequence[str],
    options: AuditOptions = AuditOptions(),
    *,
    before_label: str | None = None,
    after_label: str | None = None,
) -> dict[str, Any]:
    """The comparison of two input sets, each read and analysed on its own."""
    if STDIN in before_paths and STDIN in after_paths:
        raise UsageError("stdin (-) can be read only once; give - on one side only")
    if options.export_breaks is not None:
        check_export_path(options.export_breaks)
    sides: list[tuple[str, Analysis]] = []
    for side, paths, label in (
        ("before", before_paths, before_label),
        ("after", after_paths, after_label),
    ):
        with _spill_dir() as spill:
            loaded = load(paths, options, spill_dir=spill)
            name = label or _default_label(paths, loaded.inputs)
            sides.append((side, _analyser(options, loaded)(_stored(loaded), name)))
    if options.export_breaks is not None:
        _export(sides, options.export_breaks)
    value = f"{sides[0][1].report['label']} -> {sides[1][1].report['label']}"
    return comparison(sides[0][1].report, sides[1][1].report, "inputs", value)
