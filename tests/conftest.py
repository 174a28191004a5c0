"""Shared pytest options: ``--update-golden`` rewrites golden files instead of comparing.

Hypothesis runs without its per-example deadline: a deadline is a timed assert, and a
slow example on a loaded 2-core CI machine failed a run whose results were right.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden/ from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))
