"""The DuckDB warehouse: one file, opened briefly by one writer at a time.

DuckDB allows a single writing process per file, so every stage opens the file only
for the duration of its work and closes it before the next stage (or dbt) runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.config import data_paths


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse file lives; empty means the data folder's default."""

    path: str = ""

    @property
    def file(self) -> Path:
        return Path(self.path) if self.path else data_paths().warehouse

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.file), read_only=read_only)
        try:
            yield connection
        finally:
            connection.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a fresh warehouse has none of the tables a first run creates)."""
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? "
                            "and table_name = ?", [schema, table]).fetchone()[0])
