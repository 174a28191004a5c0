"""Output helpers shared by the commands: JSON to stdout, rich tables otherwise."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

#: Width tables are laid out in when stdout is no terminal (a pipe, a CI log, `> file`):
#: their natural width, not 80 columns that cut `source:line` and IDs to `thread_17676…`.
PIPED_WIDTH = 10_000


def print_renderable(renderable: Any) -> None:
    """Print a table (or any renderable) to stdout: at the terminal's width, its long cells
    folded onto more lines; off a terminal at its natural width (:data:`PIPED_WIDTH`)."""
    if console.is_terminal:
        console.print(renderable)
    else:  # `print(width=...)` cannot widen a console past its own width
        Console(file=console.file, width=PIPED_WIDTH, no_color=console.no_color).print(renderable)


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def print_json(data: Any) -> None:
    """Print one JSON document to stdout (no colour, so it pipes into jq)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


#: Characters a terminal acts on rather than shows: C0 and C1 controls (escape sequences
#: set the window title, clear the screen, move the cursor), bidirectional overrides.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(value: object) -> str:
    """A value from the data as a table shows it: unprintable characters as escapes
    (``\\x1b``), so that an ID in a log cannot drive the terminal of who audits it."""
    text = "" if value is None else str(value)
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a rich table with the given column headers. Everything is plain text, never
    markup: IDs, event names and file names are data (``[red]t2`` is printed as it is), and
    never terminal control (:func:`shown`)."""
    table = Table(title=Text(shown(title)), title_justify="left")
    for column in columns:
        # folded, never cut: an ID or a `source:line` cut with "…" cannot be used
        table.add_column(Text(shown(column)), overflow="fold")
    for row in rows:
        table.add_row(*(Text(shown(cell)) for cell in row))
    print_renderable(table)
