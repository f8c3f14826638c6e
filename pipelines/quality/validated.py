"""Validate what is new: a suite checks each row once, until the row or the suite changes.

A monthly run adds one month's deliveries to tables holding years of them. Row-level expectations (a
code in its set, a pseudonym of the right form, a date within bounds) give the same answer for a row
every time as long as the row and the suite are unchanged, so they read only the rows the suite has not
validated cleanly before. Every other expectation (row counts, uniqueness, a share allowed to be missing
with ``mostly``) is about the table as a whole and still reads every row, as a frame of only the columns
it needs.

What counts as "unchanged" is measured, not assumed: ``meta.validated_rows`` keeps, per suite, the hash
of every row it found valid (DuckDB's 64-bit ``hash`` over the columns the suite reads) with a digest of
the suite's row-level expectations. A row is new to the suite when its hash is not there: a new
delivery's row, a row corrected, re-keyed or rebuilt with other values (a staging row under a new seed,
a mart row of a person whose key changed), or any row after the suite's row-level expectations were
edited. Rows that fail a row-level expectation, blocking or warning, are not recorded, so they are
validated, and reported, again in every run until they are fixed: a steward sees the verdict that a
validation of every row gives. Two different rows sharing a 64-bit hash (about one in 10^13 for a
table of two million rows) is the one way a changed row could be taken as validated.
``QualitySettings.revalidate_all_rows`` validates every row.

Why rows and not deliveries: a record re-sent in a later month (a correction) leaves the staging view
with one row fewer in its old delivery. At a million persons the 24th month did that to every one of
the 69 older deliveries, so a per-delivery record would have validated everything again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

STATE_TABLE = "meta.validated_rows"
HASH_COLUMN = "validated_row_hash"

ROW_LEVEL_TYPES = frozenset({
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
})
"""Expectations whose verdict on a row depends on that row alone (``column_values_to_be_unique`` is a
column-values expectation in GX, but compares rows, so it is not one of them)."""


def is_row_level(expectation: dict[str, Any]) -> bool:
    """Whether the expectation judges each row on its own: its type, and no ``mostly`` share below 1
    (a share is a property of the whole column: 5 % missing over all rows is not 5 % of each month's)."""
    mostly = expectation.get("kwargs", {}).get("mostly")
    return expectation["type"] in ROW_LEVEL_TYPES and (mostly is None or float(mostly) >= 1.0)


def expectation_columns(expectation: dict[str, Any]) -> list[str]:
    """The columns an expectation reads, from its kwargs."""
    kwargs = expectation.get("kwargs", {})
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return columns + list(kwargs.get("column_list", []))


@dataclass(frozen=True)
class SuitePlan:
    """A suite split into what runs on the rows not validated before and what runs on the whole table."""

    row_level: list[dict[str, Any]]
    whole_table: list[dict[str, Any]]
    whole_table_columns: list[str]  # the projection the whole-table part reads
    digest: str  # of the row-level expectations: editing them invalidates every recorded row

    @property
    def needs_every_column(self) -> bool:
        """``expect_table_columns_to_match_set`` and its kind judge the table's columns: no projection."""
        return any(e["type"].startswith(("expect_table_column", "expect_table_columns")) for e in self.whole_table)

    @property
    def incremental(self) -> bool:
        """Whether validating part of the rows saves anything: row-level expectations and a projection."""
        return bool(self.row_level) and not self.needs_every_column


def plan_suite(expectations: list[dict[str, Any]]) -> SuitePlan:
    row_level = [e for e in expectations if is_row_level(e)]
    whole = [e for e in expectations if not is_row_level(e)]
    columns = list(dict.fromkeys(c for e in whole for c in expectation_columns(e)))
    digest = hashlib.sha256(json.dumps(row_level, sort_keys=True).encode()).hexdigest()[:16]
    return SuitePlan(row_level, whole, columns, digest)


def row_hash(columns: list[str]) -> str:
    """The SQL expression of a row's hash over ``columns`` (the columns the suite reads, in their order)."""
    return f"hash({', '.join(columns)})"


def has_state(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = 'meta' "
                            "and table_name = 'validated_rows'").fetchone()[0])


def not_validated(con: duckdb.DuckDBPyConnection, columns: list[str], suite: str, suite_digest: str,
                  revalidate_all: bool) -> tuple[str | None, list[Any]]:
    """A filter (and its parameters) selecting the rows the suite has not found valid before; None: all."""
    if revalidate_all or not has_state(con):
        return None, []
    return (f"{row_hash(columns)} not in (select row_hash from {STATE_TABLE} "
            "where suite = ? and suite_digest = ?)", [suite, suite_digest])


def record_validated(con: duckdb.DuckDBPyConnection, suite: str, suite_digest: str, every_row: pa.Array,
                     not_valid: np.ndarray) -> int:
    """Replace the suite's record with the hashes of the table's rows now known valid: every row's hash
    (``every_row``) but those of rows that failed or could not be judged (``not_valid``). Returns the
    number of distinct hashes recorded."""
    hashes = np.unique(every_row.to_numpy(zero_copy_only=False).astype(np.uint64))
    if len(not_valid):
        hashes = hashes[~np.isin(hashes, not_valid.astype(np.uint64))]
    now_valid = pa.table({"row_hash": pa.array(hashes, type=pa.uint64())})
    con.execute("create schema if not exists meta")
    con.execute(f"create table if not exists {STATE_TABLE} "
                "(suite varchar not null, suite_digest varchar not null, row_hash ubigint not null)")
    con.register("now_valid", now_valid)
    con.execute("begin")
    try:
        con.execute(f"delete from {STATE_TABLE} where suite = ?", [suite])
        con.execute(f"insert into {STATE_TABLE} select ?, ?, row_hash from now_valid", [suite, suite_digest])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("now_valid")
    return len(hashes)
