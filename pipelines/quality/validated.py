"""Validate what is new: a suite checks each row once, until the row or the suite changes.

A monthly run adds one month's deliveries to tables holding years of them. Row-level expectations (a
code in its set, a pseudonym of the right form, a date within bounds) give the same answer for a row
every time as long as the row and the suite are unchanged, so they read only the rows the suite has not
found valid before. Expectations about the table as a whole (row counts, uniqueness, a share allowed to
be missing with ``mostly``) still read every row, as a frame of only the columns they need (uniqueness
and null shares first on hashes, ``hashed_column_sql``); those about
the table's columns (``person_journey``'s ``expect_table_columns_to_match_set``) read a frame of every
column and no row.

What counts as "unchanged" is measured, not assumed: ``meta.validated_rows`` keeps, per suite, the hash
of every row it found valid (DuckDB's 64-bit ``hash`` over every column GX reads, all but the Bloom
filters) under a digest of the suite's row-level expectations, the columns' names and types and the GX
version. A row is new to the suite when its hash is not there: a new
delivery's row, a row corrected, re-keyed or rebuilt with other values (a staging row under a new seed,
a mart row of a person whose key changed), or any row after the suite's row-level expectations were
edited. Rows that fail a row-level expectation, blocking or warning, are not recorded, so they are
validated, and reported, again in every run until they are fixed: a steward sees the verdict that a
validation of every row gives. A changed row whose hash equals a recorded one is the one way a row could
pass unread: for each new row the chance is the recorded rows over 2^64, about one in 10^13 against two
million recorded rows, or one in 10^8 for a month of 100,000 new rows.
``QualitySettings.revalidate_all_rows`` validates every row. Tables under ``MIN_INCREMENTAL_ROWS`` (the
KPI marts) are validated whole, without a record.

Why rows and not deliveries: a record re-sent in a later month (a correction) leaves the staging table
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

from pipelines.quality.gx_suites import expectation_columns
from pipelines.warehouse import table_exists

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


HASHABLE_TYPES = frozenset({
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
})
"""Whole-table expectations that only compare a column's values for equality or ask whether they are null:
their text columns can be read as 64-bit hashes first (``hashed_column_sql``)."""


def is_row_level(expectation: dict[str, Any]) -> bool:
    """Whether the expectation judges each row on its own: its type, and no ``mostly`` share below 1
    (a share is a property of the whole column: 5 % missing over all rows is not 5 % of each month's)."""
    mostly = expectation.get("kwargs", {}).get("mostly")
    return expectation["type"] in ROW_LEVEL_TYPES and (mostly is None or float(mostly) >= 1.0)


@dataclass(frozen=True)
class SuitePlan:
    """A suite split into what runs on the rows not found valid before, what runs on the whole table,
    and what judges only the table's columns (run on a frame of no rows)."""

    row_level: list[dict[str, Any]]
    whole_table: list[dict[str, Any]]
    whole_table_columns: list[str] | None  # the projection the whole-table part reads; None: every column
    table_shape: list[dict[str, Any]]  # expect_table_columns_to_match_set and its kind
    digest: str  # of the row-level expectations (``meta`` left out): editing them invalidates the record
    hashed_columns: tuple[str, ...] = ()  # whole-table columns read only for equality or null-ness (HASHABLE_TYPES)

    @property
    def incremental(self) -> bool:
        """Whether validating part of the rows can save anything."""
        return bool(self.row_level)


def is_about_columns(expectation: dict[str, Any]) -> bool:
    """Expectations on the table's column names and count, which need every column but no row."""
    return expectation["type"].startswith("expect_table_column")


def plan_suite(expectations: list[dict[str, Any]]) -> SuitePlan:
    row_level = [e for e in expectations if is_row_level(e)]
    shape = [e for e in expectations if is_about_columns(e)]
    whole = [e for e in expectations if not is_row_level(e) and not is_about_columns(e)]
    columns: list[str] | None = list(dict.fromkeys(c for e in whole for c in expectation_columns(e.get("kwargs", {}))))
    if any("row_condition" in e.get("kwargs", {}) for e in whole):
        columns = None  # a condition may name any column
    judged = [{k: v for k, v in e.items() if k != "meta"} for e in row_level]  # severity and notes aside
    digest = hashlib.sha256(json.dumps(judged, sort_keys=True).encode()).hexdigest()[:16]
    hashed: tuple[str, ...] = ()
    if columns is not None:
        others = {c for e in whole if e["type"] not in HASHABLE_TYPES
                  for c in expectation_columns(e.get("kwargs", {}))}
        hashed = tuple(c for c in columns if c not in others)
    return SuitePlan(row_level, whole, columns, shape, digest, hashed)


def hashed_column_sql(column: str) -> str:
    """A column as its 64-bit hash, null staying null, for the HASHABLE_TYPES.

    Nulls are where they were, so a share of missing values is the same. Equal values have equal hashes,
    so values whose hashes are all distinct are all distinct: a suite that passes on the hashes passes on
    the values. Two distinct values can share a hash (a chance of about rows^2 / 2^65: one in 10^6 for 5
    million rows; the frame keeps all 64 bits, ``arrow_frame``'s nullable UInt64); so when anything fails on
    the hashes, the whole-table part runs again on the values, and that verdict is the one reported. At
    1,000,000 persons pandas finds duplicates among 4.9 million ``event_key`` texts in 3.4 s, among their
    hashes in 0.5 s. Text columns only (``checks.validate_target``): a float's NaN hashes to a value, where
    GX counts it as missing.
    """
    return f"case when {column} is not null then hash({column}) end as {column}"


RECORD_VERSION = "1"
"""Part of every record's digest: raise it when what a row hash stands for changes (``read_relation``'s
conversions, ``row_hash``)."""


def record_digest(plan: SuitePlan, described: list[tuple[str, str]]) -> str:
    """The digest a record is kept under: the suite's row-level expectations, the names and types of the
    columns hashed (DuckDB hashes ``5::INTEGER`` and ``5::BIGINT`` alike, so a changed type must change
    the digest), the GX version that judged the rows, and ``RECORD_VERSION``."""
    from importlib.metadata import version

    text = json.dumps([plan.digest, described, version("great_expectations"), RECORD_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def row_hash(columns: list[str]) -> str:
    """The SQL expression of a row's hash over ``columns`` (every column GX reads, in the table's order)."""
    return f"hash({', '.join(columns)})"


MIN_INCREMENTAL_ROWS = 50_000
"""Smaller tables (the KPI marts) are validated whole: recording their rows costs more than it saves."""
PRUNE_FACTOR = 1.5
"""A suite's record keeps the hashes of rows that have since changed or gone until it holds this many
times the table's rows; then it is rewritten with the current rows' hashes."""


def recorded_rows(con: duckdb.DuckDBPyConnection, suite: str, suite_digest: str) -> int:
    """How many row hashes the suite, in this version, has recorded as valid."""
    if not table_exists(con, *STATE_TABLE.split(".")):
        return 0
    return con.execute(f"select count(*) from {STATE_TABLE} where suite = ? and suite_digest = ?",
                       [suite, suite_digest]).fetchone()[0]


def record_validated(con: duckdb.DuckDBPyConnection, suite: str, suite_digest: str,
                     hashes: pa.Array | pa.ChunkedArray, not_valid: np.ndarray, replace: bool) -> None:
    """Record ``hashes`` but ``not_valid`` (rows that failed or could not be judged) as valid rows of the
    suite; ``replace``: instead of the suite's record so far (any version), else in addition to it."""
    con.execute("create schema if not exists meta")
    con.execute(f"create table if not exists {STATE_TABLE} "
                "(suite varchar not null, suite_digest varchar not null, row_hash ubigint not null)")
    con.register("checked_rows", pa.table({"row_hash": hashes.cast(pa.uint64())}))
    con.register("failed_rows", pa.table({"row_hash": pa.array(not_valid.astype(np.uint64), type=pa.uint64())}))
    con.execute("begin")
    try:
        if replace:
            con.execute(f"delete from {STATE_TABLE} where suite = ?", [suite])
        con.execute(f"insert into {STATE_TABLE} select distinct ?, ?, row_hash from checked_rows "
                    "where row_hash not in (select row_hash from failed_rows)", [suite, suite_digest])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("checked_rows")
        con.unregister("failed_rows")
