"""Helpers of the privacy tests: private copies of the session's pipeline city to rotate keys in and delete from.

The shared ``pipeline_city`` is read by many tests and must not change, so every destructive test works on
a copy of its data folder (landing zone, warehouse, releases, linkage model, review files, GX results,
Dagster instance), pointed at by ``INTEGRATION_DATA_DIR`` for as long as the copy is in use.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

COPIED = ("landing", "truth", "warehouse", "releases", "linkage", "review", "quality", "dagster", "dbt")


def copy_city(source: Path, target: Path) -> Path:
    """A copy of a pipeline city's data folder: everything a run wrote, Dagster instance and GX results too."""
    target.mkdir(parents=True)
    for name in COPIED:
        if (source / name).exists():
            shutil.copytree(source / name, target / name)
    (target / "dagster").mkdir(exist_ok=True)
    return target


@contextmanager
def data_folder(path: Path) -> Iterator[Path]:
    """Point the pipeline at ``path`` for the block (and back at the previous folder afterwards)."""
    names = ("INTEGRATION_DATA_DIR", "DAGSTER_HOME", "DBT_LOG_PATH")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["INTEGRATION_DATA_DIR"] = str(path)
    os.environ["DAGSTER_HOME"] = str(path / "dagster")
    os.environ["DBT_LOG_PATH"] = str(path / "dbt" / "logs")
    try:
        yield path
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def text_values(warehouse: Path) -> set[str]:
    """Every distinct value of every text column of the warehouse (DuckDB may compress strings on disk)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        values: set[str] = set()
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall():
            values.update(v[0] for v in con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
                          if v[0] is not None)
        return values
    finally:
        con.close()


def found_in_bytes(path: Path, values: set[str]) -> set[str]:
    """Which of ``values`` occur anywhere in the file's bytes (live or freed blocks alike)."""
    data = path.read_bytes()
    return {v for v in values if v.encode("utf-8") in data}


HEX_RUN = re.compile(rb"[0-9a-f]{32,}")


def found_hex_in_bytes(path: Path, values: set[str]) -> set[str]:
    """Which of ``values`` (32-character hex pseudonyms) occur in the file's bytes: every 32-character
    window of every run of hex characters is looked up (DuckDB stores strings back to back)."""
    width = 32
    assert all(len(v) == width for v in values)
    found = set()
    for run in HEX_RUN.findall(path.read_bytes()):
        text = run.decode("ascii")
        found.update(text[i:i + width] for i in range(len(text) - width + 1) if text[i:i + width] in values)
    return found
