"""The DuckDB warehouse: one file, opened briefly by one writer at a time.

DuckDB allows a single writing process per file, so every stage opens the file only
for the duration of its work and closes it before the next stage (or dbt) runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.config import data_paths

MEMORY_ENV = "INTEGRATION_WAREHOUSE_MEMORY"
"""DuckDB's memory limit for the warehouse (its notation, e.g. ``4GB``); dbt's profile reads the same variable.

DuckDB's own default is 80 % of the machine's memory. The pipeline runs its steps in one process next to
Splink's workspace (``INTEGRATION_LINKAGE_MEMORY``) and pandas frames, so the warehouse gets a bound of its
own; beyond it DuckDB spills to a temporary folder next to the file.
"""
DEFAULT_MEMORY = "4GB"


def memory_limit() -> str:
    return os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY


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
            # a setting, not a connect-time config: other connections to the file in this process (tests,
            # the dashboard builder) may have opened it without one
            connection.execute(f"set memory_limit = '{memory_limit()}'")
            yield connection
        finally:
            connection.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a fresh warehouse has none of the tables a first run creates)."""
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? "
                            "and table_name = ?", [schema, table]).fetchone()[0])
