"""Validate what is new: a raw or staging suite checks each delivery's rows once, until they change.

A monthly run adds one month's deliveries to tables holding years of them. Row-level expectations (a
code in its set, a pseudonym of the right form, a date within bounds) give the same answer for a row
every time as long as the row and the suite are unchanged, so a suite validates them only on the rows of
deliveries it has not validated cleanly before. Every other expectation (row counts, uniqueness, a share
allowed to be missing with ``mostly``) is about the table as a whole and still runs on every row, on a
frame of only the columns it needs.

What counts as "unchanged" is measured, not assumed: ``meta.validated_deliveries`` keeps, per suite and
delivery, the row count and a digest of the rows' contents (a sum of DuckDB row hashes over the columns
the suite reads) with a digest of the suite's row-level expectations. A delivery is validated again when
either digest differs: rows corrected, deleted or re-keyed in place, a staging row changed by a new seed
or model, a suite edited. A delivery with a failing row-level expectation (blocking or warning) is not
recorded, so it is validated, and reported, again in every run until it is fixed; a steward sees the same
verdict as from a validation of every row. ``QualitySettings.revalidate_all_rows`` validates everything.

Marts are rebuilt as a whole each run and have no delivery of their own: their suites read every row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

log = logging.getLogger(__name__)

STATE_TABLE = "meta.validated_deliveries"
DELIVERY_COLUMN = "delivery_id"

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
    """A suite split into what runs on the new deliveries' rows and what runs on the whole table."""

    row_level: list[dict[str, Any]]
    whole_table: list[dict[str, Any]]
    whole_table_columns: list[str]  # the projection the whole-table part needs (at least one column)
    digest: str  # of the row-level expectations: editing them invalidates every record

    @property
    def needs_every_column(self) -> bool:
        """``expect_table_columns_to_match_set`` and its kind judge the table's columns: no projection."""
        return any(e["type"].startswith(("expect_table_column", "expect_table_columns")) for e in self.whole_table)


def plan_suite(expectations: list[dict[str, Any]]) -> SuitePlan:
    row_level = [e for e in expectations if is_row_level(e)]
    whole = [e for e in expectations if not is_row_level(e)]
    columns = list(dict.fromkeys(c for e in whole for c in expectation_columns(e))) or [DELIVERY_COLUMN]
    digest = hashlib.sha256(json.dumps(row_level, sort_keys=True).encode()).hexdigest()[:16]
    return SuitePlan(row_level, whole, columns, digest)


@dataclass
class Pending:
    """Which of a relation's deliveries a suite's row-level part must validate in this run."""

    digests: dict[str | None, tuple[int, str]]  # delivery id -> (rows, content digest), every delivery
    pending: list[str | None] = field(default_factory=list)  # None: rows without a delivery id

    @property
    def rows(self) -> int:
        return sum(count for count, _ in self.digests.values())

    @property
    def pending_rows(self) -> int:
        return sum(self.digests[d][0] for d in self.pending)

    @property
    def reused(self) -> int:
        """Deliveries whose rows were validated before and are unchanged."""
        return len(self.digests) - len(self.pending)

    def where(self) -> tuple[str, list[Any]]:
        """A filter (and its parameter) selecting the pending deliveries' rows."""
        ids = [d for d in self.pending if d is not None]
        clause = f"list_contains(?::varchar[], {DELIVERY_COLUMN})"
        if None in self.pending:
            clause = f"({clause} or {DELIVERY_COLUMN} is null)"
        return clause, [ids]


def content_digests(con: duckdb.DuckDBPyConnection, relation: str,
                    columns: list[str]) -> dict[str | None, tuple[int, str]]:
    """Rows and a digest of their contents per delivery: the sum of each row's hash over ``columns``.

    A sum rather than an exclusive or, so that two equal rows do not cancel out. Computed in DuckDB in
    about 0.1 s per 200,000 raw rows; a staging view costs the view's own evaluation on top.
    """
    rows = con.execute(f"select {DELIVERY_COLUMN}, count(*), sum(hash({', '.join(columns)}))::varchar "
                       f"from {relation} group by {DELIVERY_COLUMN}").fetchall()
    return {delivery: (count, digest) for delivery, count, digest in rows}


def recorded(con: duckdb.DuckDBPyConnection, suite: str, suite_digest: str) -> dict[str, tuple[int, str]]:
    """Deliveries the suite (in this version) validated cleanly, with the rows and digest it saw."""
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'meta' "
                         "and table_name = 'validated_deliveries'").fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(f"select delivery_id, row_count, content_digest from {STATE_TABLE} "
                       "where suite = ? and suite_digest = ?", [suite, suite_digest]).fetchall()
    return {delivery: (count, digest) for delivery, count, digest in rows}


def pending_deliveries(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], suite: str,
                       suite_digest: str, revalidate_all: bool = False) -> Pending:
    digests = content_digests(con, relation, columns)
    done = {} if revalidate_all else recorded(con, suite, suite_digest)
    pending = [d for d, seen in digests.items() if d is None or done.get(d) != seen]
    return Pending(digests, sorted(pending, key=lambda d: (d is None, d or "")))


def record_validated(con: duckdb.DuckDBPyConnection, suite: str, suite_digest: str, pending: Pending,
                     failed: Iterable[str | None], run_id: str | None) -> int:
    """Record the pending deliveries that passed every row-level expectation; forget records that no
    longer hold (another suite version, a delivery gone or validated again). Returns how many it recorded."""
    failing = set(failed)
    clean = [d for d in pending.pending if d is not None and d not in failing]
    present = [d for d in pending.digests if d is not None]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("create schema if not exists meta")
    con.execute(f"""create table if not exists {STATE_TABLE} (
        suite varchar not null, suite_digest varchar not null, delivery_id varchar not null,
        row_count bigint not null, content_digest varchar not null, run_id varchar, validated_at timestamp not null)""")
    con.execute("begin")
    try:
        con.execute(f"delete from {STATE_TABLE} where suite = ? and (suite_digest <> ? "
                    "or not list_contains(?::varchar[], delivery_id) or list_contains(?::varchar[], delivery_id))",
                    [suite, suite_digest, present, [d for d in pending.pending if d is not None]])
        if clean:
            con.executemany(f"insert into {STATE_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
                            [[suite, suite_digest, d, *pending.digests[d], run_id, now] for d in clean])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return len(clean)
