"""Dashboards: a self-contained HTML page of audit reports, and the Grafana dashboard for live metrics.

`dashboards.html.write_dashboard` renders `quality audit --json` outputs (reports and
comparisons) into one HTML file that needs no network to view; `dashboards/grafana/`
ships the Grafana dashboard and the OpenTelemetry Collector configuration that feeds it.
"""
