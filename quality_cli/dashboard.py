"""`quality dashboard`: render audit reports as one self-contained HTML page."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from auditor.errors import UsageError

HELP = """Render audit reports (`quality audit --json` files) as one self-contained HTML dashboard.

Reports and before/after comparisons are shown side by side; the page needs no network.
--grafana DIR also copies the Grafana dashboard for live metrics and its Collector config.

Example: quality dashboard audit-mint.json audit-resume.json -o dashboard.html --open
"""


def dashboard(
    reports: Annotated[
        list[Path] | None,
        typer.Argument(help="Audit report JSON files.", show_default=False, metavar="AUDIT.json"),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML file to write.")] = Path(
        "dashboard.html"
    ),
    title: Annotated[str, typer.Option(help="Page title.")] = "Session continuity audit",
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the written page in the default browser.")
    ] = False,
    grafana: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Copy the Grafana dashboard and Collector config here."),
    ] = None,
) -> None:
    """Write the dashboard (and/or the Grafana files) and print the paths written."""
    if not reports and grafana is None:
        raise UsageError("no audit reports given: pass AUDIT.json files or --grafana DIR")
    from dashboards.grafana_files import copy_grafana_files  # loaded only when used
    from dashboards.html import write_dashboard

    # the page first: when a report is bad (exit 2) nothing at all is written
    written = [write_dashboard(reports, out, title=title)] if reports else []
    if grafana is not None:
        written.extend(copy_grafana_files(grafana))
    if reports and open_page:
        webbrowser.open(written[0].resolve().as_uri())
    for path in written:
        typer.echo(f"wrote {path}")
