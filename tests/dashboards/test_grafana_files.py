"""Tests for dashboards/grafana_files.py: the packaged files and copying them out."""

import json

import pytest

from dashboards.errors import DashboardError
from dashboards.grafana_files import GRAFANA_FILES, copy_grafana_files, grafana_file


def test_copies_both_files_byte_for_byte(tmp_path):
    written = copy_grafana_files(tmp_path / "new" / "dir")
    assert [path.name for path in written] == list(GRAFANA_FILES)
    for path in written:
        assert path.read_bytes() == grafana_file(path.name).read_bytes()
    assert json.loads(written[0].read_text())["uid"] == "quality-continuity"


def test_copy_overwrites_an_older_copy(tmp_path):
    (tmp_path / GRAFANA_FILES[0]).write_text("old")
    copy_grafana_files(tmp_path)
    assert (tmp_path / GRAFANA_FILES[0]).read_bytes() == grafana_file(GRAFANA_FILES[0]).read_bytes()


def test_copy_into_a_file_is_a_dashboard_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DashboardError, match=r"cannot write the Grafana files"):
        copy_grafana_files(blocker)
