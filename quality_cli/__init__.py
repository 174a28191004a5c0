"""The `quality` command line: thin commands over `handlers`, `auditor` and `dashboards`."""
