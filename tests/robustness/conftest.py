"""Fixtures of the robustness tests: a throwaway key and a warehouse file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return Encoder(PseudonymKey(b"robustness-test-key-" * 2, source="test"))


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()
