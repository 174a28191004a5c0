"""The Grafana dashboard and Collector configuration shipped as package data, and copying them out."""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from dashboards.errors import DashboardError

#: The Grafana dashboard for live metrics (import it, pick the Prometheus data source).
GRAFANA_DASHBOARD = "quality-continuity.json"
#: The OpenTelemetry Collector configuration that produces the dashboard's metrics.
COLLECTOR_CONFIG = "otelcol-spanmetrics.yaml"
GRAFANA_FILES = (GRAFANA_DASHBOARD, COLLECTOR_CONFIG)


def grafana_file(name: str) -> Traversable:
    """The packaged file `name` of `dashboards/grafana/`."""
    return resources.files("dashboards").joinpath("grafana", name)


def grafana_dashboard() -> dict[str, Any]:
    """The Grafana dashboard as a dict."""
    document: dict[str, Any] = json.loads(grafana_file(GRAFANA_DASHBOARD).read_text("utf-8"))
    return document


def copy_grafana_files(directory: Path) -> list[Path]:
    """Copy the Grafana dashboard and the Collector configuration into `directory`.

    Creates the directory when needed and overwrites earlier copies; returns the written paths.
    """
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in GRAFANA_FILES:
            target = directory / name
            target.write_bytes(grafana_file(name).read_bytes())
            written.append(target)
    except OSError as exc:
        where = exc.filename or directory
        raise DashboardError(
            f"{where}: cannot write the Grafana files: {exc.strerror or exc}"
        ) from None
    return written
