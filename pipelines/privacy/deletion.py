"""Deletion: deliveries past their retention period, and everything derived from given source records.

Two commands, one procedure. What goes, in one transaction:

- the raw rows (``raw.*``) and quarantine rows (``meta.quarantine``) of the deliveries or records,
- the person registry's rows of source records that no longer have any raw row, every other row of the
  restricted schemas that names such a record (review queue), and the merge/split history of persons
  who have no record left,
- every dbt-built table (intermediate, marts): they are derived and are rebuilt from what is left.

Then the stewards' review files lose the records' entries, the landing zone loses the files (retention)
or the records' rows in the files (deletion request: the file is rewritten and ingested again, so that
the delivery register and quarantine describe the file as it now is), the DuckDB file is rewritten so
the deleted rows' bytes are gone from it (``database_file.py``), and the build job links the remaining
records anew and publishes a release: links that rested on a deleted record disappear with it.
A row in ``meta.deletions`` records what was done: when, which kind, the requester's reference, how many
records and rows, never an identifier.

Releases published before the deletion are not changed: they hold suppressed aggregates only, from
which no person can be singled out, and they document what was published when.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.config import data_paths
from pipelines.ingest.contract import Contract, all_contracts
from pipelines.ingest.delivery import delivery_files, ingest_file
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey, ensure_key_matches_warehouse
from pipelines.privacy.database_file import drop_derived_tables, rewrite_database
from pipelines.privacy.landing import remove_rows, rows_of_records
from pipelines.privacy.references import delete_references, rewrite_review_files
from pipelines.runlock import run_lock
from pipelines.warehouse import table_exists

log = logging.getLogger(__name__)

DELETIONS_DDL = """
create schema if not exists meta;
create table if not exists meta.deletions (
    deleted_at timestamp, kind varchar, reference varchar, agency varchar, city varchar, records integer,
    raw_rows integer, quarantine_rows integer, registry_rows integer, persons_removed integer,
    files_rewritten integer, files_deleted integer
);
"""


@dataclass
class DeletionReport:
    kind: str  # 'retention' or 'request'
    reference: str
    records: int = 0
    raw_rows: int = 0
    quarantine_rows: int = 0
    registry_rows: int = 0
    persons_removed: int = 0
    files_rewritten: int = 0
    files_deleted: int = 0
    deliveries: list[str] = field(default_factory=list)
    database_bytes: int = 0
    build_success: bool | None = None
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        out = [f"{self.kind} ({self.reference}): {verb} {self.records} source records, {self.raw_rows} raw rows, "
               f"{self.quarantine_rows} quarantine rows, {self.registry_rows} registry rows; "
               f"{self.persons_removed} persons have no record left"]
        if self.deliveries:
            out.append(f"  deliveries: {', '.join(self.deliveries)}")
        out.append(f"  landing zone: {self.files_deleted} files deleted, {self.files_rewritten} files rewritten")
        if not self.dry_run:
            out.append(f"  warehouse file rewritten ({self.database_bytes:,} bytes)")
        if self.build_success is not None:
            out.append("  relinked and published: " + ("ok" if self.build_success else "FAILED (see the Dagster run)"))
        return out


# --- (a) retention ----------------------------------------------------------------------------------

def months_before(as_of: str, months: int) -> str:
    """The first month that is kept: ``as_of`` (YYYY-MM) minus ``months`` months, plus one."""
    year, month = (int(x) for x in as_of.split("-"))
    index = year * 12 + (month - 1) - months + 1
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def delete_expired(retention_months: int, as_of: str | None = None, dry_run: bool = False,
                   rebuild: bool = True) -> DeletionReport:
    """Delete every delivery whose month lies more than ``retention_months`` before ``as_of`` (default: now).

    With a retention of 24 months and as of 2026-11, deliveries up to 2024-11 are deleted and 2024-12 is kept.
    """
    if retention_months < 1:
        raise ValueError("the retention period must be at least one month")
    as_of = as_of or dt.date.today().strftime("%Y-%m")
    first_kept = months_before(as_of, retention_months)
    report = DeletionReport("retention", f"{retention_months} months as of {as_of}: before {first_kept}",
                            dry_run=dry_run)
    paths = data_paths()
    with run_lock("deletion of expired deliveries (python -m pipelines.privacy delete-expired)"):
        con = duckdb.connect(str(paths.warehouse), read_only=dry_run)
        try:
            expired = con.execute(
                """select delivery_id, agency, city, delivery_month, file_name from meta.deliveries
                   where delivery_month < ? and coalesce(status, '') <> 'deleted' order by all""",
                [first_kept]).df()
            report.deliveries = sorted(set(expired["file_name"]))
            current = expired  # every attempt's rows go, superseded ones hold none any more
            gone_records = _records_only_in(con, current)
            report.records = len(gone_records)
            report.raw_rows = _count_raw(con, current)
            report.quarantine_rows = _count_quarantine(con, current)
            files = expired_landing_files(paths.landing, first_kept)
            report.files_deleted = len(files)
            if dry_run:
                report.registry_rows, report.persons_removed = _count_derived(con, gone_records)
                return report
            con.execute("begin transaction")
            try:
                _delete_raw_of_deliveries(con, current)
                con.execute("update meta.deliveries set status = 'deleted', superseded = true, message = ? "
                            "where delivery_month < ? and coalesce(status, '') <> 'deleted'",
                            [f"deleted after the retention period ({report.reference})", first_kept])
                refs = _register_refs(con, gone_records)
                report.registry_rows, report.persons_removed = _delete_derived_of(con, refs)
                _log(con, report, agency=None, city=None)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        finally:
            con.close()
        rewrite_review_files(remove=set(gone_records["record_ref"]))
        for file in files:
            file.unlink(missing_ok=True)
            _remove_empty_folders(file.parent, paths.landing)
        report.database_bytes = rewrite_database(paths.warehouse)
        if rebuild:
            report.build_success = _rebuild()
    return report


def expired_landing_files(landing: Path, first_kept: str) -> list[Path]:
    """Every file in a month folder of the landing zone before ``first_kept``, registered or not: a late or
    refused delivery of an expired month is as old as the rest of it."""
    files = []
    for agency in all_contracts():
        folder = landing / agency
        if folder.is_dir():
            files += [f for month in folder.iterdir() if month.is_dir() and month.name < first_kept
                      for f in month.rglob("*") if f.is_file()]
    return sorted(files)


# --- (b) a deletion request ----------------------------------------------------------------------------

def delete_records(agency: str, city: str, record_ids: Sequence[str], key: PseudonymKey, reference: str,
                   dry_run: bool = False, rebuild: bool = True) -> DeletionReport:
    """Delete everything derived from the agency's records ``record_ids`` (its own ids, e.g. Aktenzeichen).

    The ids are pseudonymised with the key, as at ingest, to find the records; they are not stored.
    """
    contracts = all_contracts()
    if agency not in contracts:
        raise ValueError(f"unknown agency {agency!r}; known: {', '.join(contracts)}")
    if not record_ids:
        raise ValueError("no record ids given")
    contract = contracts[agency]
    encoder = Encoder(key)
    refs = encoder.pseudonym(pd.Series(list(record_ids), dtype="object"), f"record|{agency}|{city}")
    targets = pd.DataFrame({"agency": agency, "city": city, "record_ref": refs}).dropna().drop_duplicates()
    report = DeletionReport("request", reference, records=len(targets), dry_run=dry_run)
    paths = data_paths()
    with run_lock("deletion request (python -m pipelines.privacy delete-records)"):
        con = duckdb.connect(str(paths.warehouse), read_only=dry_run)
        try:
            ensure_key_matches_warehouse(con, key)
            deliveries = con.execute(
                """select delivery_id, agency, city, delivery_month, file_name from meta.deliveries
                   where agency = ? and city = ? and status = 'loaded' and not superseded order by all""",
                [agency, city]).df()
            in_files = _rows_in_landing(paths.landing, contract, city, deliveries, record_ids)
            con.register("deleted_records", targets)
            report.raw_rows = con.execute(
                f"select count(*) from raw.{contract.table} r join deleted_records d using (city, record_ref)"
            ).fetchone()[0]
            report.quarantine_rows = _count_quarantine_rows(con, in_files)
            report.files_rewritten = len(in_files)
            if dry_run:
                report.registry_rows, report.persons_removed = _count_derived(con, targets)
                return report
            con.execute("begin transaction")
            try:
                con.execute(f"delete from raw.{contract.table} r using deleted_records d "
                            "where r.city = d.city and r.record_ref = d.record_ref")
                _delete_quarantine_rows(con, in_files)
                report.registry_rows, report.persons_removed = _delete_derived_of(
                    con, targets[["agency", "record_ref"]])
                _log(con, report, agency=agency, city=city)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            con.unregister("deleted_records")
            rewrite_review_files(remove=set(targets["record_ref"]))
            _rewrite_landing_files(con, contract, in_files, encoder, reference)
        finally:
            con.close()
        report.database_bytes = rewrite_database(paths.warehouse)
        if rebuild:
            report.build_success = _rebuild()
    return report


def _rows_in_landing(landing: Path, contract: Contract, city: str, deliveries: pd.DataFrame,
                     record_ids: Iterable[str]) -> dict[tuple[str | None, str, str, str], list[int]]:
    """(delivery_id or None, city, month, file) -> row numbers of the records, for every file of the agency
    and city in the landing zone: loaded deliveries, and also refused or replaced files, which hold the
    same clear text. ``delivery_id`` names the loaded delivery a file is, else None."""
    current = {(m, f): d for d, m, f in zip(deliveries["delivery_id"], deliveries["delivery_month"],
                                          deliveries["file_name"], strict=True)}
    found: dict[tuple[str | None, str, str, str], list[int]] = {}
    ids = list(record_ids)
    folder = landing / contract.agency
    months = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    for month in months:
        for path, file_city in delivery_files(landing, contract, month):
            if file_city != city:
                continue
            rows = rows_of_records(path, contract, ids)
            if rows:
                found[(current.get((month, path.name)), city, month, path.name)] = rows
    return found


def _count_quarantine_rows(con: duckdb.DuckDBPyConnection, in_files: dict) -> int:
    return sum(con.execute("select count(*) from meta.quarantine where delivery_id = ? "
                           "and list_contains(?, source_row)", [key[0], rows]).fetchone()[0]
               for key, rows in in_files.items() if key[0] is not None)


def _delete_quarantine_rows(con: duckdb.DuckDBPyConnection, in_files: dict) -> None:
    for key, rows in in_files.items():
        if key[0] is None:
            continue
        con.execute("delete from meta.quarantine where delivery_id = ? and list_contains(?, source_row)",
                    [key[0], rows])


def _rewrite_landing_files(con: duckdb.DuckDBPyConnection, contract: Contract, in_files: dict, encoder: Encoder,
                           reference: str) -> None:
    """Remove the rows from the files and ingest them again: register and quarantine describe the new file."""
    landing = data_paths().landing
    run_id = f"deletion-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    for (delivery_id, city, month, file_name), rows in in_files.items():
        path = landing / contract.agency / month / file_name
        removed = remove_rows(path, contract, rows)
        if delivery_id is None:
            continue  # a refused or replaced file: nothing of it is loaded
        outcome = ingest_file(path, city, month, contract, encoder, con, run_id)
        con.execute("update meta.deliveries set message = message || ? where delivery_id = ? and run_id = ?",
                    [f"; {removed} rows removed by deletion request {reference}", outcome.delivery.delivery_id,
                     run_id])


# --- shared steps -----------------------------------------------------------------------------------

def _records_only_in(con: duckdb.DuckDBPyConnection, deliveries: pd.DataFrame) -> pd.DataFrame:
    """(agency, record_ref) of records whose every raw row belongs to the given deliveries."""
    frames = []
    for agency, contract in all_contracts().items():
        ids = deliveries.loc[deliveries["agency"] == agency, "delivery_id"].tolist()
        if not ids or not table_exists(con, "raw", contract.table):
            continue
        frames.append(con.execute(
            f"""select ? as agency, record_ref from raw.{contract.table} group by record_ref
                having bool_and(list_contains(?, delivery_id))""", [agency, ids]).df())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["agency", "record_ref"])


def _count_raw(con: duckdb.DuckDBPyConnection, deliveries: pd.DataFrame) -> int:
    total = 0
    for agency, contract in all_contracts().items():
        ids = deliveries.loc[deliveries["agency"] == agency, "delivery_id"].tolist()
        if ids and table_exists(con, "raw", contract.table):
            total += con.execute(f"select count(*) from raw.{contract.table} where list_contains(?, delivery_id)",
                                 [ids]).fetchone()[0]
    return total


def _count_quarantine(con: duckdb.DuckDBPyConnection, deliveries: pd.DataFrame) -> int:
    return con.execute("select count(*) from meta.quarantine where list_contains(?, delivery_id)",
                       [deliveries["delivery_id"].tolist()]).fetchone()[0]


def _delete_raw_of_deliveries(con: duckdb.DuckDBPyConnection, deliveries: pd.DataFrame) -> None:
    for agency, contract in all_contracts().items():
        ids = deliveries.loc[deliveries["agency"] == agency, "delivery_id"].tolist()
        if ids and table_exists(con, "raw", contract.table):
            con.execute(f"delete from raw.{contract.table} where list_contains(?, delivery_id)", [ids])
    con.execute("delete from meta.quarantine where list_contains(?, delivery_id)", [deliveries["delivery_id"].tolist()])


def _register_refs(con: duckdb.DuckDBPyConnection, records: pd.DataFrame) -> pd.DataFrame:
    return records[["agency", "record_ref"]].drop_duplicates().reset_index(drop=True)


def _delete_derived_of(con: duckdb.DuckDBPyConnection, records: pd.DataFrame) -> tuple[int, int]:
    """Registry rows, references and history of the deleted records; dbt tables dropped. Returns
    (registry rows deleted, persons with no record left)."""
    con.register("deleted_refs_frame", records)
    con.execute("create or replace temp table deleted_refs as "
                "select distinct record_ref as ref from deleted_refs_frame")
    con.unregister("deleted_refs_frame")
    persons_removed = 0
    registry_rows = 0
    if table_exists(con, "registry", "person_registry"):
        con.execute("""create or replace temp table touched_persons as
                       select distinct person_key from registry.person_registry
                       where record_ref in (select ref from deleted_refs)""")
        deleted = delete_references(con, "deleted_refs")
        registry_rows = deleted.get("registry.person_registry", 0)
        con.execute("""create or replace temp table removed_persons as
                       select person_key from touched_persons
                       where person_key not in (select person_key from registry.person_registry)""")
        persons_removed = con.execute("select count(*) from removed_persons").fetchone()[0]
        if table_exists(con, "registry", "identity_history"):
            con.execute("""delete from registry.identity_history
                           where person_key in (select person_key from removed_persons)
                              or other_person_key in (select person_key from removed_persons)""")
    drop_derived_tables(con)
    return registry_rows, persons_removed


def _count_derived(con: duckdb.DuckDBPyConnection, records: pd.DataFrame) -> tuple[int, int]:
    """For a dry run: (registry rows of the records, persons who would have no record left)."""
    if not table_exists(con, "registry", "person_registry") or records.empty:
        return 0, 0
    con.register("dry_run_records", records[["agency", "record_ref"]])
    try:
        return con.execute("""
            with marked as (
                select r.person_key, d.record_ref is not null as goes
                from registry.person_registry r
                left join dry_run_records d on d.agency = r.agency and d.record_ref = r.record_ref)
            select count(*) filter (where goes),
                   (select count(*) from (select person_key from marked group by 1 having bool_and(goes)))
            from marked""").fetchone()
    finally:
        con.unregister("dry_run_records")


def _log(con: duckdb.DuckDBPyConnection, report: DeletionReport, agency: str | None, city: str | None) -> None:
    con.execute(DELETIONS_DDL)
    con.execute("insert into meta.deletions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [dt.datetime.now(dt.UTC).replace(tzinfo=None), report.kind, report.reference, agency, city,
                 report.records, report.raw_rows, report.quarantine_rows, report.registry_rows,
                 report.persons_removed, report.files_rewritten, report.files_deleted])


def _remove_empty_folders(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _rebuild() -> bool:
    from pipelines.runner import run_job

    return run_job("build_job", raise_on_error=False).success
