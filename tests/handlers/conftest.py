"""Fixtures shared by the handler tests: a fake clock and a real app with in-memory spans."""

from __future__ import annotations

import pytest

from handlers.testing import FakeClock, memory_app


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app_and_spans(tmp_path, clock):
    app, exporter = memory_app(tmp_path, clock=clock)
    yield app, exporter
    app.close()


@pytest.fixture
def app(app_and_spans):
    return app_and_spans[0]
