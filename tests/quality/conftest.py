"""Fixtures shared by the quality tests."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.quality.checks import read_relation


@pytest.fixture(scope="module")
def raw_abh(pipeline_city):
    """The immigration office's raw table of the pipeline city, as the checks read it."""
    with duckdb.connect(str(pipeline_city.warehouse), read_only=True) as con:
        return read_relation(con, "raw.abh__residence_status")
