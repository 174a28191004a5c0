"""`python -m quality_cli` runs the `quality` command (used by tests that spawn processes)."""

from quality_cli.main import main

main()
