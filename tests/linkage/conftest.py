"""Fixtures the linkage tests share."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from pipelines.linkage.link import read_identities


@pytest.fixture(scope="module")
def identities(pipeline_city) -> pa.Table:
    """The test city's identity records, as the linkage step reads them."""
    con = duckdb.connect(str(pipeline_city.warehouse), read_only=True)
    try:
        return read_identities(con)
    finally:
        con.close()
