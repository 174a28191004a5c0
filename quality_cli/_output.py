"""Output helpers shared by the commands: JSON to stdout, rich tables otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


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


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a rich table with the given column headers. Everything is plain text, never
    markup: IDs, event names and file names are data (``[red]t2`` is printed as it is)."""
    table = Table(title=Text(title), title_justify="left")
    for column in columns:
        table.add_column(Text(str(column)))
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    console.print(table)
