"""`--help` as a user reads it: a flag shows no value type.

Typer's rich help puts every option's type in a column, flags included (`--json <bool>`),
which reads as if the flag took a value (`--json false` is an error). Flags show nothing
there; every other option keeps its type or metavar.
"""

from __future__ import annotations

from typer import _click
from typer.core import TyperOption

_typed = TyperOption.display_type_rich


def _display_type_rich(self: TyperOption, ctx: _click.Context) -> str | None:
    return None if self.is_flag and not self.count else _typed(self, ctx)


def install() -> None:
    """Use the flag-aware type column for every option (idempotent)."""
    TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]
