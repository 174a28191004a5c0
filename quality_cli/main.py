"""The root `quality` app: global options and the topic sub-apps, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handlers.config import chosen_strategy
from quality_cli import alerts as _alerts
from quality_cli import audit as _audit
from quality_cli import chat as _chat
from quality_cli import dashboard as _dashboard
from quality_cli import demo as _demo
from quality_cli import lint as _lint
from quality_cli import quality as _quality
from quality_cli import serve as _serve
from quality_cli import simulate as _simulate
from quality_cli import thread as _thread
from quality_cli._errors import QualityGroup
from quality_cli._help import install as _install_help
from quality_cli._state import CliState

_install_help()

app = typer.Typer(
    cls=QualityGroup,
    name="quality",
    help=(
        "Session continuity for chat quality operations.\n\n"
        "Examples: quality demo; quality --user alice chat 'hello'; "
        "quality audit traces.jsonl logs/ --json; quality serve --port 8765"
    ),
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
    chosen_strategy(strategy)  # a bad name is an error for every command, not only those using it


app.command("chat", help=_chat.HELP)(_chat.chat)
app.add_typer(_thread.app, name="thread")
app.add_typer(_alerts.app, name="alerts")
app.command("metrics", help=_quality.METRICS_HELP)(_quality.metrics)
app.command("report", help=_quality.REPORT_HELP)(_quality.report)
app.command("validate", help=_quality.VALIDATE_HELP)(_quality.validate)
app.command("audit", help=_audit.AUDIT_HELP)(_audit.audit_command)
app.command("compare", help=_audit.COMPARE_HELP)(_audit.compare_command)
app.command("simulate", help=_simulate.HELP)(_simulate.simulate_command)
app.command("demo", help=_demo.HELP)(_demo.demo)
app.command("dashboard", help=_dashboard.HELP)(_dashboard.dashboard)
app.command("serve", help=_serve.SERVE_HELP)(_serve.serve)
app.command("token", help=_serve.TOKEN_HELP)(_serve.token)
app.command("lint", help=_lint.HELP)(_lint.lint)


def main() -> None:
    """Console-script entry point."""
    app()
