"""Great Expectations suites as asset checks, one per suite file in ``expectations/``.

A suite file named ``<schema>__<table>.json`` checks the warehouse relation ``<schema>.<table>`` and
appears in Dagster beside that asset (``raw``: the ingest asset of the agency's contract; ``staging``,
``marts``: the dbt model). Adding a suite file adds the check; nothing else needs to change.

Each expectation declares its severity (``meta.severity``): a failed ``blocking`` expectation fails the
check with severity ERROR, which stops the release; failed ``warning`` expectations alone fail it with
severity WARN, visible in the UI and the manifest but not stopping anything. The check's metadata holds
counts, the pseudonymous keys of a few failing rows and the delivery files they came from, and the path
of the run's Data Docs; never a value of a row.

Row-level expectations read only the rows the suite has not found valid before (new deliveries' rows,
rows changed since); the rest of the suite reads the whole table (``validated.py`` says why that gives
the verdict a validation of every row gives).
"""

import logging
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.config import EXPECTATIONS_DIR
from pipelines.ingest.contract import all_contracts
from pipelines.quality import data_docs
from pipelines.quality.gx_suites import SuiteResult, combine, load_suite_file, run_suite
from pipelines.quality.resources import QualitySettings
from pipelines.quality.validated import (
    HASH_COLUMN,
    MIN_INCREMENTAL_ROWS,
    PRUNE_FACTOR,
    STATE_TABLE,
    SuitePlan,
    hashed_column_sql,
    plan_suite,
    record_digest,
    record_validated,
    recorded_rows,
    row_hash,
)
from pipelines.resources import WarehouseResource

log = logging.getLogger(__name__)

SCHEMAS = ("raw", "staging", "marts")  # the release suite runs inside the release asset (publish)


@dataclass(frozen=True)
class SuiteTarget:
    """A suite file and the warehouse relation (and asset) it checks."""

    suite: str
    schema: str
    table: str
    agency: str | None  # whose delivery a failure points to (raw and staging), else None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.table])

    @property
    def check_name(self) -> str:
        return f"gx_{self.table}"


def suite_targets() -> list[SuiteTarget]:
    """Every suite file of the layers checked in the warehouse, with the agency it belongs to."""
    agency_of_table = {}
    for contract in all_contracts().values():
        agency_of_table[contract.table] = contract.agency
        agency_of_table[f"stg_{contract.table}"] = contract.agency
    targets = []
    for path in sorted(EXPECTATIONS_DIR.glob("*__*.json")):
        schema, table = path.stem.split("__", 1)
        if schema in SCHEMAS:
            targets.append(SuiteTarget(path.stem, schema, table, agency_of_table.get(table)))
    return targets


def readable_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """The relation's columns GX reads: all but Bloom filters (compared in linkage, not checked here)."""
    return [name for name, _ in readable_types(con, relation)]


def readable_types(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """The columns GX reads, with their DuckDB types."""
    return [(row[0], row[1]) for row in con.execute(f"describe {relation}").fetchall() if row[1] != "BIT"]


def read_relation(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str] | None = None,
                  where: str | None = None, params: list[Any] | None = None) -> pd.DataFrame:
    """The relation (``columns`` of it, the rows ``where`` selects) as a frame for GX: Bloom filters left out,
    DATE columns as ``datetime.date`` so that suites can bound them with ISO date strings, BOOLEAN columns
    with nulls as pandas' nullable booleans.

    Through Arrow rather than DuckDB's ``.df()``: the same frame (dtypes and values; compared on every
    suite's relation of the 100,000-person benchmark), made in 3.2 s instead of 20 s for the 4.9 million
    rows of ``person_journey`` at a million persons, which ``.df()`` spends converting strings.
    """
    columns = columns or readable_columns(con, relation)
    sql = f"select {', '.join(columns)} from {relation}" + (f" where {where}" if where else "")
    return arrow_frame(con.execute(sql, params or []).to_arrow_table())


def arrow_frame(table: pa.Table, nullable_uint64: bool = False) -> pd.DataFrame:
    """``nullable_uint64``: UBIGINT columns (hashes) as pandas' nullable UInt64, which keeps all 64 bits
    where a column with nulls would otherwise become float64."""
    mapper = {pa.uint64(): pd.UInt64Dtype()}.get if nullable_uint64 else None
    frame = table.to_pandas(date_as_object=True, types_mapper=mapper)
    for field in table.schema:  # a BOOLEAN column with nulls would arrive as objects
        if pa.types.is_boolean(field.type) and table.column(field.name).null_count:
            frame[field.name] = frame[field.name].astype("boolean")
    return frame


def delivery_files(con: duckdb.DuckDBPyConnection, delivery_ids: list[str]) -> list[str]:
    """The delivered file names (with agency and month) behind delivery ids, for a steward to look up."""
    if not delivery_ids:
        return []
    rows = con.execute(
        "select distinct agency, delivery_month, file_name from meta.deliveries where delivery_id in "
        "(select unnest(?::varchar[])) order by all", [sorted(set(delivery_ids))]).fetchall()
    return [f"{file_name} ({agency}, {month})" for agency, month, file_name in rows]


def current_deliveries(con: duckdb.DuckDBPyConnection, agency: str | None = None) -> list[str]:
    """The latest loaded delivery month per agency and city: what a check of derived tables rests on."""
    rows = con.execute("""
        select agency, city, max(delivery_month), arg_max(file_name, delivery_month)
        from meta.deliveries
        where status = 'loaded' and not superseded and (? is null or agency = ?)
        group by agency, city order by agency, city""", [agency, agency]).fetchall()
    return [f"{file_name} ({agency}, {city}, {month})" for agency, city, month, file_name in rows]


@dataclass
class Validation:
    """A suite's verdict on a relation and how many of its rows were read row by row (``validated.py``)."""

    result: SuiteResult
    rows: int  # rows of the relation
    rows_validated: int  # rows the row-level expectations read: all, or those not found valid before
    recorded: bool = False  # whether the rows found valid are recorded (else: every row was read, as always)


def validate_target(warehouse: WarehouseResource, target: SuiteTarget, run_id: str | None,
                    revalidate_all: bool = False) -> tuple[Validation, list[str]]:
    """Run the target's suite; row-level expectations on the rows not found valid before (``validated.py``).

    Returns the validation and the delivery files a steward should look at: those of the failing rows,
    or, for a derived table, the deliveries it rests on.
    """
    plan = plan_suite(load_suite_file(target.suite)["expectations"])
    record = None
    with warehouse.connect(read_only=True) as con:
        described = readable_types(con, target.relation)
        columns = [name for name, _ in described]
        digest = record_digest(plan, described)
        rows = con.execute(f"select count(*) from {target.relation}").fetchone()[0] if plan.incremental else 0
        if plan.incremental and rows >= MIN_INCREMENTAL_ROWS:
            known = 0 if revalidate_all else recorded_rows(con, target.suite, digest)
            # text columns only: a float's NaN would hash to a value, where GX counts it as missing
            as_hashes = [name for name, kind in described if name in plan.hashed_columns and kind == "VARCHAR"]
            validation, record = _validate_new_rows(con, target, plan, digest, columns, rows, known, run_id,
                                                    as_hashes)
        else:
            frame = read_relation(con, target.relation, columns=columns)
            validation = Validation(run_suite(target.suite, frame, run_id=run_id), len(frame), len(frame))
            del frame
        # the files the failing rows came from; for derived tables, the deliveries they rest on
        example_ids = [e["delivery_id"] for e in validation.result.examples if e.get("delivery_id")]
        deliveries = (delivery_files(con, example_ids) if example_ids
                      else current_deliveries(con, target.agency))
    if record is not None:
        hashes, not_valid, replace = record
        try:
            if replace or len(hashes) > len(not_valid):
                with warehouse.connect() as con:
                    record_validated(con, target.suite, digest, hashes, not_valid, replace=replace)
            validation.recorded = True
        except duckdb.Error as error:  # the verdict stands; the next run reads these rows again
            log.warning("%s: the rows found valid could not be recorded (%s)", target.suite, error)
    return validation, deliveries


def _validate_new_rows(con: duckdb.DuckDBPyConnection, target: SuiteTarget, plan: SuitePlan, digest: str,
                       columns: list[str], rows: int, known: int, run_id: str | None,
                       as_hashes: list[str]) -> tuple[Validation, tuple[pa.Array, np.ndarray, bool]]:
    """The suite in up to three parts: the table's columns on no rows, the whole-table expectations on the
    columns they need, the row-level ones on the rows whose hash the suite has not recorded (``known``
    recorded hashes; none: every row, read once). Returns the validation and what to record: the hashes
    of rows found valid, those of rows that are not, and whether they replace the record."""
    relation, hashed = target.relation, row_hash(columns)
    with_hash = [*columns, f"{hashed} as {HASH_COLUMN}"]
    if not known:
        new = whole = read_relation(con, relation, columns=with_hash)
        every_row = pa.array(new[HASH_COLUMN].to_numpy(), type=pa.uint64())
    else:
        projection = columns if plan.whole_table_columns is None else plan.whole_table_columns
        selected = [hashed_column_sql(c) if c in as_hashes else c for c in projection]
        read = con.execute(f"select {', '.join([*selected, f'{hashed} as {HASH_COLUMN}'])} "
                           f"from {relation}").to_arrow_table()
        every_row = read.column(HASH_COLUMN)
        whole = arrow_frame(read.drop_columns([HASH_COLUMN]), nullable_uint64=bool(as_hashes))
        del read
        new = read_relation(con, relation, columns=with_hash, params=[target.suite, digest],
                            where=f"{hashed} not in (select row_hash from {STATE_TABLE} "
                            "where suite = ? and suite_digest = ?)")
    parts = []
    if plan.table_shape:  # a frame of every column (but the hash) and no row
        parts.append(run_suite(target.suite, read_relation(con, relation, columns=columns, where="false"),
                               run_id=run_id, expectations=plan.table_shape, part="columns"))
    if plan.whole_table:
        part = run_suite(target.suite, whole, run_id=run_id, expectations=plan.whole_table, part="whole_table")
        if known and as_hashes and not (part.success and not part.failed_warning):
            # read as hashes (``hashed_column_sql``), a failure may be a collision: the values decide
            del whole
            whole = read_relation(con, relation, columns=projection)
            part = run_suite(target.suite, whole, run_id=run_id, expectations=plan.whole_table, part="whole_table")
        parts.append(part)
    del whole
    parts.append(run_suite(target.suite, new, run_id=run_id, expectations=plan.row_level, part="new_rows",
                           attribute_to=HASH_COLUMN))
    failing = parts[-1].failing_values
    new_rows = new[HASH_COLUMN].to_numpy()
    # rows that failed are not recorded; when the failures cannot be told apart, no new row is
    not_valid = new_rows if failing is None else np.array(sorted(failing), dtype=np.uint64)
    replace = not known or known + len(new_rows) > PRUNE_FACTOR * rows  # else: add the new valid rows
    record = (every_row if replace else pa.array(new_rows, type=pa.uint64()), not_valid, replace)
    return Validation(combine(target.suite, parts), rows, len(new_rows)), record


def suite_check_result(result: SuiteResult, rows: int, deliveries: list[str],
                       agency: str | None, validation: Validation | None = None) -> dg.AssetCheckResult:
    """Failed blocking expectations -> ERROR; only failed warnings -> WARN; counts and keys as metadata."""
    passed = not result.failed_blocking and not result.failed_warning
    severity = dg.AssetCheckSeverity.WARN if result.success else dg.AssetCheckSeverity.ERROR
    metadata: dict[str, Any] = {
        "rows": rows,
        "expectations": result.evaluated,
        "failed_blocking": len(result.failed_blocking),
        "failed_warning": len(result.failed_warning),
        "failing_rows": result.failing_rows,
        "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in result.failed_blocking + result.failed_warning)
                                        or "none"),
        "details": dg.MetadataValue.json(result.details),
        "examples": dg.MetadataValue.json(result.examples),
        "deliveries": "\n".join(deliveries) or "n/a",
    }
    description = result.summary()
    if validation is not None:
        metadata["rows_validated"] = validation.rows_validated
        if validation.recorded:
            description += (f" (row by row: {validation.rows_validated} of {validation.rows} rows, those not "
                            "found valid before)")
    if agency:
        metadata["agency"] = agency
    if result.data_docs:
        metadata["data_docs"] = dg.MetadataValue.path(result.data_docs)
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR if passed else severity,
                               description=description, metadata=metadata)


def build_gx_check(target: SuiteTarget) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=target.asset_key,
        name=target.check_name,
        blocking=True,
        description=f"Great Expectations suite expectations/{target.suite}.json on {target.relation} "
        "(blocking expectations stop the release, warnings are reported; row-level expectations read "
        "the rows not found valid before).",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
               quality_settings: QualitySettings) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        data_docs.prune(quality_settings.data_docs_keep_runs, current=run_id)
        validation, deliveries = validate_target(warehouse, target, run_id,
                                                 revalidate_all=quality_settings.revalidate_all_rows)
        return suite_check_result(validation.result, validation.rows, deliveries, target.agency, validation)

    return _check


gx_checks = [build_gx_check(target) for target in suite_targets()]
