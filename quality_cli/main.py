"""The root `quality` app: global options and the topic sub-apps, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quality_cli._errors import QualityGroup
from quality_cli._state import CliState

app = typer.Typer(
    cls=QualityGroup,
    name="quality",
    help="Session continuity for chat quality operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            help="State directory (default: $QUALITY_HOME or the user data dir).",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            help="User ID (default: $QUALITY_USER or the login name).", show_default=False
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Continuity strategy: resume (default), mint or default-session.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Session continuity for chat quality operations.

    Example: quality --user alice chat "hello"
    """
    ctx.obj = CliState(home=home, user=user, strategy=strategy, debug=debug)


from quality_cli import audit as _audit  # noqa: E402

app.command("audit", help=_audit.AUDIT_HELP)(_audit.audit_command)
app.command("compare", help=_audit.COMPARE_HELP)(_audit.compare_command)


def main() -> None:
    """Console-script entry point."""
    app()
