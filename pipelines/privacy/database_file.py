"""The warehouse as a file: make removed data leave its bytes, and drop what dbt will rebuild.

DuckDB marks deleted rows and dropped tables as free but keeps their bytes in the file until the blocks
are reused; ``CHECKPOINT`` and ``VACUUM`` do not reliably give them back. A deletion is only a deletion
when the file no longer holds the data, so after removing rows the database is copied into a fresh file
(``COPY FROM DATABASE`` copies schemas, tables with their constraints, views and macros, but only live
rows) and the fresh file replaces the old one by an atomic rename. The caller holds the run lock, so no
other process has the file open in between.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb

from pipelines.warehouse import table_exists

log = logging.getLogger(__name__)

# Schemas built from raw.* and the registry: dbt's, and linkage's cache of scored pairs. They hold
# pseudonyms and person keys derived from the source records, and the next run rebuilds them (without
# the cache, linkage scores every pair once).
DERIVED_SCHEMAS = ("staging", "intermediate", "marts", "linkage_cache")
DERIVED_TABLES = ("meta.validated_rows", "meta.journey_person_digests")
"""Derived tables outside those schemas: the quality checks' hashes of rows found valid
(``pipelines/quality/validated.py``), which the next check run rebuilds by validating every row; and
the per-person journey models' committed event digests by person key
(``dbt_project/macros/person_incremental.sql``), without which the next build rebuilds every person."""


def drop_derived_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop every table and view dbt built in the derived schemas, and ``DERIVED_TABLES``; returns their names."""
    dropped = []
    for schema, name, kind in con.execute(
        """select schema_name, table_name, 'table' from duckdb_tables() where list_contains(?, schema_name)
           union all
           select schema_name, view_name, 'view' from duckdb_views()
           where not internal and list_contains(?, schema_name)""",
        [list(DERIVED_SCHEMAS), list(DERIVED_SCHEMAS)],
    ).fetchall():
        con.execute(f'drop {kind} if exists "{schema}"."{name}" cascade')
        dropped.append(f"{schema}.{name}")
    for relation in DERIVED_TABLES:
        if table_exists(con, *relation.split(".")):
            con.execute(f"drop table {relation}")
            dropped.append(relation)
    return dropped


def rewrite_database(path: Path) -> int:
    """Copy the live contents of the DuckDB file at ``path`` into a new file and put it in its place.

    Returns the size in bytes of the new file. The old file (and its write-ahead log) is gone afterwards;
    a crash before the rename leaves the old file untouched and a ``.rewrite`` file that the next call
    replaces.
    """
    fresh = path.with_name(path.name + ".rewrite")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    # replay and fold any write-ahead log into the old file first
    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    # Should the copy spill, it spills beside the database, not into DuckDB's default ./.tmp of whatever
    # folder the process was started in.
    con = duckdb.connect(config={"temp_directory": str(path.with_name(path.name + ".rewrite.tmp"))})
    try:
        con.execute(f"attach {_literal(path)} as old_db (read_only)")
        con.execute(f"attach {_literal(fresh)} as fresh_db")
        con.execute("copy from database old_db to fresh_db")
        con.execute("detach old_db")
        con.execute("checkpoint fresh_db")
        con.execute("detach fresh_db")
    finally:
        con.close()
    with open(fresh, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(fresh, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    size = path.stat().st_size
    log.info("rewrote %s without freed blocks (%d bytes)", path, size)
    return size


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
